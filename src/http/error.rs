//! One error type for every route: a status code and a JSON body `{"error": "...", "detail": ...}`.
//! 5xx bodies hide internals; the cause chain goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    Unavailable(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Store(e) if e.is_transient() || e.cannot_write() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Store(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable reason, also used as the `/metrics` rejection label.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::PayloadTooLarge { .. } => "too_large",
            Error::Unavailable(_) => "unavailable",
            Error::Store(e) if e.is_transient() => "busy",
            Error::Store(e) if e.cannot_write() => "unwritable",
            Error::Store(_) | Error::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let (error, detail): (String, Value) = match &self {
            Error::Store(e) if e.is_transient() => {
                ("the database is busy; retry shortly".into(), Value::Null)
            }
            // A full disk or a dropped database: nothing was stored; the sender retries, and
            // writes go through again once the cause passes.
            Error::Store(e) if e.cannot_write() => {
                tracing::error!(error = %e, "the database cannot take writes; answered 503");
                (
                    "the database cannot take writes right now; nothing was stored, retry shortly"
                        .into(),
                    Value::Null,
                )
            }
            Error::Store(_) | Error::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                ("internal error".into(), Value::Null)
            }
            // Not configured (or the database cannot take writes): say why in the log too, since
            // the sender only retries.
            Error::Unavailable(why) => {
                tracing::warn!(reason = %why, "answered 503");
                (why.clone(), Value::Null)
            }
            Error::PayloadTooLarge { limit } => (self.to_string(), json!({ "limit_bytes": limit })),
            other => (other.to_string(), Value::Null),
        };
        (status, Json(json!({ "error": error, "detail": detail }))).into_response()
    }
}

impl From<crate::ingest::BadPayload> for Error {
    fn from(e: crate::ingest::BadPayload) -> Self {
        Error::BadRequest(e.message)
    }
}

impl From<crate::review::ReviewError> for Error {
    fn from(e: crate::review::ReviewError) -> Self {
        use crate::review::ReviewError as R;
        match e {
            R::BadRequest(m) => Error::BadRequest(m),
            R::NotFound(m) => Error::NotFound(m),
            R::Conflict(m) => Error::Conflict(m),
            R::Store(e) => Error::Store(e),
            R::Internal(m) => Error::Internal(m),
        }
    }
}

impl From<crate::domain::Invalid> for Error {
    fn from(e: crate::domain::Invalid) -> Self {
        Error::BadRequest(e.0)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
