//! The review workflow through the API: edit the current revision's Markdown, move its status,
//! diff revisions, read the review log, export the published postmortem, and track action items.
//! Each action is recorded under the proxy's user header (when configured), else the body's
//! `author`, else `api`.

#[allow(unused_imports)]
use super::openapi::ErrorBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::{Error, Result};
use super::extract::{ApiAuth, ApiQuery, IncidentPath, RawBody};
use super::{AppState, Router};
use crate::domain::{ActionItem, ActionItemChange};
use crate::review::{self, ReviewStatus};
use crate::store::postmortems::StoredPostmortem;

pub fn router() -> Router {
    Router::new()
        .route(
            "/api/incidents/{id}/postmortem",
            axum::routing::put(edit_markdown),
        )
        .route("/api/incidents/{id}/postmortem/status", post(set_status))
        .route("/api/incidents/{id}/postmortem/export", get(export))
        .route("/api/incidents/{id}/postmortem/diff", get(diff))
        .route("/api/incidents/{id}/postmortem/reviews", get(reviews))
        .route(
            "/api/incidents/{id}/action-items",
            get(list_items).post(add_item),
        )
        .route(
            "/api/incidents/{id}/action-items/{n}",
            patch(update_item).delete(delete_item),
        )
}

fn json_body<T: DeserializeOwned>(body: &RawBody) -> Result<T> {
    serde_json::from_slice(&body.bytes)
        .map_err(|e| Error::BadRequest(format!("request body is not the expected JSON: {e}")))
}

/// Who an API action is recorded under.
pub(crate) fn api_actor(
    state: &AppState,
    headers: &HeaderMap,
    author: Option<&str>,
) -> Result<String> {
    if let Some(name) = state.config.auth_proxy_header.as_deref()
        && let Some(v) = headers.get(name.trim())
    {
        let v = v
            .to_str()
            .map_err(|_| Error::BadRequest(format!("header {name} is not text")))?;
        return Ok(review::person_name(v)?);
    }
    match author {
        Some(a) => Ok(review::person_name(a)?),
        None => Ok("api".into()),
    }
}

fn revision_json(p: &StoredPostmortem) -> Value {
    json!({
        "incident_id": p.header.incident_id, "revision": p.header.revision, "status": p.header.status,
        "author": p.author, "drafter": p.header.drafter,
        "generated_at": crate::domain::fmt_time(p.generated_at),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    markdown: String,
    base_revision: Option<i64>,
    author: Option<String>,
}

#[utoipa::path(put, path = "/api/incidents/{id}/postmortem", tag = "review", params(("id" = String, Path)), request_body(content = Object, description = "{\"markdown\": \"…\", \"base_revision\": N (optional: refuse with 409 unless N is still current), \"author\": \"…\" (optional)}"), responses((status = 200, description = "The current revision after the edit: {incident_id, revision, status, author, created}", body = Object), (status = 404, description = "No postmortem yet", body = ErrorBody), (status = 409, description = "Another revision became current first", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn edit_markdown(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    body: RawBody,
) -> Result<Response> {
    let b: EditBody = json_body(&body)?;
    let actor = api_actor(&state, &body.headers, b.author.as_deref())?;
    let (p, created) =
        review::edit(&state.desk(), &id, &b.markdown, b.base_revision, &actor).await?;
    let mut v = revision_json(&p);
    v["created"] = created.into();
    Ok(Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    revision: Option<i64>,
    author: Option<String>,
}

#[utoipa::path(post, path = "/api/incidents/{id}/postmortem/status", tag = "review", params(("id" = String, Path)), request_body(content = Object, description = "{\"status\": \"draft\"|\"in_review\"|\"published\", \"revision\": N (optional: refuse with 409 unless N is still current), \"author\": \"…\" (optional)}"), responses((status = 200, description = "The revision with its new status", body = Object), (status = 404, description = "No postmortem yet", body = ErrorBody), (status = 409, description = "Not allowed from the current status, or another revision became current", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn set_status(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    body: RawBody,
) -> Result<Response> {
    let b: StatusBody = json_body(&body)?;
    let to = ReviewStatus::parse(&b.status)?;
    let actor = api_actor(&state, &body.headers, b.author.as_deref())?;
    let p = review::set_status(&state.desk(), &id, to, b.revision, &actor).await?;
    Ok(Json(revision_json(&p)).into_response())
}

#[utoipa::path(get, path = "/api/incidents/{id}/postmortem/export", tag = "review", params(("id" = String, Path)), responses((status = 200, description = "The latest published revision as Markdown with YAML front matter (an attachment)", content_type = "text/markdown"), (status = 404, description = "No such incident or no postmortem yet", body = ErrorBody), (status = 409, description = "Not published", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn export(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
) -> Result<Response> {
    let e = review::export::export(&state.desk(), &id).await?;
    Ok(markdown_attachment(e))
}

/// The export as a download.
pub(crate) fn markdown_attachment(e: review::export::Export) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", e.filename),
            ),
        ],
        e.text,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
}

