//! Webhooks in: vendor payloads are parsed here into domain events. Signature checks live in
//! `signature`; the HTTP extractors in `http::webhooks` use them, so a handler that compiles has a
//! verified body.

pub mod backfill;
pub mod changes;
pub mod github;
pub mod history;
pub mod openlineage;
pub mod pagerduty;
pub mod signature;

/// A payload that is not what its sender sends: becomes a 400 naming the problem.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BadPayload {
    pub message: String,
}

impl BadPayload {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
