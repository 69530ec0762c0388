//! Slack's Events API with the reference bodies, signed as Slack signs them, and an in-process
//! server speaking Slack's Web API (history, replies, info, rate limits, chat.postMessage) for the
//! backfill and the announcements.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::*;
use postmortem::ingest::signature::sign_slack;
use serde_json::{Value, json};

const SLACK_SECRET: &str = "test-slack-signing-secret";
const BOT_TOKEN: &str = "xoxb-test-bot-token-1234567890";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn reference_bodies() -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(&reference("slack/requests.json")).unwrap();
    v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["body"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn body(name_starts: &str) -> String {
    reference_bodies()
        .into_iter()
        .find(|(n, _)| n.starts_with(name_starts))
        .unwrap_or_else(|| panic!("no reference body {name_starts}"))
        .1
}

async fn post_event(
    app: &TestApp,
    body: &str,
    ts: i64,
    secret: &str,
    retry: Option<u32>,
) -> reqwest::Response {
    let mut req = app
        .http
        .post(format!("{}/webhooks/slack/events", app.base))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", sign_slack(secret, ts, body.as_bytes()));
    if let Some(n) = retry {
        req = req
            .header("x-slack-retry-num", n.to_string())
            .header("x-slack-retry-reason", "http_timeout");
    }
    req.body(body.to_string()).send().await.unwrap()
}

/// What the fake Slack Web API saw.
#[derive(Clone, Default)]
struct FakeSlack {
    posts: Arc<Mutex<Vec<Value>>>,
    history_calls: Arc<Mutex<usize>>,
    auth_ok: Arc<Mutex<bool>>,
}

fn bearer_ok(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {BOT_TOKEN}"))
}

async fn history(
    State(s): State<FakeSlack>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    *s.auth_ok.lock().unwrap() = bearer_ok(&headers);
    let n = {
        let mut c = s.history_calls.lock().unwrap();
        *c += 1;
        *c
    };
    if n == 1 {
        // Slack's slow limits for apps outside the Marketplace: the first call is refused.
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            r#"{"ok":false,"error":"ratelimited"}"#,
        )
            .into_response();
    }
    assert_eq!(q["channel"], "C0INCIDENT1");
    let page = match q.get("cursor").map(String::as_str) {
        None | Some("") => json!({"ok": true, "messages": [
            // Newest first, as Slack sends them.
            {"type": "message", "user": "U222BBB222", "text": "Confirmed: rolling back deploy-77 fixed checkout", "ts": "1767225700.000900"},
            {"type": "message", "subtype": "bot_message", "bot_id": "BB1", "text": "CI passed", "ts": "1767225650.000800"},
            {"type": "message", "user": "U123ABC456", "text": "DB failover started, error rate 12% on checkout", "ts": "1767225590.000100",
             "thread_ts": "1767225590.000100", "reply_count": 1}
        ], "has_more": true, "response_metadata": {"next_cursor": "bmV4dF90czoxNTEy"}}),
        Some(_) => json!({"ok": true, "messages": [
            {"type": "message", "user": "U123ABC456", "text": "Paging the DB team", "ts": "1767225500.000050"}
        ], "has_more": false, "response_metadata": {"next_cursor": ""}}),
    };
    axum::Json(page).into_response()
}

async fn replies(Query(q): Query<std::collections::HashMap<String, String>>) -> Response {
    assert_eq!(q["ts"], "1767225590.000100");
    axum::Json(json!({"ok": true, "messages": [
        {"type": "message", "user": "U123ABC456", "text": "DB failover started, error rate 12% on checkout", "ts": "1767225590.000100", "thread_ts": "1767225590.000100", "reply_count": 1},
        {"type": "message", "user": "U999ZZZ999", "text": "Pool is pinned at max connections", "ts": "1767225620.000700", "thread_ts": "1767225590.000100"}
    ], "has_more": false, "response_metadata": {"next_cursor": ""}})).into_response()
}

async fn info(Query(q): Query<std::collections::HashMap<String, String>>) -> Response {
    let name = if q["channel"] == "C0INCIDENT1" {
        "inc-7"
    } else {
        "random"
    };
    axum::Json(json!({"ok": true, "channel": {"id": q["channel"], "name": name, "is_channel": true, "created": 1767225000}})).into_response()
}

