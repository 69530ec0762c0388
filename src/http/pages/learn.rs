//! The pages of what incidents teach: families and the monthly reports.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::PageError;
use super::auth::WebUser;
use super::base_context;
use super::extract::PageQuery;
use crate::domain::report::Month;
use crate::domain::{fmt_time, now_millis};
use crate::http::error::Error;
use crate::http::{AppState, Router};

pub fn router() -> Router {
    Router::new()
        .route("/families", get(families))
        .route("/reports", get(reports))
        .route("/reports/{month}", get(report))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FamiliesQuery {
    retired: Option<bool>,
}

/// `GET /families`
async fn families(
    user: WebUser,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<FamiliesQuery>,
) -> Result<Response, PageError> {
    let retired = q.retired.unwrap_or(false);
    let mut ctx = base_context(&user, "Families", "families");
    ctx.insert("families", &state.store.families(retired).await?);
    ctx.insert("run", &state.store.latest_family_run().await?);
    ctx.insert("retired", &retired);
    Ok(state
        .pages
        .render("web/families.html.tera", &ctx)?
        .into_response())
}

/// `GET /reports`: the last twelve months and any other stored month, newest first.
async fn reports(user: WebUser, State(state): State<AppState>) -> Result<Response, PageError> {
    let mut months: Vec<String> = Month::of(now_millis())
        .trailing(12)
        .into_iter()
        .map(|m| m.to_string())
        .collect();
    months.extend(state.store.report_months().await?);
    months.sort();
    months.dedup();
    months.reverse();
    let mut rows = Vec::new();
    for m in months {
        let stored = state.store.stored_report(&m).await?;
        rows.push(json!({
            "month": m,
            "generated_at": stored.as_ref().map(|r| fmt_time(r.generated_at)),
            "scheduled": stored.as_ref().is_some_and(|r| r.scheduled),
            "announced": stored.as_ref().is_some_and(|r| r.announced_at.is_some()),
        }));
    }
    let mut ctx = base_context(&user, "Monthly reports", "reports");
    ctx.insert("months", &rows);
    Ok(state
        .pages
        .render("web/reports.html.tera", &ctx)?
        .into_response())
}

/// `GET /reports/{YYYY-MM}` (the report page) and `/reports/{YYYY-MM}.md` (its Markdown).
async fn report(
    _: WebUser,
    State(state): State<AppState>,
    Path(month): Path<String>,
) -> Result<Response, PageError> {
    let (month, markdown) = match month.strip_suffix(".md") {
        Some(m) => (m.to_string(), true),
        None => (month, false),
    };
    let month = Month::parse(&month).map_err(|e| PageError(Error::BadRequest(e)))?;
    let report = state.monthly_report(month).await?;
    let failed = |e: crate::render::TemplateError| PageError(Error::Internal(e.to_string()));
    Ok(if markdown {
        (
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"report-{month}.md\""),
                ),
            ],
            state.templates.report_markdown(&report).map_err(failed)?,
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            state
                .templates
                .report_html(&crate::patterns::report::with_charts(report))
                .map_err(failed)?,
        )
            .into_response()
    })
}
