//! The pages people read: the incident list (filters, pagination), an incident with its evidence
//! and draft, a revision's diff, the full HTML report, and the published postmortem's download.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::PageError;
use super::auth::WebUser;
use super::base_context;
use super::extract::{PageIncident, PageQuery};
use crate::domain::postmortem::Postmortem;
use crate::domain::{IncidentId, Status, fmt_time, parse_time, to_millis};
use crate::evidence::Bundle;
use crate::http::error::Error;
use crate::http::{AppState, Router};
use crate::review::{self, ReviewStatus};
use crate::store::incidents::IncidentFilter;
use crate::store::postmortems::StoredPostmortem;

pub fn router() -> Router {
    Router::new()
        .route("/incidents", get(list))
        .route("/incidents/{id}", get(incident))
        .route("/incidents/{id}/revisions/{n}/diff", get(diff))
        .route("/incidents/{id}/report", get(report))
        .route("/incidents/{id}/export.md", get(export))
        .route("/incidents/{id}/revision.json", get(revision_json))
}

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    service: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date (`2026-10-01`, the whole day in UTC) or an RFC 3339 time, in milliseconds. `end`: a
/// date means the end of that day.
fn day_or_time(name: &str, raw: &str, end: bool) -> Result<i64, Error> {
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let d = if end { d.succ_opt().unwrap_or(d) } else { d };
        let t = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
        return Ok(to_millis(t));
    }
    parse_time(raw).map(to_millis).map_err(|_| {
        Error::BadRequest(format!(
            "{name}: {raw:?} is not a date (2026-10-01) or an RFC 3339 time"
        ))
    })
}

fn parse_cursor(c: &str) -> Result<(i64, String), Error> {
    let bad = || Error::BadRequest(format!("page cursor {c:?} is not one this page made"));
    let (at, id) = c.split_once('.').ok_or_else(bad)?;
    let at = at.parse::<i64>().map_err(|_| bad())?;
    IncidentId::parse(id).map_err(|_| bad())?;
    Ok((at, id.to_string()))
}

fn list_filter(state: &AppState, q: &ListQuery) -> Result<IncidentFilter, Error> {
    Ok(IncidentFilter {
        service: nonempty(&q.service).map(|s| state.config.resolve_service_name(s)),
        status: nonempty(&q.status).map(Status::parse).transpose()?,
        since: nonempty(&q.since)
            .map(|s| day_or_time("since", s, false))
            .transpose()?,
        until: nonempty(&q.until)
            .map(|s| day_or_time("until", s, true))
            .transpose()?,
        limit: PAGE_SIZE + 1,
        after: nonempty(&q.cursor).map(parse_cursor).transpose()?,
    })
}

/// `GET /incidents`
async fn list(
    user: WebUser,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<ListQuery>,
) -> Result<Response, PageError> {
    let mut ctx = base_context(&user, "Incidents", "incidents");
    let filters = json!({
        "service": nonempty(&q.service).unwrap_or(""), "status": nonempty(&q.status).unwrap_or(""),
        "since": nonempty(&q.since).unwrap_or(""), "until": nonempty(&q.until).unwrap_or(""),
    });
    ctx.insert("filters", &filters);
    ctx.insert("paged", &nonempty(&q.cursor).is_some());
    match list_filter(&state, &q) {
        Err(e @ Error::BadRequest(_)) => {
            ctx.insert("error", &e.to_string());
            ctx.insert("incidents", &Vec::<Value>::new());
            ctx.insert("next_page", &Option::<String>::None);
            let html = state.pages.render("web/incidents.html.tera", &ctx)?;
            return Ok((axum::http::StatusCode::BAD_REQUEST, html).into_response());
        }
        Err(e) => return Err(e.into()),
        Ok(filter) => {
            let mut incidents = state.store.incidents(&filter).await?;
            let more = incidents.len() as i64 > PAGE_SIZE;
            incidents.truncate(PAGE_SIZE as usize);
            let ids: Vec<String> = incidents.iter().map(|i| i.id.clone()).collect();
            let reviews = state.store.current_review_statuses(&ids).await?;
            let rows: Vec<Value> = incidents
                .iter()
                .map(|i| {
                    let r = reviews.get(&i.id);
                    json!({
                        "id": i.id, "title": i.title, "service": i.service,
                        "status": i.status.as_str(),
                        "severity": i.severity.map(|s| s.to_string()),
                        "triggered_at": fmt_time(i.triggered_at),
                        "resolved_at": i.resolved_at.map(fmt_time),
                        "review": r.map(|(_, s)| s.clone()),
                        "revision": r.map(|(n, _)| *n),
                    })
                })
                .collect();
            let next_page = more.then(|| incidents.last()).flatten().map(|last| {
                let cursor = format!("{}.{}", last.triggered_at, last.id);
                let mut params: Vec<(&str, &str)> = Vec::new();
                for (k, v) in [
                    ("service", &q.service),
                    ("status", &q.status),
                    ("since", &q.since),
                    ("until", &q.until),
                ] {
                    if let Some(v) = nonempty(v) {
                        params.push((k, v));
                    }
                }
                params.push(("cursor", &cursor));
                format!(
                    "/incidents?{}",
                    serde_urlencoded::to_string(&params).unwrap_or_default()
                )
            });
            ctx.insert("error", &Option::<String>::None);
            ctx.insert("incidents", &rows);
            ctx.insert("next_page", &next_page);
        }
    }
    Ok(state
        .pages
        .render("web/incidents.html.tera", &ctx)?
        .into_response())
}