async fn post_message(State(s): State<FakeSlack>, headers: HeaderMap, body: String) -> Response {
    assert!(bearer_ok(&headers));
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    s.posts.lock().unwrap().push(v.clone());
    axum::Json(
        json!({"ok": true, "channel": v["channel"], "ts": "1767229999.000100",
        "message": {"type": "message", "text": v["text"], "ts": "1767229999.000100"}}),
    )
    .into_response()
}

async fn fake_slack() -> (String, FakeSlack) {
    let s = FakeSlack::default();
    let app = axum::Router::new()
        .route(
            "/api/conversations.history",
            axum::routing::get(history).post(history),
        )
        .route(
            "/api/conversations.replies",
            axum::routing::get(replies).post(replies),
        )
        .route(
            "/api/conversations.info",
            axum::routing::get(info).post(info),
        )
        .route("/api/chat.postMessage", axum::routing::post(post_message))
        .with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, s)
}

async fn timeline(app: &TestApp, id: &str) -> Vec<Value> {
    app.get_json(&format!("/api/incidents/{id}/timeline")).await["timeline"]
        .as_array()
        .unwrap()
        .clone()
}

fn slack_ids(t: &[Value]) -> Vec<String> {
    t.iter()
        .filter_map(|e| e["evidence_id"].as_str())
        .filter(|i| i.starts_with("slack:"))
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn signed_events_build_the_timeline_and_the_backfill_fills_the_rest_then_drafts_are_announced()
 {
    let (url, fake) = fake_slack().await;
    let app = spawn_app_with(move |c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
        c.slack_bot_token = Some(BOT_TOKEN.to_string().into());
        c.slack_api_url = url;
        c.slack_report_channel = Some("CREPORTS".into());
        c.slack_channel_pattern = Some("inc-{number}".into());
    })
    .await;
    // Incident number 7 ("inc-7") began just before the channel's first message.
    app.post_pagerduty(&pd_event(
        "T1",
        "incident.triggered",
        "PSLKEV",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;

    let ts = now();
    // url_verification: the challenge back.
    let r = post_event(&app, &body("url_verification"), ts, SLACK_SECRET, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    // Stale and forged requests: 401, nothing stored.
    let first = body("message (plain");
    assert_eq!(
        post_event(&app, &first, ts - 301, SLACK_SECRET, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_event(&app, &first, ts, "wrong-secret", None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(slack_ids(&timeline(&app, "PSLKEV").await).is_empty());

    // The conversation, in order, with a retry of the first delivery.
    for name in [
        "message (plain",
        "message (thread reply)",
        "message subtype bot_message",
        "retry of the first message",
        "message subtype channel_join",
        "unmodelled inner event",
    ] {
        let retry = name.starts_with("retry").then_some(1);
        let r = post_event(&app, &body(name), ts, SLACK_SECRET, retry).await;
        assert_eq!(r.status(), StatusCode::OK, "{name}");
    }
    let t = timeline(&app, "PSLKEV").await;
    assert_eq!(
        slack_ids(&t),
        [
            "slack:C0INCIDENT1:1767225590.000100",
            "slack:C0INCIDENT1:1767225595.000200"
        ],
        "the channel linked itself by name (inc-7); bots, joins and the retry left out"
    );
    let reply = t
        .iter()
        .find(|e| e["evidence_id"] == "slack:C0INCIDENT1:1767225595.000200")
        .unwrap();
    assert_eq!(reply["thread"], "1767225590.000100");
    assert_eq!(reply["author"], "U123ABC456");
    assert_eq!(reply["source"], "slack");

    // An edit rewrites the stored message; a delete removes it.
    for name in [
        "message subtype message_changed",
        "message subtype message_deleted",
    ] {
        assert_eq!(
            post_event(&app, &body(name), ts, SLACK_SECRET, None)
                .await
                .status(),
            StatusCode::OK
        );
    }
    let t = timeline(&app, "PSLKEV").await;
    assert_eq!(slack_ids(&t), ["slack:C0INCIDENT1:1767225590.000100"]);
    let edited: Value = serde_json::from_str(&body("message subtype message_changed")).unwrap();
    assert_eq!(
        t.iter()
            .find(|e| e["evidence_id"] == "slack:C0INCIDENT1:1767225590.000100")
            .unwrap()["text"],
        edited["event"]["message"]["text"]
    );

    // A message in an unlinked channel whose name matches nothing is ignored.
    let other = first
        .replace("C0INCIDENT1", "C0RANDOM99")
        .replace("Ev0MSG000001", "Ev0MSG000099");
    assert_eq!(
        post_event(&app, &other, ts, SLACK_SECRET, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert!(
        app.store
            .incident_for_channel("C0RANDOM99")
            .await
            .unwrap()
            .is_none()
    );

    // Resolution: the draft comes on time, the history backfill adds what the events missed
    // (paged, thread replies, after a 429), a redraft follows, and drafts are announced.
    app.post_pagerduty(&pd_event(
        "T2",
        "incident.resolved",
        "PSLKEV",
        "resolved",
        "2026-01-01T00:10:00Z",
    ))
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ids = slack_ids(&timeline(&app, "PSLKEV").await);
        if ids.len() == 4 {
            assert_eq!(
                ids,
                [
                    "slack:C0INCIDENT1:1767225500.000050",
                    "slack:C0INCIDENT1:1767225590.000100",
                    "slack:C0INCIDENT1:1767225620.000700",
                    "slack:C0INCIDENT1:1767225700.000900",
                ]
            );
            break;
        }
        assert!(Instant::now() < deadline, "backfill incomplete: {ids:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        *fake.history_calls.lock().unwrap() >= 3,
        "429, then two pages"
    );
    assert!(*fake.auth_ok.lock().unwrap(), "the bot token as a bearer");
    // The redraft shows the backfilled conversation, and drafts are announced in the incident's
    // channel and the report channel.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = app.get_json("/api/incidents/PSLKEV/postmortem").await;
        let cited = p["timeline"].to_string();
        let posts = fake.posts.lock().unwrap().clone();
        let channels: Vec<&str> = posts.iter().filter_map(|p| p["channel"].as_str()).collect();
        if cited.contains("slack:C0INCIDENT1:1767225700.000900")
            && channels.contains(&"C0INCIDENT1")
            && channels.contains(&"CREPORTS")
            && posts.iter().any(|p| p.to_string().contains("revision 2"))
        {
            let post = &posts[0];
            assert_eq!(post["blocks"][0]["type"], "header");
            assert!(
                post["blocks"][0]["text"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("Postmortem drafted: ")
            );
            assert!(post.to_string().contains("/incidents/PSLKEV"), "{post}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no redraft/announcement: {channels:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn slack_messages_can_support_a_hypothesis_like_notes_do() {
    let app = spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
    })
    .await;
    app.post_changes(&json!([
        {"id": "deploy-77", "service": "payments-api", "kind": "deploy", "summary": "Raise DB statement timeout", "at": "2025-12-31T23:30:00Z", "version": "v1.42.0"},
        {"id": "cfg-12", "service": "payments-api", "kind": "config", "summary": "Tune log sampling", "at": "2025-12-31T23:50:00Z"}
    ]).to_string()).await;
    app.post_pagerduty(&pd_event(
        "U1",
        "incident.triggered",
        "PSLKHY",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;
    app.store
        .link_channel("C0INCIDENT1", "PSLKHY", None)
        .await
        .unwrap();
    let msg = body("message (plain").replace(
        "DB failover started, error rate 12% on checkout",
        "Rolling back deploy-77 now",
    );
    assert_eq!(
        post_event(&app, &msg, now(), SLACK_SECRET, None)
            .await
            .status(),
        StatusCode::OK
    );
    app.post_pagerduty(&pd_event(
        "U2",
        "incident.resolved",
        "PSLKHY",
        "resolved",
        "2026-01-01T00:20:00Z",
    ))
    .await;
    let p = app.wait_for_postmortem("PSLKHY").await;
    let top = &p["root_cause_hypotheses"][0];
    assert_eq!(top["evidence_ids"][0], "change:deploy-77", "{top:#}");
    assert!(
        top["evidence_ids"]
            .to_string()
            .contains("slack:C0INCIDENT1:1767225590.000100"),
        "{top:#}"
    );
    app.stop().await;
}
