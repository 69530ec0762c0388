//! A Slack Web API stand-in speaking Slack's wire format: `conversations.history` (a 429 first,
//! then two cursor pages, newest first), `conversations.replies`, `conversations.info`,
//! `users.info` (two people by name, `user_not_found` for the rest; calls counted) and
//! `chat.postMessage` (recorded), all behind the bot token.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A request to `path` as Slack sends one: the body with its content type,
/// `X-Slack-Request-Timestamp` and, when given, `X-Slack-Signature`.
pub fn request(
    app: &super::TestApp,
    path: &str,
    content_type: &str,
    body: &str,
    ts: i64,
    signature: Option<String>,
) -> reqwest::RequestBuilder {
    let mut req = app
        .http
        .post(format!("{}{path}", app.base))
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", ts.to_string());
    if let Some(s) = signature {
        req = req.header("x-slack-signature", s);
    }
    req.body(body.to_string())
}

/// The signing secret the Slack tests configure.
pub const SLACK_SECRET: &str = "test-slack-signing-secret";
/// The bot token the stand-in expects as a bearer.
pub const BOT_TOKEN: &str = "xoxb-test-bot-token-1234567890";

/// What the fake Slack Web API saw.
#[derive(Clone, Default)]
pub struct FakeSlack {
    pub posts: Arc<Mutex<Vec<Value>>>,
    pub history_calls: Arc<Mutex<usize>>,
    pub auth_ok: Arc<Mutex<bool>>,
    pub user_lookups: Arc<Mutex<Vec<String>>>,
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

async fn users_info(
    State(s): State<FakeSlack>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&headers) {
        return axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    let id = q.get("user").cloned().unwrap_or_default();
    s.user_lookups.lock().unwrap().push(id.clone());
    // Slack's users.info: the profile's display name may be empty, the real name then reads.
    let (display, real) = match id.as_str() {
        "U123ABC456" => ("ana", "Ana Souza"),
        "U0LEE0001" => ("", "Lee Park"),
        "U0DANA001" => ("dana", "Dana Oncall"),
        _ => return axum::Json(json!({"ok": false, "error": "user_not_found"})).into_response(),
    };
    axum::Json(json!({"ok": true, "user": {
        "id": id, "team_id": "T123ABC456", "name": real.to_lowercase().replace(' ', "."),
        "deleted": false, "real_name": real, "tz": "Europe/Lisbon", "tz_offset": 0,
        "profile": {"real_name": real, "display_name": display, "real_name_normalized": real,
            "display_name_normalized": display, "team": "T123ABC456"},
        "is_admin": false, "is_bot": false, "updated": 1767225000
    }}))
    .into_response()
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

/// Starts the stand-in; returns its API base URL (for `SLACK_API_URL`) and its record.
pub async fn start() -> (String, FakeSlack) {
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
        .route(
            "/api/users.info",
            axum::routing::get(users_info).post(users_info),
        )
        .route("/api/chat.postMessage", axum::routing::post(post_message))
        .with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, s)
}

impl FakeSlack {
    /// The user ids asked of `users.info` so far.
    pub fn user_lookups(&self) -> Vec<String> {
        self.user_lookups.lock().unwrap().clone()
    }

    /// The `chat.postMessage` bodies received so far.
    pub fn posts(&self) -> Vec<Value> {
        self.posts.lock().unwrap().clone()
    }
}
