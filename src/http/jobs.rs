//! `/api/jobs`: the durable queue, so failures and retries stay visible.

#[allow(unused_imports)]
use super::openapi::ErrorBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{Error, Result};
use super::extract::{ApiAuth, ApiQuery};
use super::{AppState, Router};

pub fn router() -> Router {
    Router::new()
        .route("/api/jobs", get(list))
        .route("/api/jobs/{id}", get(one))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    state: Option<String>,
    incident_id: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(get, operation_id = "listJobs", path = "/api/jobs", tag = "jobs", params(("state" = Option<String>, Query), ("incident_id" = Option<String>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "Jobs, newest first", body = Object), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn list(
    _: ApiAuth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<Value>> {
    if let Some(s) = q.state.as_deref()
        && !["pending", "running", "done", "failed", "cancelled"].contains(&s)
    {
        return Err(Error::BadRequest(format!(
            "state {s:?} is not one of pending, running, done, failed, cancelled"
        )));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let jobs = state
        .store
        .jobs(q.state.as_deref(), q.incident_id.as_deref(), limit)
        .await?;
    Ok(Json(json!({ "jobs": jobs })))
}

#[utoipa::path(get, operation_id = "getJob", path = "/api/jobs/{id}", tag = "jobs", params(("id" = String, Path)), responses((status = 200, description = "The job", body = Object), (status = 404, description = "No such job", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn one(
    _: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let job = state
        .store
        .job(&id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no job {id}")))?;
    Ok(Json(json!(job)))
}
