//! An in-process OpenAI-compatible server: `POST /v1/chat/completions` records every request
//! (headers and body) and answers with whatever the test's script says for that request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the server does with request number `n` (from 0), given its body.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A chat completion whose message content is `content`.
    pub fn content(content: &str) -> Self {
        Self::ok(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_790_000_000u64,
            "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
        }))
    }

    /// A chat completion that calls the postmortem tool with `arguments`.
    pub fn tool_call(arguments: &str) -> Self {
        Self::ok(json!({
            "id": "chatcmpl-2", "object": "chat.completion", "created": 1_790_000_000u64,
            "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": null, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "write_postmortem", "arguments": arguments}}]}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 250, "total_tokens": 1250}
        }))
    }

    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body,
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    /// An OpenAI-shaped error.
    pub fn error(status: u16, kind: &str, message: &str) -> Self {
        Self {
            status,
            body: json!({"error": {"message": message, "type": kind, "param": null, "code": null}}),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

type Script = Arc<dyn Fn(usize, &Value) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    script: Script,
}

pub struct FakeOpenAi {
    pub base_url: String,
    requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl FakeOpenAi {
    pub async fn start(script: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Shared {
            requests: Arc::default(),
            script: Arc::new(script),
        };
        let requests = shared.requests.clone();
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{addr}/v1"),
            requests,
        }
    }

    /// Every request body so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub fn headers(&self, n: usize) -> HeaderMap {
        self.requests.lock().unwrap()[n].0.clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

async fn complete(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let n = {
        let mut r = s.requests.lock().unwrap();
        r.push((headers, value.clone()));
        r.len() - 1
    };
    let reply = (s.script)(n, &value);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap(),
        [("content-type", "application/json")],
        reply.body.to_string(),
    )
        .into_response();
    for (k, v) in reply.headers {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}

/// The user prompt of a request.
pub fn user_prompt(body: &Value) -> String {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .next()
        .unwrap_or_default()
}

/// Every `[id]` in the prompt's section `heading`, in order.
pub fn ids_in_section(prompt: &str, heading: &str) -> Vec<String> {
    let section = prompt
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_default();
    let mut ids = Vec::new();
    let mut rest = section;
    while let Some(start) = rest.find('[') {
        let Some(end) = rest[start..].find(']') else {
            break;
        };
        let id = &rest[start + 1..start + end];
        if id.contains(':') && !id.contains(' ') {
            ids.push(id.to_string());
        }
        rest = &rest[start + end + 1..];
    }
    ids
}

/// A well-formed answer that cites the prompt's top candidate and the first timeline item, plus
/// `extra` hypotheses as given.
pub fn good_answer(body: &Value, extra: Vec<Value>) -> String {
    let prompt = user_prompt(body);
    let candidate = ids_in_section(&prompt, "Ranked root-cause candidates")
        .into_iter()
        .next()
        .unwrap_or_default();
    let first = ids_in_section(&prompt, "Timeline")
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut hypotheses = vec![json!({
        "hypothesis": "The statement-timeout deploy made slow queries hold connections until the pool ran out.",
        "confidence": 0.9,
        "evidence_ids": [candidate]
    })];
    hypotheses.extend(extra);
    json!({
        "summary": "Checkout failed while the database pool was exhausted; rolling back the deploy fixed it.",
        "summary_evidence_ids": [candidate, first],
        "impact": [{"text": "Customers saw checkout errors.", "evidence_ids": [first]}],
        "root_cause_hypotheses": hypotheses,
        "contributing_factors": [{"text": "No alert on pool saturation.", "evidence_ids": []}],
        "what_went_well": [{"text": "The rollback was quick.", "evidence_ids": [first]}],
        "what_went_poorly": [],
        "action_items": [{"text": "Alert on connection pool saturation.", "owner": null, "evidence_ids": [candidate]}]
    })
    .to_string()
}
