//! The read API, auth, health and metrics through HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn the_api_needs_the_bearer_token() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/api/incidents", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].is_string());
    for open in ["/healthz", "/readyz", "/metrics"] {
        let r = app
            .http
            .get(format!("{}{open}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{open}");
    }
    assert_eq!(app.get("/api/incidents").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn incidents_list_with_filters_and_cursor_pagination_newest_first() {
    let app = spawn_app().await;
    for i in 0..7 {
        let id = format!("PLIST{i}");
        let at = format!("2026-10-0{}T10:00:00Z", i + 1);
        app.post_pagerduty(&pd_event(
            &format!("L{i}"),
            "incident.triggered",
            &id,
            "triggered",
            &at,
        ))
        .await;
        if i % 2 == 0 {
            let at = format!("2026-10-0{}T11:00:00Z", i + 1);
            app.post_pagerduty(&pd_event(
                &format!("LR{i}"),
                "incident.resolved",
                &id,
                "resolved",
                &at,
            ))
            .await;
        }
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/incidents?limit=3&cursor={c}"),
            None => "/api/incidents?limit=3".into(),
        };
        let page = app.get_json(&path).await;
        for i in page["incidents"].as_array().unwrap() {
            seen.push(i["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..7)
            .rev()
            .map(|i| format!("PLIST{i}"))
            .collect::<Vec<_>>()
    );
    let resolved = app.get_json("/api/incidents?status=resolved").await;
    assert_eq!(resolved["incidents"].as_array().unwrap().len(), 4);
    let window = app
        .get_json("/api/incidents?since=2026-10-03T00:00:00Z&until=2026-10-05T00:00:00Z")
        .await;
    assert_eq!(window["incidents"].as_array().unwrap().len(), 2);
    let by_service = app.get_json("/api/incidents?service=Payments-API").await;
    assert_eq!(by_service["incidents"].as_array().unwrap().len(), 7);
    for bad in [
        "/api/incidents?limit=0",
        "/api/incidents?status=open",
        "/api/incidents?since=soon",
        "/api/incidents?cursor=zzz",
        "/api/incidents?bogus=1",
    ] {
        let r = app.get(bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    assert_eq!(
        app.get("/api/incidents/no%2Fsuch").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/incidents/PNOPE").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/nothing-here").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn metrics_count_webhooks_jobs_and_drafts() {
    let app = spawn_app().await;
    app.post_pagerduty(&pd_event(
        "M1",
        "incident.triggered",
        "PMET1",
        "triggered",
        "2026-10-02T10:00:00Z",
    ))
    .await;
    app.post_pagerduty(&pd_event(
        "M2",
        "incident.resolved",
        "PMET1",
        "resolved",
        "2026-10-02T10:10:00Z",
    ))
    .await;
    app.wait_for_postmortem("PMET1").await;
    let text = app.metrics_text().await;
    for needle in [
        r#"postmortem_webhooks_total{outcome="accepted",source="pagerduty"} 2"#,
        "postmortem_ingest_latency_seconds_bucket",
        r#"postmortem_drafts_total{drafter="evidence",outcome="ok"}"#,
        "postmortem_draft_latency_seconds_bucket",
        r#"postmortem_jobs{state="pending"}"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}
