//! `/openapi.json` describes exactly the routes the service serves.

mod common;

use common::*;
use reqwest::StatusCode;

const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/incidents"),
    ("get", "/api/incidents/{id}"),
    ("get", "/api/incidents/{id}/timeline"),
    ("get", "/api/jobs"),
    ("get", "/api/jobs/{id}"),
    ("get", "/api/families"),
    ("post", "/api/families/recompute"),
    ("get", "/api/reports/{month}"),
    ("get", "/api/incidents/{id}/postmortem"),
    ("get", "/api/incidents/{id}/postmortem/revisions"),
    ("post", "/api/incidents/{id}/postmortem/draft"),
    ("put", "/api/incidents/{id}/postmortem"),
    ("post", "/api/incidents/{id}/postmortem/status"),
    ("get", "/api/incidents/{id}/postmortem/export"),
    ("get", "/api/incidents/{id}/postmortem/diff"),
    ("get", "/api/incidents/{id}/postmortem/reviews"),
    ("get", "/api/incidents/{id}/action-items"),
    ("post", "/api/incidents/{id}/action-items"),
    ("patch", "/api/incidents/{id}/action-items/{n}"),
    ("delete", "/api/incidents/{id}/action-items/{n}"),
    ("get", "/api/incidents/{id}/similar"),
    ("get", "/api/similar"),
    ("post", "/webhooks/slack/commands"),
    ("post", "/webhooks/slack/events"),
    ("post", "/webhooks/pagerduty"),
    ("post", "/webhooks/changes"),
    ("post", "/webhooks/github"),
    ("post", "/api/v1/lineage"),
];

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_nothing_else() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "open, no token");
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<(String, String)> = Vec::new();
    // Client generators and validators need every operationId once.
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            documented.push((method.clone(), path.clone()));
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(
                operation_ids.insert(id.clone()),
                "operationId {id:?} of {method} {path} repeats"
            );
            if path.starts_with("/api/") && path != "/api/v1/lineage" {
                assert_eq!(
                    op["security"][0]["api_token"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
            }
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // And every documented route exists: none answers the router's 404 for unknown routes.
    for (method, path) in ROUTES {
        let url = format!("{}{}", app.base, path.replace("{id}", "PNOPE1"));
        let r = match *method {
            "get" => app
                .http
                .get(&url)
                .bearer_auth(API_TOKEN)
                .send()
                .await
                .unwrap(),
            _ => app
                .http
                .post(&url)
                .bearer_auth(API_TOKEN)
                .body("{}")
                .send()
                .await
                .unwrap(),
        };
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("no such route"),
            "{method} {path}: {status} {body}"
        );
    }
    app.stop().await;
}
