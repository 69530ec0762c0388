//! `/api/families` (incident families, stable ids) and `/api/reports/{YYYY-MM}` (the monthly
//! leadership report as JSON, Markdown or HTML).

#[allow(unused_imports)]
use super::openapi::ErrorBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use super::error::{Error, Result};
use super::extract::{ApiAuth, ApiQuery};
use super::{AppState, Router};
use crate::domain::report::Month;

pub fn router() -> Router {
    Router::new()
        .route("/api/families", get(list))
        .route("/api/families/recompute", post(recompute))
        .route("/api/reports/{month}", get(report))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FamiliesQuery {
    /// Also list retired families.
    retired: Option<bool>,
}

#[utoipa::path(get, operation_id = "listFamilies", path = "/api/families", tag = "families", params(("retired" = Option<bool>, Query, description = "also list retired families")), responses((status = 200, description = "Incident families, largest first: id (stable across runs), label, size, incident_ids, top_terms, representatives, typical_causes", body = Object), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn list(
    _: ApiAuth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FamiliesQuery>,
) -> Result<Json<Value>> {
    Ok(Json(
        crate::patterns::families::listing(&state.store, q.retired.unwrap_or(false)).await?,
    ))
}

#[utoipa::path(post, path = "/api/families/recompute", tag = "families", responses((status = 200, description = "Families recomputed now over every incident", body = Object), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn recompute(_: ApiAuth, State(state): State<AppState>) -> Result<Json<Value>> {
    crate::patterns::families::recompute(&state.store, &Default::default())
        .await
        .map_err(|e| Error::Internal(format!("{e:#}")))?;
    Ok(Json(
        crate::patterns::families::listing(&state.store, false).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatQuery {
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/reports/{month}", tag = "reports", params(("month" = String, Path, description = "YYYY-MM"), ("format" = Option<String>, Query, description = "json, markdown, md or html")), responses((status = 200, description = "The monthly report (JSON; Markdown or HTML with ?format=)", body = Object), (status = 400, description = "Bad input", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody)), security(("api_token" = [])))]
async fn report(
    _: ApiAuth,
    State(state): State<AppState>,
    Path(month): Path<String>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response> {
    let month = Month::parse(&month).map_err(Error::BadRequest)?;
    let format = q.format.as_deref().unwrap_or("json");
    if !["json", "markdown", "md", "html"].contains(&format) {
        return Err(Error::BadRequest(format!(
            "format {format:?} is not one of json, markdown, md, html"
        )));
    }
    let report = state.monthly_report(month).await?;
    let body = serde_json::to_value(&report).map_err(|e| Error::Internal(e.to_string()))?;
    let rendered = |r: std::result::Result<String, crate::render::TemplateError>| {
        r.map_err(|e| Error::Internal(e.to_string()))
    };
    Ok(match format {
        "json" => Json(body).into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            rendered(
                state
                    .templates
                    .report_html(&crate::patterns::report::with_charts(report)),
            )?,
        )
            .into_response(),
        _ => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            rendered(state.templates.report_markdown(&report))?,
        )
            .into_response(),
    })
}
