//! Extractors: bearer-token guards, size-limited raw bodies, and query strings whose errors are
//! JSON like every other error.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::Error;
use crate::domain::IncidentId;
use crate::ingest::signature::bearer_matches;

/// Largest webhook or API body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Reads a whole body, refusing more than [`BODY_LIMIT`] bytes with 413.
pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Error> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(Error::PayloadTooLarge { limit: BODY_LIMIT });
    }
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| Error::PayloadTooLarge { limit: BODY_LIMIT })
}

/// A raw body (at most 1 MiB) with its headers, for handlers that verify signatures themselves.
pub struct RawBody {
    pub headers: HeaderMap,
    pub bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Error;
    async fn from_request(req: Request, _: &S) -> Result<Self, Error> {
        let (parts, body) = req.into_parts();
        let bytes = read_body(&parts.headers, body).await?;
        Ok(Self {
            headers: parts.headers,
            bytes,
        })
    }
}

/// The `{id}` of an incident route, parsed: a handler that takes it has a valid incident id. A
/// malformed id is a 400 naming the problem.
pub struct IncidentPath(pub IncidentId);

impl<S: Send + Sync> FromRequestParts<S> for IncidentPath {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, value)| value)
            .ok_or_else(|| Error::Internal("an incident route without {id}".into()))?;
        Ok(Self(IncidentId::parse(raw)?))
    }
}

fn authorization(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Guard for `/api/*`: the API token when one is configured. Without one the service only
/// listens on loopback (start-up refuses anything else), so the API is open to this machine, when
/// the request names it as its Host (a loopback name or the base URL's): another site's page whose
/// name was re-pointed here (DNS rebinding) gets 403.
pub struct ApiAuth;

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        match &state.config.api_token {
            None if crate::http::host::host_allowed(state, &parts.headers) => Ok(ApiAuth),
            None => Err(Error::Forbidden(
                "the Host header names another site: without POSTMORTEM_API_TOKEN the API answers only requests sent to a loopback name or POSTMORTEM_BASE_URL's host".into(),
            )),
            Some(token) if bearer_matches(token, authorization(parts)) => Ok(ApiAuth),
            Some(_) => Err(Error::Unauthorized(
                "missing or wrong bearer token (Authorization: Bearer <POSTMORTEM_API_TOKEN>)"
                    .into(),
            )),
        }
    }
}

/// Guard for change events and lineage: the ingest token; unset, those routes answer 503.
pub struct IngestAuth;

impl FromRequestParts<AppState> for IngestAuth {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        match &state.config.ingest_token {
            None => Err(Error::Unavailable(
                "change ingest is not configured: set POSTMORTEM_INGEST_TOKEN".into(),
            )),
            Some(token) if bearer_matches(token, authorization(parts)) => Ok(IngestAuth),
            Some(_) => Err(Error::Unauthorized(
                "missing or wrong bearer token (Authorization: Bearer <POSTMORTEM_INGEST_TOKEN>)"
                    .into(),
            )),
        }
    }
}

/// `Query<T>` whose rejection is a JSON 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| Error::BadRequest(format!("query string: {}", e.body_text())))
    }
}
