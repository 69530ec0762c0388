//! Open endpoints: liveness, readiness (the database answers) and Prometheus metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use super::{AppState, Router};

pub fn router() -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "The process is up", body = Object)))]
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "The database answers and takes writes", body = Object), (status = 503, description = "Not ready: the database is unreachable or cannot take writes", body = Object)))]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(e) = state.store.ping().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "database unreachable", "detail": e.to_string() })),
        );
    }
    match state.store.writer_health().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "writer": "ok" })),
        ),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "the database cannot take writes", "detail": why })),
        ),
    }
}

#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(counts) = state.store.job_counts().await {
        state.metrics.jobs.reset();
        for s in ["pending", "running", "done", "failed", "cancelled"] {
            state.metrics.jobs.with_label_values(&[s]).set(0);
        }
        for (s, n) in counts {
            state.metrics.jobs.with_label_values(&[s.as_str()]).set(n);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
