//! `/api/incidents/{id}/postmortem`: the current revision (JSON, Markdown or HTML) and redrafts.

#[allow(unused_imports)]
use super::openapi::ErrorBody;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::error::{Error, Result};
use super::extract::{ApiAuth, ApiQuery, IncidentPath};
use super::{AppState, Router};
use crate::domain::postmortem::Postmortem;

pub fn router() -> Router {
    Router::new()
        .route("/api/incidents/{id}/postmortem", get(current))
        .route("/api/incidents/{id}/postmortem/revisions", get(revisions))
        .route("/api/incidents/{id}/postmortem/draft", post(redraft))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatQuery {
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/incidents/{id}/postmortem", tag = "postmortems", params(("id" = String, Path), ("format" = Option<String>, Query, description = "json, markdown, md or html")), responses((status = 200, description = "The current revision (JSON; Markdown or HTML with ?format=)", body = Object), (status = 404, description = "No postmortem yet", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn current(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response> {
    let stored = state
        .store
        .current_postmortem(&id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("incident {id} has no postmortem yet")))?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(stored.body).into_response()),
        "markdown" | "md" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            stored.markdown,
        )
            .into_response()),
        "html" => {
            let doc: Postmortem = serde_json::from_value(stored.body)
                .map_err(|e| Error::Internal(format!("stored postmortem: {e}")))?;
            let html = state
                .templates
                .html(&doc)
                .map_err(|e| Error::Internal(e.to_string()))?;
            Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
        }
        other => Err(Error::BadRequest(format!(
            "format {other:?} is not one of json, markdown, md, html"
        ))),
    }
}

#[utoipa::path(get, path = "/api/incidents/{id}/postmortem/revisions", tag = "postmortems", params(("id" = String, Path)), responses((status = 200, description = "Every revision, oldest first", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn revisions(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
) -> Result<Response> {
    let revs = state.store.postmortem_revisions(&id).await?;
    let list: Vec<_> = revs
        .iter()
        .map(|r| {
            json!({
                "revision": r.header.revision, "status": r.header.status, "drafter": r.header.drafter, "model": r.header.model,
                "prompt_version": r.header.prompt_version, "evidence_hash": r.header.evidence_hash,
                "trace_id": r.header.trace_id, "author": r.author,
                "generated_at": crate::domain::fmt_time(r.generated_at),
            })
        })
        .collect();
    Ok(Json(json!({ "incident_id": id, "revisions": list })).into_response())
}

#[utoipa::path(post, path = "/api/incidents/{id}/postmortem/draft", tag = "postmortems", params(("id" = String, Path)), responses((status = 202, description = "Queued: {\"job_id\"}", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn redraft(
    _: ApiAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    IncidentPath(id): IncidentPath,
) -> Result<Response> {
    let actor = crate::http::reviews::api_actor(&state, &headers, None)?;
    let job_id = crate::review::regenerate(&state.desk(), &id, &actor).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "job_id": job_id }))).into_response())
}
