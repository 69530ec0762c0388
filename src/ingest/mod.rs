//! Vendor input into domain types: PagerDuty V3 webhooks, change events (ours, PagerDuty Change
//! Events, GitHub deployments), OpenLineage RunEvents, the history import format and the
//! PagerDuty REST backfill. Payload structs stay private to their file. Signature checks live in
//! `signature`; the HTTP extractors in `http::signed` run them on the raw body, so a handler that
//! compiles has a verified body.

pub mod backfill;
pub mod changes;
pub mod github;
pub mod history;
pub mod openlineage;
pub mod pagerduty;
pub mod signature;
pub mod slack;

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
