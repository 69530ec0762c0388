//! Test harness: the real application on port 0, over SQLite (a temp file) or, when
//! `TEST_DATABASE_URL` is set, PostgreSQL in a schema of its own, with helpers that sign requests
//! the way the senders do.
#![allow(dead_code)]

pub mod openai;
pub mod prometheus;
pub mod slack;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use postmortem::app::startup::Application;
use postmortem::config::Config;
use postmortem::ingest::signature::{hmac_sha256, sign_pagerduty};
use postmortem::store::Store;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub const PD_SECRET: &str = "test-pagerduty-secret";
pub const PD_OLD_SECRET: &str = "previous-pagerduty-secret";
pub const INGEST_TOKEN: &str = "test-ingest-token";
pub const API_TOKEN: &str = "test-api-token";

/// A vendor payload from `fixtures/reference/` (see its README for where each came from).
pub fn reference(path: &str) -> String {
    let p = format!("{}/fixtures/reference/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {p}: {e}"))
}

/// The variable CI sets so that a tool it installed but a test could not find fails that test
/// instead of skipping it.
pub const REQUIRE_TOOLS: &str = "POSTMORTEM_TEST_REQUIRE_TOOLS";

/// Says why a test cannot run on this machine (a tool a fresh machine may lack: Prometheus,
/// Chromium); the caller then returns, and the test passes. Panics instead when
/// `POSTMORTEM_TEST_REQUIRE_TOOLS` is set (CI), where nothing may be skipped.
pub fn skipped(reason: &str) {
    if std::env::var_os(REQUIRE_TOOLS).is_some_and(|v| !v.is_empty()) {
        panic!("{reason}, and {REQUIRE_TOOLS} is set: nothing may be skipped here");
    }
    eprintln!("SKIPPED: {reason}");
}

/// Seconds since the Unix epoch (Slack's request timestamps).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Runs the `postmortem` binary on `db` with no LLM configured, feeding `stdin` when given;
/// returns (exit code, stdout, stderr).
pub fn run_cli(args: &[&str], db: &str, stdin: Option<&str>) -> (i32, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("POSTMORTEM_LLM_MODEL")
        .env_remove("OPENAI_BASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Compact bytes of a JSON document (the pretty files are sent as they are, too).
pub fn compact(json: &str) -> String {
    serde_json::to_string(&serde_json::from_str::<Value>(json).unwrap()).unwrap()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// A fresh, isolated database URL, plus the temp dir that holds a SQLite file.
/// The report schedule the scheduling tests use (`0 9 1 * *`, 09:00 UTC on the 1st).
pub const REPORT_SCHEDULE: &str = "0 9 1 * *";

/// The month [`REPORT_SCHEDULE`]'s latest passed occurrence reports on.
pub fn last_scheduled_month() -> postmortem::domain::report::Month {
    let cron: croner::Cron = REPORT_SCHEDULE.parse().unwrap();
    let due = cron
        .find_previous_occurrence(&chrono::Utc::now(), true)
        .unwrap();
    postmortem::domain::report::Month::of(due.timestamp_millis()).previous()
}

/// A fresh database whose service first ran long ago and was down at the last scheduled report,
/// so that report is due at start-up; with the store open on it.
pub async fn database_down_at_last_report() -> (String, Option<tempfile::TempDir>, Store) {
    let (db, dir) = fresh_database().await;
    let store = Store::connect(&db).await.unwrap();
    store.set_state("report_schedule_since", "0").await.unwrap();
    (db, dir, store)
}

/// A setting that announces scheduled reports (on [`REPORT_SCHEDULE`]) in `CREPORTS` of the Slack
/// stand-in at `slack_url`.
pub fn announcing_reports(slack_url: String) -> impl Fn(&mut Config) + Clone {
    move |c: &mut Config| {
        c.slack_bot_token = Some(slack::BOT_TOKEN.to_string().into());
        c.slack_api_url = slack_url.clone();
        c.slack_report_channel = Some("CREPORTS".into());
        c.report_schedule = REPORT_SCHEDULE.into();
    }
}

pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    // Tests build HTTPS-capable clients: one TLS provider for the process first.
    postmortem::app::startup::install_crypto_provider();
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(base) => {
            let pid = std::process::id();
            let admin = Store::connect_without_migrating(&base)
                .await
                .expect("TEST_DATABASE_URL reachable");
            // Test binaries run one after another: drop schemas earlier binaries left behind.
            CLEANED
                .get_or_init(|| async {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pmt\\_%'",
                    )
                    .fetch_all(admin.pool())
                    .await
                    .unwrap_or_default();
                    for (name,) in rows
                        .into_iter()
                        .filter(|(n,)| !n.starts_with(&format!("pmt_{pid}_")))
                    {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA IF EXISTS {name} CASCADE"
                        )))
                        .execute(admin.pool())
                        .await;
                    }
                })
                .await;
            let schema = format!("pmt_{pid}_{}", COUNTER.fetch_add(1, Ordering::SeqCst));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(admin.pool())
                .await
                .expect("create test schema");
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{sep}options[search_path]={schema}"), None)
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            (
                format!("sqlite://{}", dir.path().join("test.db").display()),
                Some(dir),
            )
        }
    }
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_string(),
        pagerduty_webhook_secrets: vec![
            SecretString::from(PD_SECRET),
            SecretString::from(PD_OLD_SECRET),
        ],
        ingest_token: Some(SecretString::from(INGEST_TOKEN)),
        api_token: Some(SecretString::from(API_TOKEN)),
        draft_delay_secs: 0,
        job_poll_millis: 50,
        ..Config::default()
    }
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub database_url: String,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (url, dir) = fresh_database().await;
    spawn_on(url, dir, adjust).await
}

