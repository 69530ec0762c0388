//! Extractors for the pages: a rejected query, form or incident id is the error page (400) naming
//! the problem, not a bare text response.

use axum::extract::{Form, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::PageError;
use crate::domain::IncidentId;
use crate::http::error::Error;
use crate::http::extract::IncidentPath;

/// A query string whose rejection is a 400 page naming the problem.
pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for PageQuery<T>
{
    type Rejection = PageError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, PageError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| PageQuery(q))
            .map_err(|e| {
                PageError(Error::BadRequest(format!(
                    "query string: {}",
                    e.body_text()
                )))
            })
    }
}

/// The `{id}` of an incident page, parsed; a malformed id is the error page (400).
pub(super) struct PageIncident(pub IncidentId);

impl<S: Send + Sync> FromRequestParts<S> for PageIncident {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
        let IncidentPath(id) = IncidentPath::from_request_parts(parts, state).await?;
        Ok(Self(id))
    }
}

/// A urlencoded form whose rejection is a 400 page naming the problem.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        Form::<T>::from_request(req, state)
            .await
            .map(|Form(v)| PageForm(v))
            .map_err(|e| PageError(Error::BadRequest(format!("form: {}", e.body_text()))))
    }
}
