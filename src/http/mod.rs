//! HTTP: routes wired to ingest, store and drafting. Each module exports its `router()`.

pub mod error;
pub mod extract;
pub mod families;
mod health;
pub(crate) mod host;
mod incidents;
mod jobs;
pub mod openapi;
pub mod pages;
mod postmortems;
pub(crate) mod reviews;
mod signed;
mod similar;
mod slack;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use tokio::sync::Notify;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::draft::Drafter;
use crate::metrics::Metrics;
use crate::render::Templates;
use crate::store::Store;
use crate::store::writer::IngestWriter;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub writer: IngestWriter,
    pub metrics: Metrics,
    pub templates: Arc<Templates>,
    pub drafter: Drafter,
    pub search: crate::patterns::similar::Search,
    /// Slack's Web API, when `SLACK_BOT_TOKEN` is set.
    pub slack: Option<crate::notify::slack::SlackApi>,
    /// Wakes the job workers when something became due.
    pub jobs_ready: Arc<Notify>,
    /// The review pages' templates.
    pub pages: Arc<crate::http::pages::Pages>,
}

impl AppState {
    /// The monthly report of `month` as of now, with the configured lookback and base URL.
    pub async fn monthly_report(
        &self,
        month: crate::domain::report::Month,
    ) -> Result<crate::domain::report::Report, crate::store::StoreError> {
        crate::patterns::report::build(
            &self.store,
            month,
            self.config.drafting.lookback_hours,
            &self.config.base_url,
        )
        .await
    }

    /// What the review workflow needs of the state.
    pub fn desk(&self) -> crate::review::Desk<'_> {
        crate::review::Desk {
            store: &self.store,
            templates: &self.templates,
            jobs_ready: &self.jobs_ready,
        }
    }
}

pub type Router = axum::Router<AppState>;

pub fn router(state: AppState) -> axum::Router {
    Router::new()
        .merge(webhooks::router())
        .merge(incidents::router())
        .merge(postmortems::router())
        .merge(similar::router())
        .merge(families::router())
        .merge(slack::router())
        .merge(jobs::router())
        .merge(health::router())
        .merge(openapi::router())
        .merge(reviews::router())
        .merge(crate::http::pages::router(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str)
                .unwrap_or("unmatched");
            tracing::info_span!("http", method = %req.method(), route)
        }))
        .with_state(state)
}

async fn not_found() -> error::Error {
    error::Error::NotFound("no such route".into())
}

async fn method_not_allowed() -> impl axum::response::IntoResponse {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(
            serde_json::json!({ "error": "method not allowed for this route", "detail": null }),
        ),
    )
}