/// Another replica of the service on the database at `url` (the first replica owns `dir`).
pub async fn spawn_replica(url: &str) -> TestApp {
    spawn_on(url.to_string(), None, |_| {}).await
}

/// The service on the database at `url`, with adjusted configuration.
pub async fn spawn_at(url: &str, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_on(url.to_string(), None, adjust).await
}

async fn spawn_on(
    url: String,
    dir: Option<tempfile::TempDir>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    postmortem::app::startup::install_crypto_provider();
    let mut config = test_config(&url);
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::build(config, listener)
        .await
        .expect("app builds");
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp {
        base,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        store,
        database_url: url,
        shutdown,
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    /// Posts a PagerDuty webhook body signed with the current secret.
    pub async fn post_pagerduty(&self, body: &str) -> Response {
        self.post_pagerduty_signed(body, Some(&sign_pagerduty(PD_SECRET, body.as_bytes())))
            .await
    }

    pub async fn post_pagerduty_signed(&self, body: &str, signature: Option<&str>) -> Response {
        let mut r = self
            .http
            .post(format!("{}/webhooks/pagerduty", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = signature {
            r = r.header("x-pagerduty-signature", s);
        }
        r.send().await.unwrap()
    }

    /// A GitHub webhook of `event`, signed with `secret` the way GitHub signs
    /// (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`).
    pub async fn post_github(&self, event: &str, body: &str, secret: &str) -> Response {
        let sig = format!(
            "sha256={}",
            hex::encode(hmac_sha256(secret.as_bytes(), body.as_bytes()))
        );
        self.http
            .post(format!("{}/webhooks/github", self.base))
            .header("x-github-event", event)
            .header("x-hub-signature-256", sig)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// A resolved incident `id` with a responder's note, drafted; returns the draft.
    pub async fn drafted_incident(&self, id: &str) -> Value {
        let t = pd_event(
            &format!("{id}-t"),
            "incident.triggered",
            id,
            "triggered",
            "2026-10-02T14:20:00Z",
        );
        let n = pd_note(
            &format!("{id}-n"),
            id,
            "2026-10-02T14:31:00Z",
            "Connection pool exhausted; rolled back the deploy and errors fell",
        );
        let r = pd_event(
            &format!("{id}-r"),
            "incident.resolved",
            id,
            "resolved",
            "2026-10-02T14:50:00Z",
        );
        for body in [t, n, r] {
            assert_eq!(
                self.post_pagerduty(&body).await.status(),
                StatusCode::ACCEPTED
            );
        }
        self.wait_for_postmortem(id).await
    }

    /// Imports the bundled history (`fixtures/history/incidents.jsonl`) straight into the store;
    /// returns its records as JSON.
    pub async fn import_history(&self) -> Vec<Value> {
        let config = Config::default();
        let text = std::fs::read_to_string(format!(
            "{}/fixtures/history/incidents.jsonl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut records = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let r = postmortem::ingest::history::parse_record(line, &config).unwrap();
            self.store.import_record(&r).await.unwrap();
            records.push(serde_json::from_str(line).unwrap());
        }
        records
    }

    pub async fn post_changes(&self, body: &str) -> Response {
        self.post_ingest("/webhooks/changes", body).await
    }

    pub async fn post_lineage(&self, body: &str) -> Response {
        self.post_ingest("/api/v1/lineage", body).await
    }

    /// POSTs JSON with the ingest token.
    async fn post_ingest(&self, path: &str, body: &str) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(INGEST_TOKEN)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Asks for a redraft through the API; returns the response.
    pub async fn request_redraft(&self, id: &str) -> Response {
        self.http
            .post(format!("{}/api/incidents/{id}/postmortem/draft", self.base))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/families/recompute`: the families computed now (asserts 200).
    pub async fn recompute_families(&self) -> Value {
        let r = self
            .http
            .post(format!("{}/api/families/recompute", self.base))
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// Calls the API with the token: the status and the body as JSON (a string where it is not JSON).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(API_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn api_get(&self, path: &str) -> (StatusCode, Value) {
        self.api(reqwest::Method::GET, path, None).await
    }

    pub async fn api_delete(&self, path: &str) -> (StatusCode, Value) {
        self.api(reqwest::Method::DELETE, path, None).await
    }

    pub async fn api_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn api_put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn api_patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.api(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The incident's review log (`GET /api/incidents/{id}/postmortem/reviews`), oldest first.
    pub async fn review_log(&self, id: &str) -> Vec<Value> {
        let log = self
            .get_json(&format!("/api/incidents/{id}/postmortem/reviews"))
            .await;
        log["events"].as_array().unwrap().clone()
    }

    /// The open `/metrics` page.
    pub async fn metrics_text(&self) -> String {
        let r = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap();
        r.text().await.unwrap()
    }

    /// Waits until the incident has a postmortem, and returns it.
    pub async fn wait_for_postmortem(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.get(&format!("/api/incidents/{id}/postmortem")).await;
            if r.status() == StatusCode::OK {
                return r.json().await.unwrap();
            }
            assert!(Instant::now() < deadline, "no postmortem for {id}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Replays the bundled demo incidents (changes first, then webhooks in time order).
    pub async fn replay_demo(&self) {
        let r = self
            .post_changes(postmortem::cli::demo::CHANGE_EVENTS)
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        for l in postmortem::cli::demo::LINEAGE_EVENTS
            .lines()
            .filter(|l| !l.is_empty())
        {
            assert_eq!(self.post_lineage(l).await.status(), StatusCode::CREATED);
        }
        let mut lines: Vec<(String, &str)> = postmortem::cli::demo::PAGERDUTY_EVENTS
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["event"]["occurred_at"].as_str().unwrap().to_string(), l)
            })
            .collect();
        lines.sort();
        for (_, l) in lines {
            assert_eq!(self.post_pagerduty(l).await.status(), StatusCode::ACCEPTED);
        }
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A PagerDuty webhook body for an incident event, shaped like the reference bodies.
pub fn pd_event(
    event_id: &str,
    event_type: &str,
    incident: &str,
    status: &str,
    at: &str,
) -> String {
    serde_json::json!({
        "event": {
            "id": event_id, "event_type": event_type, "resource_type": "incident", "occurred_at": at,
            "agent": {"id": "PU1", "type": "user_reference", "summary": "Alex Responder"},
            "client": null,
            "data": {
                "id": incident, "type": "incident", "number": 7, "status": status,
                "title": format!("Checkout errors ({incident})"),
                "service": {"id": "PSVC1", "type": "service_reference", "summary": "Payments-API"},
                "assignees": [{"id": "PU1", "type": "user_reference", "summary": "Alex Responder"}],
                "teams": [], "priority": null, "urgency": "high"
            }
        }
    })
    .to_string()
}

pub fn pd_note(event_id: &str, incident: &str, at: &str, text: &str) -> String {
    serde_json::json!({
        "event": {
            "id": event_id, "event_type": "incident.annotated", "resource_type": "incident", "occurred_at": at,
            "agent": {"id": "PU1", "type": "user_reference", "summary": "Alex Responder"},
            "client": null,
            "data": {"incident": {"id": incident, "type": "incident_reference"}, "id": "PN1", "content": text, "type": "incident_note"}
        }
    })
    .to_string()
}
