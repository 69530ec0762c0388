//! `GET /openapi.json`: the API described from the handlers' own annotations (utoipa).

use axum::Json;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::Router;

/// Every error: `{"error": "...", "detail": ...}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// What went wrong, for people.
    error: String,
    /// More about it, when there is more (often null).
    #[schema(nullable = true, value_type = Object)]
    detail: Option<serde_json::Value>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        for name in ["api_token", "ingest_token"] {
            c.add_security_scheme(
                name,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "postmortem", description = "Drafted, evidence-cited postmortems and similar past incidents"),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::health::metrics,
        super::incidents::list,
        super::incidents::one,
        super::incidents::timeline,
        super::jobs::list,
        super::jobs::one,
        super::postmortems::current,
        super::postmortems::revisions,
        super::postmortems::redraft,
        super::reviews::edit_markdown,
        super::reviews::set_status,
        super::reviews::export,
        super::reviews::diff,
        super::reviews::reviews,
        super::reviews::list_items,
        super::reviews::add_item,
        super::reviews::update_item,
        super::reviews::delete_item,
        super::similar::like_incident,
        super::similar::like_text,
        super::families::list,
        super::families::recompute,
        super::families::report,
        super::slack::commands::command,
        super::slack::events::events,
        super::webhooks::pagerduty_webhook,
        super::webhooks::change_events,
        super::webhooks::github_webhook,
        super::webhooks::lineage_event,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security)
)]
pub struct ApiDoc;

pub fn router() -> Router {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
