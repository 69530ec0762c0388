//! A Slack Web API stand-in that records `chat.postMessage` calls (for announcements).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

#[derive(Clone, Default)]
pub struct FakeSlack {
    pub posts: Arc<Mutex<Vec<Value>>>,
}

impl FakeSlack {
    pub fn posts(&self) -> Vec<Value> {
        self.posts.lock().unwrap().clone()
    }
}

async fn post_message(
    axum::extract::State(s): axum::extract::State<FakeSlack>,
    body: String,
) -> axum::Json<Value> {
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    s.posts.lock().unwrap().push(v.clone());
    axum::Json(
        json!({"ok": true, "channel": v["channel"], "ts": "1767229999.000100",
        "message": {"type": "message", "text": v["text"], "ts": "1767229999.000100"}}),
    )
}

/// Starts the stand-in; returns its API base URL (for `SLACK_API_URL`) and its record.
pub async fn start() -> (String, FakeSlack) {
    let s = FakeSlack::default();
    let router = axum::Router::new()
        .route("/api/chat.postMessage", axum::routing::post(post_message))
        .with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, s)
}