#[utoipa::path(get, path = "/api/incidents/{id}/postmortem/diff", tag = "review", params(("id" = String, Path), ("from" = Option<i64>, Query, description = "default: to - 1"), ("to" = Option<i64>, Query, description = "default: the current revision")), responses((status = 200, description = "The line diff of the revisions' Markdown: {from, to, inserted, deleted, hunks[]}", body = Object), (status = 404, description = "No such revision", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn diff(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Response> {
    let to = match q.to {
        Some(n) => n,
        None => {
            state
                .store
                .current_postmortem(&id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("incident {id} has no postmortem yet")))?
                .header
                .revision
        }
    };
    let from = q.from.unwrap_or(to.saturating_sub(1));
    let (a, b, d) = review::revision_diff(&state.desk(), &id, from, to).await?;
    Ok(Json(json!({
        "incident_id": id, "from": revision_json(&a), "to": revision_json(&b),
        "inserted": d.inserted, "deleted": d.deleted, "hunks": d.hunks,
    }))
    .into_response())
}

#[utoipa::path(get, path = "/api/incidents/{id}/postmortem/reviews", tag = "review", params(("id" = String, Path)), responses((status = 200, description = "The review log, oldest first: {incident_id, events[]}", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn reviews(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
) -> Result<Response> {
    review::require_incident(&state.desk(), &id).await?;
    let events = state.store.review_events(&id).await?;
    Ok(Json(json!({ "incident_id": id, "events": events })).into_response())
}

#[utoipa::path(get, path = "/api/incidents/{id}/action-items", tag = "review", params(("id" = String, Path)), responses((status = 200, description = "Tracked action items (seeded from the draft the first time): {incident_id, action_items[]}", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn list_items(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
) -> Result<Response> {
    let items = review::items::list(&state.desk(), &id).await?;
    Ok(Json(json!({ "incident_id": id, "action_items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewItemBody {
    text: String,
    owner: Option<String>,
    status: Option<String>,
    #[serde(default)]
    evidence_ids: Vec<String>,
    author: Option<String>,
}

#[utoipa::path(post, path = "/api/incidents/{id}/action-items", tag = "review", params(("id" = String, Path)), request_body(content = Object, description = "{\"text\": \"…\", \"owner\": \"…\"|null, \"status\": \"open\"|\"done\", \"evidence_ids\": [], \"author\": \"…\"}"), responses((status = 201, description = "The new item", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn add_item(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    body: RawBody,
) -> Result<Response> {
    let b: NewItemBody = json_body(&body)?;
    let item = ActionItem {
        owner: review::items::owner(b.owner.as_deref().unwrap_or(""))?,
        status: review::items::status(b.status.as_deref().unwrap_or("open"))?,
        ..ActionItem::new(review::items::text(&b.text)?, b.evidence_ids)
    };
    if item.evidence_ids.len() > 50 || item.evidence_ids.iter().any(|e| e.len() > 300) {
        return Err(Error::BadRequest(
            "evidence_ids: at most 50 ids of at most 300 characters".into(),
        ));
    }
    let actor = api_actor(&state, &body.headers, b.author.as_deref())?;
    let added = review::items::add(&state.desk(), &id, item, &actor).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

/// `Some(v)` for a field present in the JSON (null included), so null can mean "clear".
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemChangeBody {
    text: Option<String>,
    #[serde(default, deserialize_with = "present")]
    owner: Option<Option<String>>,
    status: Option<String>,
    author: Option<String>,
}

fn item_number(raw: &str) -> Result<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| Error::BadRequest(format!("action item {raw:?} is not a positive number")))
}

#[utoipa::path(patch, path = "/api/incidents/{id}/action-items/{n}", tag = "review", params(("id" = String, Path), ("n" = String, Path, description = "the item's number")), request_body(content = Object, description = "Any of {\"text\": \"…\", \"owner\": \"…\"|null, \"status\": \"open\"|\"done\"}, plus \"author\""), responses((status = 200, description = "The item after the change", body = Object), (status = 404, description = "No such item", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn update_item(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    Path((_, n)): Path<(String, String)>,
    body: RawBody,
) -> Result<Response> {
    let n = item_number(&n)?;
    let b: ItemChangeBody = json_body(&body)?;
    let change = ActionItemChange {
        text: b.text.as_deref().map(review::items::text).transpose()?,
        owner: match b.owner {
            None => None,
            Some(None) => Some(None),
            Some(Some(o)) => Some(review::items::owner(&o)?),
        },
        status: b.status.as_deref().map(review::items::status).transpose()?,
    };
    let actor = api_actor(&state, &body.headers, b.author.as_deref())?;
    let item = review::items::update(&state.desk(), &id, n, &change, &actor).await?;
    Ok(Json(item).into_response())
}

#[utoipa::path(delete, path = "/api/incidents/{id}/action-items/{n}", tag = "review", params(("id" = String, Path), ("n" = String, Path, description = "the item's number")), responses((status = 204, description = "Deleted"), (status = 404, description = "No such item", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn delete_item(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    Path((_, n)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let n = item_number(&n)?;
    let actor = api_actor(&state, &headers, None)?;
    review::items::delete(&state.desk(), &id, n, &actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
