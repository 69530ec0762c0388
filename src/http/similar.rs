//! `/api/incidents/{id}/similar` and `/api/similar?q=`: past incidents most like an incident or
//! like free text, best first, with why each was chosen and what fixed it.

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

pub fn router() -> Router {
    Router::new()
        .route("/api/incidents/{id}/similar", get(like_incident))
        .route("/api/similar", get(like_text))
}

use crate::patterns::similar::MAX_K;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KQuery {
    k: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextQuery {
    q: Option<String>,
    k: Option<usize>,
}

fn check_k(k: Option<usize>) -> Result<usize> {
    let k = k.unwrap_or(5);
    if (1..=MAX_K).contains(&k) {
        Ok(k)
    } else {
        Err(Error::BadRequest(format!(
            "k must be between 1 and {MAX_K}"
        )))
    }
}

#[utoipa::path(get, path = "/api/incidents/{id}/similar", tag = "similar", params(("id" = String, Path), ("k" = Option<usize>, Query, description = "1-50")), responses((status = 200, description = "Similar incidents, best first", body = Object), (status = 404, description = "No such incident", body = ErrorBody), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn like_incident(
    _: ApiAuth,
    State(state): State<AppState>,
    IncidentPath(id): IncidentPath,
    ApiQuery(q): ApiQuery<KQuery>,
) -> Result<Json<Value>> {
    let k = check_k(q.k)?;
    match state.search.similar_to(id.as_str(), k).await? {
        Some(similar) => Ok(Json(
            json!({ "incident_id": id.as_str(), "similar": similar }),
        )),
        None => Err(Error::NotFound(format!("no incident {id}"))),
    }
}

#[utoipa::path(get, path = "/api/similar", tag = "similar", params(("q" = String, Query), ("k" = Option<usize>, Query, description = "1-50")), responses((status = 200, description = "Similar incidents, best first", body = Object), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn like_text(
    _: ApiAuth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TextQuery>,
) -> Result<Json<Value>> {
    let text =
        q.q.map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::BadRequest("q is required: the words to search for".into()))?;
    if text.len() > 2000 {
        return Err(Error::BadRequest("q is longer than 2000 characters".into()));
    }
    let k = check_k(q.k)?;
    let similar = state.search.query(&text, k).await?;
    Ok(Json(json!({ "query": text, "similar": similar })))
}
