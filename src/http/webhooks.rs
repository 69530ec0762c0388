//! Webhooks in: each verified on its raw bytes the way its sender signs, answered only after the
//! event is durably stored.

#[allow(unused_imports)]
use super::openapi::ErrorBody;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::json;

use super::error::Result;
use super::extract::{IngestAuth, RawBody};
use super::signed::{GitHubSigned, PagerDutySigned};
use super::{AppState, Router};
use crate::domain::Lineage;
use crate::ingest::{changes, github, openlineage, pagerduty};
use crate::store::writer::{IngestOp, IngestOutcome};

pub fn router() -> Router {
    Router::new()
        .route("/webhooks/pagerduty", post(pagerduty_webhook))
        .route("/webhooks/changes", post(change_events))
        .route("/webhooks/github", post(github_webhook))
        .route("/api/v1/lineage", post(lineage_event))
}

/// Counts the outcome by source and times the commit, whatever happened.
async fn observed<T>(
    state: &AppState,
    source: &str,
    work: impl Future<Output = Result<(IngestOutcome, T)>>,
) -> Result<(IngestOutcome, T)> {
    let started = Instant::now();
    let result = work.await;
    match &result {
        Ok((outcome, _)) => {
            let label = match outcome {
                IngestOutcome::Stored => "accepted",
                IngestOutcome::Duplicate => "duplicate",
            };
            state.metrics.webhook(source, label);
            state
                .metrics
                .ingest_latency
                .with_label_values(&[source])
                .observe(started.elapsed().as_secs_f64());
        }
        Err(e) => state.metrics.webhook(source, e.reason()),
    }
    result
}

/// PagerDuty V3 webhooks: <https://developer.pagerduty.com/docs/webhooks-overview>.
/// `X-PagerDuty-Signature: v1=<hex HMAC-SHA256>` over the raw body, any of several while a
/// secret rotates. A 4xx makes PagerDuty drop the event, a 5xx makes it retry: so an unset secret
/// is 503 (fix the config and nothing is lost) and a stored event is 202.
#[utoipa::path(post, path = "/webhooks/pagerduty", tag = "webhooks", request_body(content = Object, description = "PagerDuty V3 webhook, X-PagerDuty-Signature"), responses((status = 202, description = "Stored", body = Object), (status = 400, description = "Not a PagerDuty webhook", body = ErrorBody), (status = 401, description = "Bad or missing signature", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)))]
async fn pagerduty_webhook(
    State(state): State<AppState>,
    body: Result<PagerDutySigned>,
) -> Result<impl IntoResponse> {
    let (outcome, event_id) = observed(&state, "pagerduty", async {
        let PagerDutySigned(body) = body?;
        let webhook = pagerduty::parse(&body.bytes, &state.config)?;
        let event_id = webhook.event_id().to_string();
        let raw = String::from_utf8_lossy(&body.bytes).into_owned();
        let outcome = state
            .writer
            .submit(IngestOp::PagerDuty { raw, webhook })
            .await?;
        Ok((outcome, event_id))
    })
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": status_word(outcome), "event_id": event_id })),
    ))
}

fn status_word(o: IngestOutcome) -> &'static str {
    match o {
        IngestOutcome::Stored => "accepted",
        IngestOutcome::Duplicate => "duplicate",
    }
}

/// Our change events (one or an array) and PagerDuty Change Events, behind the ingest token.
#[utoipa::path(post, path = "/webhooks/changes", tag = "webhooks", request_body(content = Object, description = "A change event, an array of them, or a PagerDuty Change Event"), responses((status = 202, description = "Stored", body = Object), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)), security(("ingest_token" = [])))]
async fn change_events(
    State(state): State<AppState>,
    auth: Result<IngestAuth>,
    body: Result<RawBody>,
) -> Result<impl IntoResponse> {
    let (outcome, ids) = observed(&state, "changes", async {
        auth?;
        let body = body?;
        let list = changes::parse(&body.bytes, &state.config)?;
        let ids: Vec<String> = list.iter().map(|c| c.evidence_id()).collect();
        let outcome = state.writer.submit(IngestOp::Changes(list)).await?;
        Ok((outcome, ids))
    })
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": status_word(outcome), "evidence_ids": ids })),
    ))
}

/// GitHub `deployment_status` webhooks:
/// <https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status>.
/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>` over the raw body with `GITHUB_WEBHOOK_SECRET`.
/// A successful deployment becomes the change `change:github:<deployment id>`; `ping` and other
/// events are acknowledged and ignored.
#[utoipa::path(post, path = "/webhooks/github", tag = "webhooks", request_body(content = Object, description = "GitHub deployment_status, X-Hub-Signature-256"), responses((status = 202, description = "Stored or ignored", body = Object), (status = 400, description = "Not a GitHub webhook", body = ErrorBody), (status = 401, description = "Bad or missing signature", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)))]
async fn github_webhook(
    State(state): State<AppState>,
    body: Result<GitHubSigned>,
) -> Result<impl IntoResponse> {
    let (outcome, ids) = observed(&state, "github", async {
        let GitHubSigned(body) = body?;
        let event = body
            .headers
            .get("x-github-event")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if event != "deployment_status" {
            return Ok((IngestOutcome::Duplicate, vec![]));
        }
        match github::parse(&body.bytes, &state.config)? {
            Some(change) => {
                let ids = vec![change.evidence_id()];
                Ok((
                    state.writer.submit(IngestOp::Changes(vec![change])).await?,
                    ids,
                ))
            }
            None => Ok((IngestOutcome::Duplicate, vec![])),
        }
    })
    .await?;
    let status = if ids.is_empty() {
        "ignored"
    } else {
        status_word(outcome)
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": status, "evidence_ids": ids })),
    ))
}

/// OpenLineage RunEvents, as Marquez accepts them: <https://openlineage.io/apidocs/openapi/>.
/// Validated against the spec's JSON Schema (formats included); 201 once stored, idempotent by
/// run id and event type. Dataset and job events are valid but carry no run: acknowledged only.
#[utoipa::path(post, path = "/api/v1/lineage", tag = "webhooks", request_body(content = Object, description = "An OpenLineage RunEvent"), responses((status = 201, description = "Stored", body = Object), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)), security(("ingest_token" = [])))]
async fn lineage_event(
    State(state): State<AppState>,
    auth: Result<IngestAuth>,
    body: Result<RawBody>,
) -> Result<impl IntoResponse> {
    let (outcome, id) = observed(&state, "openlineage", async {
        auth?;
        let body = body?;
        match openlineage::parse(&body.bytes)? {
            Lineage::Run(event) => {
                let id = event.evidence_id();
                let raw = String::from_utf8_lossy(&body.bytes).into_owned();
                Ok((
                    state
                        .writer
                        .submit(IngestOp::Lineage { raw, event })
                        .await?,
                    Some(id),
                ))
            }
            Lineage::Other => Ok((IngestOutcome::Duplicate, None)),
        }
    })
    .await?;
    let status = if id.is_none() {
        "ignored"
    } else {
        status_word(outcome)
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "status": status, "evidence_id": id })),
    ))
}