fn revision_summary(p: &StoredPostmortem) -> Value {
    json!({
        "revision": p.header.revision, "status": p.header.status, "author": p.author, "drafter": p.header.drafter,
        "model": p.header.model, "at": fmt_time(p.generated_at),
    })
}

/// The status moves offered from `status`.
fn transitions(status: &str) -> Vec<Value> {
    let Ok(from) = ReviewStatus::parse(status) else {
        return Vec::new();
    };
    [
        (ReviewStatus::InReview, "Submit for review"),
        (ReviewStatus::Published, "Publish"),
        (ReviewStatus::Draft, "Back to draft"),
    ]
    .into_iter()
    .filter(|(to, _)| from.refuses(*to).is_none())
    .map(|(to, label)| {
        let label = if from == ReviewStatus::Published && to == ReviewStatus::InReview {
            "Reopen review"
        } else {
            label
        };
        json!({ "to": to.as_str(), "label": label })
    })
    .collect()
}

#[derive(Deserialize, Default)]
pub struct IncidentQuery {
    msg: Option<String>,
}

/// A fixed notice for `?msg=` (never the query's own text).
fn notice(msg: Option<&str>) -> Option<&'static str> {
    Some(match msg? {
        "saved" => "Your edit is saved as a new revision.",
        "unchanged" => "Nothing changed, so no revision was added.",
        "status" => "Status changed.",
        "regenerate" => {
            "A new draft is being made; it will become the next revision, and your revisions stay as they are."
        }
        "item" => "Action items updated.",
        _ => return None,
    })
}

