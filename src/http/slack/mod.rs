//! Slack: the `/postmortem` slash command at `POST /webhooks/slack/commands`. Every request is
//! checked with Slack's v0 signature on the raw body and refused (401) when its timestamp is more
//! than 300 s off; every correctly signed request gets a 200 with its answer (errors included)
//! inside, as Slack expects, within its 3 s. Work that takes longer answers through `response_url`.

#[allow(unused_imports)]
use super::openapi::ErrorBody;

use axum::routing::post;

use super::Router;

pub(super) mod commands;
pub(super) mod events;

use commands::*;
use events::*;

pub fn router() -> Router {
    Router::new()
        .route("/webhooks/slack/commands", post(command))
        .route("/webhooks/slack/events", post(events))
}
