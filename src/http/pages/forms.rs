//! The forms: edit the draft (with a preview), move its status, regenerate it, and track action
//! items. [`super::auth::require`] has checked each POST's CSRF token and Origin already; each
//! handler records the signed-in person as the actor and answers with a redirect (303) back.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::PageError;
use super::auth::WebUser;
use super::base_context;
use super::extract::{PageForm, PageIncident};
use crate::domain::IncidentId;
use crate::domain::{ActionItem, ActionItemChange};
use crate::http::error::Error;
use crate::http::{AppState, Router};
use crate::review::{self, ReviewStatus};

pub fn router() -> Router {
    Router::new()
        .route("/incidents/{id}/edit", get(edit_form).post(edit))
        .route("/incidents/{id}/status", post(status))
        .route("/incidents/{id}/regenerate", post(regenerate))
        .route("/incidents/{id}/actions", post(add_item))
        .route("/incidents/{id}/actions/{n}", post(change_item))
}

fn back(id: &IncidentId, msg: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/incidents/{id}?msg={msg}{anchor}")).into_response()
}

/// What the edit page shows.
struct EditView<'a> {
    markdown: &'a str,
    base_revision: i64,
    status: &'a str,
    preview: Option<String>,
    error: Option<String>,
}

fn edit_page(
    state: &AppState,
    user: &WebUser,
    id: &IncidentId,
    v: EditView<'_>,
) -> Result<axum::response::Html<String>, PageError> {
    let mut ctx = base_context(user, &format!("Edit the postmortem of {id}"), "incidents");
    ctx.insert("incident_id", id.as_str());
    ctx.insert("markdown", v.markdown);
    ctx.insert("base_revision", &v.base_revision);
    ctx.insert("status", v.status);
    ctx.insert("preview_html", &v.preview);
    ctx.insert("error", &v.error);
    Ok(state.pages.render("web/edit.html.tera", &ctx)?)
}

/// `GET /incidents/{id}/edit`
async fn edit_form(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
) -> Result<Response, PageError> {
    let cur = state.store.current_postmortem(&id).await?.ok_or_else(|| {
        PageError(Error::NotFound(format!(
            "incident {id} has no postmortem yet"
        )))
    })?;
    let view = EditView {
        markdown: &cur.markdown,
        base_revision: cur.header.revision,
        status: &cur.header.status,
        preview: None,
        error: None,
    };
    Ok(edit_page(&state, &user, &id, view)?.into_response())
}

#[derive(Deserialize)]
struct EditForm {
    markdown: String,
    base_revision: i64,
    /// `preview` or `save`.
    action: String,
}

/// `POST /incidents/{id}/edit`: preview, or save as a new revision.
async fn edit(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
    PageForm(f): PageForm<EditForm>,
) -> Result<Response, PageError> {
    let status = state
        .store
        .current_postmortem(&id)
        .await?
        .map(|c| c.header.status)
        .unwrap_or_default();
    match f.action.as_str() {
        "preview" => {
            let html = review::markdown::to_html(&f.markdown);
            let view = EditView {
                markdown: &f.markdown,
                base_revision: f.base_revision,
                status: &status,
                preview: Some(html),
                error: None,
            };
            Ok(edit_page(&state, &user, &id, view)?.into_response())
        }
        "save" => {
            match review::edit(
                &state.desk(),
                &id,
                &f.markdown,
                Some(f.base_revision),
                &user.name,
            )
            .await
            .map_err(Error::from)
            {
                Ok((_, true)) => Ok(back(&id, "saved", "#draft")),
                Ok((_, false)) => Ok(back(&id, "unchanged", "#draft")),
                // Keep the person's text on the page, with what went wrong.
                Err(e @ (Error::Conflict(_) | Error::BadRequest(_))) => {
                    let code = e.status();
                    let view = EditView {
                        markdown: &f.markdown,
                        base_revision: f.base_revision,
                        status: &status,
                        preview: None,
                        error: Some(e.to_string()),
                    };
                    let page = edit_page(&state, &user, &id, view)?;
                    Ok((code, page).into_response())
                }
                Err(e) => Err(e.into()),
            }
        }
        other => Err(PageError(Error::BadRequest(format!(
            "action {other:?} is not preview or save"
        )))),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
    revision: i64,
}

/// `POST /incidents/{id}/status`
async fn status(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
    PageForm(f): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    let to = ReviewStatus::parse(&f.status)?;
    review::set_status(&state.desk(), &id, to, Some(f.revision), &user.name).await?;
    Ok(back(&id, "status", ""))
}

/// `POST /incidents/{id}/regenerate`
async fn regenerate(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
) -> Result<Response, PageError> {
    review::regenerate(&state.desk(), &id, &user.name).await?;
    Ok(back(&id, "regenerate", ""))
}

#[derive(Deserialize)]
struct NewItemForm {
    text: String,
    #[serde(default)]
    owner: String,
}

/// `POST /incidents/{id}/actions`
async fn add_item(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
    PageForm(f): PageForm<NewItemForm>,
) -> Result<Response, PageError> {
    let item = ActionItem {
        owner: review::items::owner(&f.owner)?,
        ..ActionItem::new(review::items::text(&f.text)?, vec![])
    };
    review::items::add(&state.desk(), &id, item, &user.name).await?;
    Ok(back(&id, "item", "#actions"))
}

#[derive(Deserialize)]
struct ItemForm {
    /// `toggle`, `owner` or `delete`.
    op: String,
    #[serde(default)]
    owner: String,
}

/// `POST /incidents/{id}/actions/{n}`
async fn change_item(
    user: WebUser,
    State(state): State<AppState>,
    PageIncident(id): PageIncident,
    Path((_, n)): Path<(String, String)>,
    PageForm(f): PageForm<ItemForm>,
) -> Result<Response, PageError> {
    let n = n.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        PageError(Error::BadRequest(format!(
            "action item {n:?} is not a positive number"
        )))
    })?;
    match f.op.as_str() {
        "toggle" => {
            let items = review::items::list(&state.desk(), &id).await?;
            let item = items.iter().find(|i| i.n == n).ok_or_else(|| {
                PageError(Error::NotFound(format!(
                    "incident {id} has no action item {n}"
                )))
            })?;
            let to = if item.item.status == "done" {
                "open"
            } else {
                "done"
            };
            let change = ActionItemChange {
                status: Some(to.into()),
                ..Default::default()
            };
            review::items::update(&state.desk(), &id, n, &change, &user.name).await?;
        }
        "owner" => {
            let change = ActionItemChange {
                owner: Some(review::items::owner(&f.owner)?),
                ..Default::default()
            };
            review::items::update(&state.desk(), &id, n, &change, &user.name).await?;
        }
        "delete" => review::items::delete(&state.desk(), &id, n, &user.name).await?,
        other => {
            return Err(PageError(Error::BadRequest(format!(
                "op {other:?} is not toggle, owner or delete"
            ))));
        }
    }
    Ok(back(&id, "item", "#actions"))
}
