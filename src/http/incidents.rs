//! `/api/incidents`: list (filters, cursor pagination, newest first), one incident, its timeline.

#[allow(unused_imports)]
use super::openapi::ErrorBody;
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{Error, Result};
use super::extract::{ApiAuth, ApiQuery, IncidentPath};
use super::{AppState, Router};
use crate::domain::{IncidentId, Status, parse_time, to_millis};
use crate::evidence::Bundle;
use crate::store::incidents::IncidentFilter;

pub fn router() -> Router {
    Router::new()
        .route("/api/incidents", get(list))
        .route("/api/incidents/{id}", get(one))
        .route("/api/incidents/{id}/timeline", get(timeline))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    service: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn time_param(name: &str, v: Option<&str>) -> Result<Option<i64>> {
    v.map(|s| {
        parse_time(s)
            .map(to_millis)
            .map_err(|e| Error::BadRequest(format!("{name}: {e}")))
    })
    .transpose()
}

/// Cursor: `<triggered_at millis>.<id>` of the last incident of the previous page.
fn parse_cursor(c: &str) -> Result<(i64, String)> {
    let bad = || Error::BadRequest(format!("cursor {c:?} is not one this API returned"));
    let (at, id) = c.split_once('.').ok_or_else(bad)?;
    let at = at.parse::<i64>().map_err(|_| bad())?;
    IncidentId::parse(id).map_err(|_| bad())?;
    Ok((at, id.to_string()))
}

#[utoipa::path(get, operation_id = "listIncidents", path = "/api/incidents", tag = "incidents", params(("service" = Option<String>, Query), ("status" = Option<String>, Query, description = "triggered, acknowledged or resolved"), ("since" = Option<String>, Query, description = "RFC 3339"), ("until" = Option<String>, Query, description = "RFC 3339"), ("limit" = Option<i64>, Query, description = "1-500"), ("cursor" = Option<String>, Query)), responses((status = 200, description = "Incidents, newest first", body = Object), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn list(
    _: ApiAuth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Error::BadRequest("limit must be between 1 and 500".into()));
    }
    let filter = IncidentFilter {
        service: q
            .service
            .as_deref()
            .map(|s| state.config.resolve_service_name(s)),
        status: q.status.as_deref().map(Status::parse).transpose()?,
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
        limit: limit + 1,
        after: q.cursor.as_deref().map(parse_cursor).transpose()?,
    };
    let mut incidents = state.store.incidents(&filter).await?;
    let more = incidents.len() as i64 > limit;
    incidents.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            incidents
                .last()
                .map(|i| format!("{}.{}", i.triggered_at, i.id))
        })
        .flatten();
    Ok(Json(
        json!({ "incidents": incidents, "next_cursor": next_cursor }),
    ))
}

#[utoipa::path(get, operation_id = "getIncident", path = "/api/incidents/{id}", tag = "incidents", params(("id" = String, Path)), responses((status = 200, description = "The incident", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn one(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
) -> Result<Json<Value>> {
    let inc = state
        .store
        .incident(&id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no incident {id}")))?;
    Ok(Json(
        serde_json::to_value(inc).map_err(|e| Error::Internal(e.to_string()))?,
    ))
}

#[utoipa::path(get, path = "/api/incidents/{id}/timeline", tag = "incidents", params(("id" = String, Path)), responses((status = 200, description = "The timeline in time order", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn timeline(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
) -> Result<Json<Value>> {
    let bundle = Bundle::gather(&state.store, &state.config, &id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no incident {id}")))?;
    Ok(Json(
        json!({ "incident_id": id, "timeline": bundle.merged_timeline(&[]) }),
    ))
}