/// `GET /incidents/{id}`
async fn incident(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
    PageQuery(q): PageQuery<IncidentQuery>,
) -> Result<Response, PageError> {
    let bundle = Bundle::gather(&state.store, &state.config, &id)
        .await?
        .ok_or_else(|| PageError(Error::NotFound(format!("no incident {id}"))))?;
    let inc = &bundle.incident;
    let mut ctx = base_context(&user, &format!("{} · {}", inc.id, inc.title), "incidents");
    ctx.insert(
        "incident",
        &json!({
            "id": inc.id, "title": inc.title, "service": inc.service, "status": inc.status.as_str(),
            "severity": inc.severity.map(|s| s.to_string()), "urgency": inc.urgency,
            "triggered_at": fmt_time(inc.triggered_at),
            "acknowledged_at": inc.acknowledged_at.map(fmt_time),
            "resolved_at": inc.resolved_at.map(fmt_time),
            "time_to_acknowledge_minutes": inc.time_to_acknowledge_minutes,
            "time_to_resolve_minutes": inc.time_to_resolve_minutes,
            "html_url": inc.html_url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            "summary": inc.summary,
        }),
    );
    ctx.insert("timeline", &bundle.merged_timeline(&[]));
    let revisions = state.store.postmortem_revisions(&id).await?;
    let current = revisions.last();
    let doc: Option<Postmortem> = current.and_then(|c| serde_json::from_value(c.body.clone()).ok());
    ctx.insert("pm", &current.map(revision_summary));
    ctx.insert(
        "draft_html",
        &current.map(|c| review::markdown::to_html(&c.markdown)),
    );
    ctx.insert("doc", &doc);
    ctx.insert(
        "transitions",
        &current
            .map(|c| transitions(&c.header.status))
            .unwrap_or_default(),
    );
    ctx.insert(
        "revisions",
        &revisions
            .iter()
            .rev()
            .map(revision_summary)
            .collect::<Vec<_>>(),
    );
    // An automatic draft right after a person's revision: point at the diff.
    let redrafted_over = match revisions.as_slice() {
        [.., prev, cur]
            if cur.author.is_none() && (prev.author.is_some() || prev.header.status != "draft") =>
        {
            Some(revision_summary(prev))
        }
        _ => None,
    };
    ctx.insert("redrafted_over", &redrafted_over);
    ctx.insert(
        "published",
        &revisions
            .iter()
            .rev()
            .find(|r| r.header.status == "published")
            .map(revision_summary),
    );
    ctx.insert("events", &state.store.review_events(&id).await?);
    ctx.insert("items", &review::items::list(&state.desk(), &id).await?);
    let msg = q.msg.as_deref();
    ctx.insert("notice", &notice(msg));
    ctx.insert("regenerating", &(msg == Some("regenerate")));
    Ok(state
        .pages
        .render("web/incident.html.tera", &ctx)?
        .into_response())
}

/// `GET /incidents/{id}/revisions/{n}/diff?against=m` (default m = n - 1)
#[derive(Deserialize, Default)]
pub struct DiffQuery {
    against: Option<String>,
}

async fn diff(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
    Path((_, n)): Path<(String, String)>,
    PageQuery(q): PageQuery<DiffQuery>,
) -> Result<Response, PageError> {
    let number = |raw: &str| {
        raw.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            PageError(Error::BadRequest(format!(
                "revision {raw:?} is not a positive number"
            )))
        })
    };
    let to = number(&n)?;
    let from = match nonempty(&q.against) {
        Some(a) => number(a)?,
        None => to - 1,
    };
    if from < 1 {
        return Err(PageError(Error::NotFound(format!(
            "revision {to} is the first: there is nothing to compare it with"
        ))));
    }
    let (a, b, d) = review::revision_diff(&state.desk(), &id, from, to).await?;
    let mut ctx = base_context(
        &user,
        &format!("{id}: revision {to} against {from}"),
        "incidents",
    );
    ctx.insert("incident_id", id.as_str());
    ctx.insert("from", &revision_summary(&a));
    ctx.insert("to", &revision_summary(&b));
    ctx.insert("diff", &d);
    Ok(state
        .pages
        .render("web/diff.html.tera", &ctx)?
        .into_response())
}

/// `GET /incidents/{id}/report`: the current revision through the HTML postmortem template.
async fn report(
    _: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
) -> Result<Response, PageError> {
    let stored = state.store.current_postmortem(&id).await?.ok_or_else(|| {
        PageError(Error::NotFound(format!(
            "incident {id} has no postmortem yet"
        )))
    })?;
    let doc: Postmortem = serde_json::from_value(stored.body)
        .map_err(|e| PageError(Error::Internal(format!("stored postmortem: {e}"))))?;
    let html = state
        .templates
        .html(&doc)
        .map_err(|e| PageError(Error::Internal(e.to_string())))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// `GET /incidents/{id}/export.md`: the published postmortem as a download.
async fn export(
    _: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
) -> Result<Response, PageError> {
    let e = review::export::export(&state.desk(), &id).await?;
    Ok(crate::http::reviews::markdown_attachment(e))
}

/// `GET /incidents/{id}/revision.json`: the current revision, for the page waiting on a redraft.
async fn revision_json(
    _: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
) -> Result<Response, PageError> {
    let cur = state.store.current_postmortem(&id).await?;
    Ok(Json(json!({
        "revision": cur.as_ref().map(|c| c.header.revision),
        "status": cur.as_ref().map(|c| c.header.status.clone()),
    }))
    .into_response())
}
