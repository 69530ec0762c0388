//! Review in the browser: server-rendered pages (Tera, autoescaped) where people read an
//! incident's evidence and draft, edit the Markdown, move the postmortem to review and to
//! published, track action items and download the published postmortem. Sign-in, sessions and
//! CSRF checks live in `auth`; every form goes through them.

pub mod auth;
mod extract;
mod forms;
mod incidents;
mod learn;

use std::path::Path;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tera::{Context, Tera};

use crate::http::error::Error;
use crate::http::{AppState, Router};
use crate::render::{TemplateError, error_chain, source};
use auth::WebUser;

/// The context every page shares: who is signed in, the CSRF token for its forms, the nav.
fn base_context(user: &WebUser, title: &str, nav: &str) -> Context {
    let mut ctx = Context::new();
    ctx.insert("user", &user.name);
    ctx.insert("signed_in_with", &user.method);
    ctx.insert("csrf", &user.csrf);
    ctx.insert("title", title);
    ctx.insert("nav", nav);
    ctx
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "web/base.html.tera",
        include_str!("../../../templates/web/base.html.tera"),
    ),
    (
        "web/login.html.tera",
        include_str!("../../../templates/web/login.html.tera"),
    ),
    (
        "web/incidents.html.tera",
        include_str!("../../../templates/web/incidents.html.tera"),
    ),
    (
        "web/incident.html.tera",
        include_str!("../../../templates/web/incident.html.tera"),
    ),
    (
        "web/edit.html.tera",
        include_str!("../../../templates/web/edit.html.tera"),
    ),
    (
        "web/diff.html.tera",
        include_str!("../../../templates/web/diff.html.tera"),
    ),
    (
        "web/families.html.tera",
        include_str!("../../../templates/web/families.html.tera"),
    ),
    (
        "web/reports.html.tera",
        include_str!("../../../templates/web/reports.html.tera"),
    ),
];

/// The small script the pages load (no inline scripts, so the CSP can forbid them).
const SCRIPT: &str = include_str!("../../../templates/web/web.js");

/// The page templates, loaded once at start-up; a file `web/<name>` in the templates folder
/// replaces the built-in one of that name.
pub struct Pages {
    tera: Tera,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl Pages {
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html.tera"]);
        let mut sources = Vec::new();
        for (name, builtin) in BUILTIN {
            sources.push((*name, source(dir, name, builtin)?));
        }
        tera.add_raw_templates(sources)
            .map_err(|e| TemplateError::Invalid {
                name: "web/*.html.tera".into(),
                message: error_chain(&e),
            })?;
        Ok(Self { tera })
    }

    /// Renders a page; a template error is a 500 whose cause goes to the log.
    pub fn render(&self, name: &str, ctx: &Context) -> Result<Html<String>, Error> {
        self.tera
            .render(name, ctx)
            .map(Html)
            .map_err(|e| Error::Internal(format!("template {name}: {}", error_chain(&e))))
    }
}

/// The pages' routes: sign-in is open, everything else goes through [`auth::require`].
pub fn router(state: &AppState) -> Router {
    let protected = Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/incidents") }),
        )
        .merge(incidents::router())
        .merge(learn::router())
        .merge(forms::router())
        .route("/logout", axum::routing::post(auth::logout))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ));
    Router::new()
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/static/web.js", get(script))
        .merge(protected)
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// An error as a page (the API keeps its JSON errors).
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        Self(e.into())
    }
}

impl From<crate::review::ReviewError> for PageError {
    fn from(e: crate::review::ReviewError) -> Self {
        Self(e.into())
    }
}

impl From<crate::domain::Invalid> for PageError {
    fn from(e: crate::domain::Invalid) -> Self {
        Self(e.into())
    }
}

/// The error page stands alone (no layout), so it renders even when the page templates do not.
fn error_page(ctx: &Context) -> Option<String> {
    static TERA: std::sync::OnceLock<Option<Tera>> = std::sync::OnceLock::new();
    TERA.get_or_init(|| {
        let mut t = Tera::default();
        t.autoescape_on(vec![".html.tera"]);
        t.add_raw_template(
            "error.html.tera",
            include_str!("../../../templates/web/error.html.tera"),
        )
        .ok()
        .map(|_| t)
    })
    .as_ref()
    .and_then(|t| t.render("error.html.tera", ctx).ok())
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let message = match &self.0 {
            e if status.is_server_error() => {
                if !matches!(e, Error::Store(s) if s.is_transient()) {
                    tracing::error!(error = %e, "page failed");
                }
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    "The service is busy; try again shortly.".to_string()
                } else {
                    "Something went wrong on our side; the log has the details.".to_string()
                }
            }
            e => e.to_string(),
        };
        let mut ctx = Context::new();
        ctx.insert("status", &status.as_u16());
        ctx.insert("reason", status.canonical_reason().unwrap_or("Error"));
        ctx.insert("message", &message);
        let html = error_page(&ctx);
        let body = html.unwrap_or_else(|| format!("{status}: {message}"));
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    }
}
