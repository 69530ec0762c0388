//! The `/postmortem` slash command, signed as Slack signs it, through the real endpoint.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use postmortem::ingest::signature::sign_slack;
use reqwest::StatusCode;
use serde_json::Value;

use common::slack::SLACK_SECRET;

async fn slack_app() -> TestApp {
    spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
    })
    .await
}

fn form(text: &str, response_url: &str) -> String {
    serde_urlencoded::to_string([
        ("token", "gIkuvaNzQIHg97ATvDxqgjtO"),
        ("team_id", "T0001"),
        ("channel_id", "C0INCIDENT1"),
        ("channel_name", "inc-payments"),
        ("user_id", "U2147483697"),
        ("user_name", "dana"),
        ("command", "/postmortem"),
        ("text", text),
        ("response_url", response_url),
        ("trigger_id", "13345224609.738474920.8088930838d88f008e0"),
    ])
    .unwrap()
}

async fn post_command(
    app: &TestApp,
    body: &str,
    ts: i64,
    signature: Option<String>,
) -> reqwest::Response {
    common::slack::request(
        app,
        "/webhooks/slack/commands",
        "application/x-www-form-urlencoded",
        body,
        ts,
        signature,
    )
    .send()
    .await
    .unwrap()
}

async fn command(app: &TestApp, text: &str, response_url: &str) -> Value {
    let body = form(text, response_url);
    let ts = now_secs();
    let r = post_command(
        app,
        &body,
        ts,
        Some(sign_slack(SLACK_SECRET, ts, body.as_bytes())),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{text}");
    r.json().await.unwrap()
}

fn all_text(v: &Value) -> String {
    v.to_string()
}

/// An in-process stand-in for Slack's response_url: keeps what is posted.
/// The incident the test channel is linked to.
async fn linked_incident(app: &TestApp) -> Option<String> {
    app.store.incident_for_channel("C0INCIDENT1").await.unwrap()
}

async fn response_sink() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/commands/1234/5678",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(v);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/commands/1234/5678",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test]
async fn unsigned_forged_and_stale_commands_are_refused_and_ssl_check_passes() {
    let app = slack_app().await;
    let body = form("help", "");
    let ts = now_secs();
    for (sig, ts) in [
        (None, ts),
        (Some("v0=deadbeef".to_string()), ts),
        (Some(sign_slack("another-secret", ts, body.as_bytes())), ts),
        (
            Some(sign_slack(SLACK_SECRET, ts - 301, body.as_bytes())),
            ts - 301,
        ),
        (
            Some(sign_slack(SLACK_SECRET, ts + 301, body.as_bytes())),
            ts + 301,
        ),
    ] {
        let r = post_command(&app, &body, ts, sig.clone()).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{sig:?} at {ts}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].is_string());
    }
    // Tampered body, valid signature of the original.
    let sig = sign_slack(SLACK_SECRET, ts, body.as_bytes());
    let r = post_command(&app, &body.replace("help", "link"), ts, Some(sig)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let probe = "ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO";
    let r = post_command(
        &app,
        probe,
        ts,
        Some(sign_slack(SLACK_SECRET, ts, probe.as_bytes())),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);

    let help = command(&app, "", "").await;
    assert!(all_text(&help).contains("similar <incident-id | words>"));
    let unknown = command(&app, "frobnicate now", "").await;
    assert!(
        all_text(&unknown).contains("I don't know `frobnicate`"),
        "{unknown}"
    );
    assert_eq!(unknown["response_type"], "ephemeral");
    app.stop().await;

    // No signing secret configured: 503, so Slack retries once it is.
    let app = spawn_app().await;
    let r = post_command(
        &app,
        &body,
        ts,
        Some(sign_slack(SLACK_SECRET, ts, body.as_bytes())),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_command_is_acknowledged_and_not_run_again() {
    let app = slack_app().await;
    for id in ["PRPL1", "PRPL2"] {
        let body = pd_event(
            &format!("{id}-T"),
            "incident.triggered",
            id,
            "triggered",
            "2026-10-03T10:00:00Z",
        );
        assert_eq!(
            app.post_pagerduty(&body).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let body = form("link PRPL1", "");
    let ts = now_secs();
    let sig = sign_slack(SLACK_SECRET, ts, body.as_bytes());
    let first: Value = post_command(&app, &body, ts, Some(sig.clone()))
        .await
        .json()
        .await
        .unwrap();
    assert!(all_text(&first).contains("Linked"), "{first}");
    // Another command moves the channel; the first, replayed with its signature, changes nothing.
    command(&app, "link PRPL2", "").await;
    let r = post_command(&app, &body, ts, Some(sig)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let replay: Value = r.json().await.unwrap();
    assert!(all_text(&replay).contains("already received"), "{replay}");
    assert_eq!(linked_incident(&app).await.as_deref(), Some("PRPL2"));
    app.stop().await;
}

#[tokio::test]
async fn similar_answers_with_why_and_what_fixed_it_in_block_kit() {
    let app = slack_app().await;
    app.import_history().await;
    let v = command(&app, "similar H-0001", "").await;
    assert_eq!(v["response_type"], "ephemeral");
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let sections: Vec<&Value> = blocks.iter().filter(|b| b["type"] == "section").collect();
    assert_eq!(sections.len(), 5, "{v:#}");
    let md = sections[0]["text"]["text"].as_str().unwrap();
    assert!(md.contains("_Why:_ shares"), "{md}");
    assert!(md.contains("/incidents/H-"), "links to the incident: {md}");
    assert!(all_text(&v).contains("_What fixed it:_"), "{v:#}");

    let words = command(&app, "similar certificate expired on the api gateway", "").await;
    assert_eq!(
        words["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "section")
            .count(),
        5
    );

    let none = command(&app, "similar zzzqqq", "").await;
    assert!(
        all_text(&none).contains("No past incident looks like"),
        "{none}"
    );
    let empty = command(&app, "similar", "").await;
    assert!(
        all_text(&empty).contains("Give an incident id or some words"),
        "{empty}"
    );
    app.stop().await;
}

#[tokio::test]
async fn draft_queues_a_redraft_and_reports_back_and_link_links_the_channel() {
    let app = slack_app().await;
    let (url, got) = response_sink().await;
    for body in [
        pd_event(
            "S1",
            "incident.triggered",
            "PSLK1",
            "triggered",
            "2026-10-02T10:00:00Z",
        ),
        pd_event(
            "S2",
            "incident.resolved",
            "PSLK1",
            "resolved",
            "2026-10-02T10:30:00Z",
        ),
    ] {
        assert_eq!(
            app.post_pagerduty(&body).await.status(),
            StatusCode::ACCEPTED
        );
    }
    app.wait_for_postmortem("PSLK1").await;

    let unknown = command(&app, "draft PNOPE99", &url).await;
    assert!(
        all_text(&unknown).contains("No incident `PNOPE99`"),
        "{unknown}"
    );
    let queued = command(&app, "generate PSLK1", &url).await;
    assert!(
        all_text(&queued).contains("Drafting the postmortem of `PSLK1` again"),
        "{queued}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no delayed answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let later = got.lock().unwrap()[0].clone();
    assert!(all_text(&later).contains("Postmortem of PSLK1"), "{later}");
    assert!(all_text(&later).contains("revision 2"), "{later}");

    let linked = command(&app, "link PSLK1", &url).await;
    assert_eq!(linked["response_type"], "in_channel");
    assert!(
        all_text(&linked).contains("Linked #inc-payments to `PSLK1`"),
        "{linked}"
    );
    assert_eq!(linked_incident(&app).await.as_deref(), Some("PSLK1"));
    let bad = command(&app, "link", &url).await;
    assert!(all_text(&bad).contains("Which incident?"));
    // In the linked channel, `similar` alone means its incident.
    let v = command(&app, "similar", "").await;
    assert!(!all_text(&v).contains("Give an incident id"), "{v}");
    app.stop().await;
}
