//! History import and the golden-set eval, through the command line.

mod common;

use std::process::Command;

use common::*;
use postmortem::domain::IncidentId;
use postmortem::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_postmortem");

#[tokio::test]
async fn import_keeps_good_lines_reports_bad_ones_and_is_idempotent() {
    let (db, _dir) = fresh_database().await;
    let good = r#"{"id": "INC-1", "title": "Checkout 5xx", "service": "Payments-API", "triggered_at": "2026-03-01T10:00:00Z", "acknowledged_at": "2026-03-01T10:04:00Z", "resolved_at": "2026-03-01T10:40:00Z", "severity": "P2", "summary": "Checkout failed", "root_cause": "Pool exhausted after timeout raise", "resolution": "Rolled back", "action_items": ["Alert on pool saturation", {"text": "Cap statement timeout", "owner": "dana", "status": "done", "closed_at": "2026-03-05T00:00:00Z"}], "changes": [{"id": "imp-deploy-1", "service": "payments-api", "kind": "deploy", "summary": "Raise timeout", "at": "2026-03-01T09:30:00Z"}], "timeline": [{"at": "2026-03-01T10:10:00Z", "source": "slack", "text": "rolling back imp-deploy-1", "author": "dana"}, {"at": "2026-03-01T10:05:00Z", "source": "note", "text": "pool at 100%"}], "tags": ["payments"]}"#;
    let input = [
        good,
        r#"{"id": "INC-2", "title": "No service"}"#,
        "not json at all",
        r#"{"id": "INC-3", "title": "Backwards", "service": "x", "triggered_at": "2026-03-02T10:00:00Z", "resolved_at": "2026-03-02T09:00:00Z"}"#,
        r#"{"id": "INC-4", "title": "Search slow", "service": "search-api", "triggered_at": "2026-03-03T10:00:00Z", "resolved_at": "2026-03-03T11:00:00Z", "severity": 3}"#,
        "",
    ]
    .join("\n");
    let (code, out, err) = run_cli(&["import", "-"], &db, Some(&input));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("imported 2, updated 0, rejected 3"), "{out}");
    assert!(out.contains("line 2: `service` is required"), "{out}");
    assert!(out.contains("line 3: not a record"), "{out}");
    assert!(
        out.contains("line 4: `resolved_at` is before `triggered_at`"),
        "{out}"
    );

    // The same file again: updated, not duplicated.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), format!("{good}\n")).unwrap();
    let (code, out, _) = run_cli(&["import", file.path().to_str().unwrap()], &db, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported 0, updated 1, rejected 0"), "{out}");

    let store = Store::connect(&db).await.unwrap();
    let id = IncidentId::parse("INC-1").unwrap();
    let inc = store.incident(&id).await.unwrap().unwrap();
    assert_eq!(inc.service, "payments-api");
    assert_eq!(inc.status.as_str(), "resolved");
    assert_eq!(inc.time_to_resolve_minutes, Some(40.0));
    assert_eq!(inc.time_to_acknowledge_minutes, Some(4.0));
    assert_eq!(
        inc.root_cause.as_deref(),
        Some("Pool exhausted after timeout raise")
    );
    let timeline: Vec<(String, String)> = store
        .timeline(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.evidence_id, e.kind))
        .collect();
    assert_eq!(
        timeline,
        [
            (
                "import:INC-1:triggered".to_string(),
                "triggered".to_string()
            ),
            ("import:INC-1:acknowledged".into(), "acknowledged".into()),
            ("import:INC-1:1".into(), "note".into()),
            ("import:INC-1:2".into(), "message".into()),
            ("import:INC-1:resolved".into(), "resolved".into()),
        ]
    );
    assert!(store.change("imp-deploy-1").await.unwrap().is_some());
    store.close().await;

    // Imported incidents draft like any other: the named deploy is the top cause.
    let (code, out, err) = run_cli(&["draft", "INC-1", "--print"], &db, None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("`change:imp-deploy-1`"), "{out}");

    // The CLI search: by incident and by words.
    let (code, out, err) = run_cli(&["similar", "INC-4", "--json"], &db, None);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["similar"].is_array(), "{v:#}");
    let (code, out, _) = run_cli(
        &[
            "similar",
            "--text",
            "pool exhausted after a timeout raise",
            "-k",
            "1",
        ],
        &db,
        None,
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("1. INC-1 [payments-api]"), "{out}");
    assert!(
        out.contains("root cause: Pool exhausted after timeout raise"),
        "{out}"
    );
    assert!(
        out.contains("action item: Alert on pool saturation"),
        "{out}"
    );
    let (code, _, err) = run_cli(&["similar", "NOPE-1"], &db, None);
    assert_eq!(code, 2);
    assert!(err.contains("no incident NOPE-1"), "{err}");

    let (code, _, err) = run_cli(&["import", "/nonexistent/file.jsonl"], &db, None);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn eval_scores_the_evidence_drafter_on_the_golden_set_and_fails_under_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("unused.db").display());
    let golden = format!("{}/fixtures/golden", env!("CARGO_MANIFEST_DIR"));
    // The thresholds CI gates the tuning set on.
    let (code, out, err) = run_cli(
        &["eval", &golden, "--min-top1", "0.93", "--min-top3", "0.97"],
        &db,
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "top-1 accuracy",
        "top-3 accuracy",
        "graded score",
        "calibration error",
        "baseline              top-1",
        "  upstream_change",
        "  external",
        "citation validity     1.000",
        "section completeness  1.000",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    let incidents: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("incidents"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(incidents >= 12, "{out}");

    // --explain puts each miss's hypotheses, with their reasons, under its line.
    let (code, out, err) = run_cli(
        &[
            "eval",
            &golden,
            "--min-top1",
            "0",
            "--min-top3",
            "0",
            "--explain",
        ],
        &db,
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let miss = out
        .lines()
        .position(|l| l.split_whitespace().nth(1) == Some("no"))
        .expect("the tuning set has a miss to explain");
    let under: Vec<&str> = out.lines().skip(miss + 1).take(2).collect();
    assert!(under[0].trim_start().starts_with("1. ["), "{out}");
    assert!(under[1].trim_start().starts_with("- "), "{out}");

    let (code, out, err) = run_cli(
        &["eval", &golden, "--min-top1", "1.01", "--json"],
        &db,
        None,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("top-1 accuracy"), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["drafter"], "evidence");
    assert!(
        report["top1_accuracy"].as_f64().unwrap() >= 0.93,
        "{report:#}"
    );
    // Ours beats the plain baseline, and right tops are surer than wrong ones.
    assert!(
        report["graded_score"].as_f64().unwrap()
            > report["baseline_graded_score"].as_f64().unwrap() + 30.0,
        "{report:#}"
    );
    assert!(
        report["confidence_right"].as_f64().unwrap() > report["confidence_wrong"].as_f64().unwrap(),
        "{report:#}"
    );

    // The held-out set, never tuned on: the floor CI keeps, and every hypothesis says how the
    // learned cause-kind model read the conversation, and cites its evidence.
    let holdout = format!("{}/fixtures/holdout", env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = run_cli(
        &[
            "eval",
            &holdout,
            "--min-top1",
            "0.8",
            "--min-top3",
            "0.9",
            "--json",
        ],
        &db,
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    for case in report["cases"].as_array().unwrap() {
        for h in case["hypotheses"].as_array().unwrap() {
            assert!(!h["evidence_ids"].as_array().unwrap().is_empty(), "{h:#}");
            let learned = h["reasons"].as_array().unwrap().iter().any(|r| {
                r.as_str()
                    .unwrap()
                    .contains("learned from labelled incidents")
            });
            assert_eq!(learned, h["kind"] != "unknown", "{h:#}");
        }
    }

    let (code, _, err) = run_cli(&["eval", "/nonexistent"], &db, None);
    assert_eq!(code, 2);
    assert!(err.contains("incidents.jsonl"), "{err}");
}

/// An in-process server speaking the PagerDuty REST API the backfill reads.
mod pd_rest {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use axum::extract::{Path, Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use serde_json::{Value, json};

    pub const TOKEN: &str = "pd-rest-test-token";
    pub const COUNT: usize = 230;

    pub type Window = (DateTime<Utc>, DateTime<Utc>);

    #[derive(Clone, Default)]
    pub struct Seen {
        pub windows: Arc<Mutex<Vec<Window>>>,
        pub requests: Arc<Mutex<usize>>,
        pub rate_limited: Arc<Mutex<bool>>,
    }

    fn created(n: usize) -> DateTime<Utc> {
        // From 2025-03-01, one every 1.5 days: 230 incidents over about 11 months.
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + Duration::hours(36 * n as i64)
    }

    fn incident(n: usize) -> Value {
        let at = created(n);
        json!({
            "id": format!("PBF{n:04}"), "type": "incident", "incident_number": n,
            "title": format!("Billing API error rate high ({n})"), "summary": format!("[#{n}] Billing API error rate high"),
            "created_at": at.to_rfc3339(), "status": "resolved",
            "resolved_at": (at + Duration::minutes(50)).to_rfc3339(),
            "service": {"id": "PSVC9", "type": "service_reference", "summary": "Billing-API"},
            "priority": if n.is_multiple_of(2) { json!({"id": "P1X", "type": "priority_reference", "summary": "P1"}) } else { Value::Null },
            "urgency": if n.is_multiple_of(2) { "high" } else { "low" },
            "teams": [{"id": "PT1", "type": "team_reference", "summary": "Payments"}]
        })
    }

    fn authorized(h: &HeaderMap) -> bool {
        h.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Token token={TOKEN}"))
            && h.get("accept").and_then(|v| v.to_str().ok())
                == Some("application/vnd.pagerduty+json;version=2")
    }

    async fn incidents(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        *seen.requests.lock().unwrap() += 1;
        if !authorized(&headers) {
            return (StatusCode::UNAUTHORIZED, "{}").into_response();
        }
        {
            let mut limited = seen.rate_limited.lock().unwrap();
            if !*limited {
                *limited = true;
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("ratelimit-reset", "1")],
                    r#"{"error":{"message":"Rate Limit Exceeded","code":2020}}"#,
                )
                    .into_response();
            }
        }
        let since: DateTime<Utc> = q["since"].parse().unwrap();
        let until: DateTime<Utc> = q["until"].parse().unwrap();
        if until - since > Duration::days(183) {
            return (StatusCode::BAD_REQUEST, r#"{"error":{"message":"Invalid Input Provided","errors":["Date range cannot exceed 6 months"]}}"#).into_response();
        }
        assert_eq!(q.get("statuses[]").map(String::as_str), Some("resolved"));
        let limit: usize = q["limit"].parse().unwrap();
        let offset: usize = q["offset"].parse().unwrap();
        assert!(limit <= 100);
        seen.windows.lock().unwrap().push((since, until));
        let all: Vec<Value> = (0..COUNT)
            .filter(|&n| created(n) >= since && created(n) < until)
            .map(incident)
            .collect();
        let page: Vec<Value> = all.iter().skip(offset).take(limit).cloned().collect();
        let more = offset + page.len() < all.len();
        axum::Json(json!({"incidents": page, "limit": limit, "offset": offset, "more": more, "total": null})).into_response()
    }

    async fn log_entries(
        headers: HeaderMap,
        Path(id): Path<String>,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        if !authorized(&headers) {
            return (StatusCode::UNAUTHORIZED, "{}").into_response();
        }
        let n: usize = id[3..].parse().unwrap();
        let at = created(n);
        let mut entries = vec![
            json!({"id": format!("LT{n}"), "type": "trigger_log_entry", "summary": "Triggered through the API", "created_at": at.to_rfc3339(), "agent": {"summary": "Billing-API"}}),
            json!({"id": format!("LA{n}"), "type": if n.is_multiple_of(3) { "acknowledgement_log_entry" } else { "acknowledge_log_entry" }, "summary": "Acknowledged by Dana", "created_at": (at + Duration::minutes(6)).to_rfc3339(), "agent": {"summary": "Dana"}}),
        ];
        // The first incident has a long log: two pages.
        if n == 0 {
            for i in 0..120 {
                entries.push(json!({"id": format!("LE{i}"), "type": "notify_log_entry", "summary": "Notified", "created_at": (at + Duration::seconds(i)).to_rfc3339()}));
            }
        }
        entries.push(json!({"id": format!("LR{n}"), "type": "resolve_log_entry", "summary": "Resolved by Dana", "created_at": (at + Duration::minutes(50)).to_rfc3339(), "agent": {"summary": "Dana"}}));
        let limit: usize = q["limit"].parse().unwrap();
        let offset: usize = q["offset"].parse().unwrap();
        let page: Vec<Value> = entries.iter().skip(offset).take(limit).cloned().collect();
        let more = offset + page.len() < entries.len();
        axum::Json(json!({"log_entries": page, "limit": limit, "offset": offset, "more": more}))
            .into_response()
    }

    async fn notes(headers: HeaderMap, Path(id): Path<String>) -> Response {
        if !authorized(&headers) {
            return (StatusCode::UNAUTHORIZED, "{}").into_response();
        }
        let n: usize = id[3..].parse().unwrap();
        axum::Json(json!({"notes": [{"id": format!("N{n}"), "user": {"summary": "Dana"}, "content": "Rolled back billing deploy", "created_at": (created(n) + Duration::minutes(20)).to_rfc3339()}]})).into_response()
    }

    pub async fn start() -> (String, Seen) {
        let seen = Seen::default();
        let app = axum::Router::new()
            .route("/incidents", get(incidents))
            .route("/incidents/{id}/log_entries", get(log_entries))
            .route("/incidents/{id}/notes", get(notes))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, seen)
    }
}

#[tokio::test]
async fn pagerduty_rest_backfill_pages_windows_waits_out_rate_limits_and_is_idempotent() {
    let (url, seen) = pd_rest::start().await;
    let app = spawn_app().await;
    // One incident the webhooks brought already: the backfill leaves it alone.
    app.post_pagerduty(&pd_event(
        "W1",
        "incident.triggered",
        "PBF0003",
        "triggered",
        "2025-03-05T20:00:00Z",
    ))
    .await;
    let db = app.database_url.clone();
    let backfill = move |db: String, url: String| {
        Command::new(BIN)
            .args([
                "import",
                "--pagerduty",
                "--since",
                "2025-02-01",
                "--until",
                "2026-03-01",
            ])
            .env("DATABASE_URL", db)
            .env("PAGERDUTY_API_URL", url)
            .env("PAGERDUTY_API_TOKEN", pd_rest::TOKEN)
            .output()
            .unwrap()
    };
    let (d, u) = (db.clone(), url.clone());
    let out = tokio::task::spawn_blocking(move || backfill(d, u))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "imported {}, updated 0, skipped 1",
            pd_rest::COUNT - 1
        )),
        "{stdout}"
    );
    assert!(*seen.rate_limited.lock().unwrap());
    let windows = seen.windows.lock().unwrap().clone();
    assert!(windows.len() >= 3, "{windows:?}"); // at least two windows, one with two pages
    for (s, u) in &windows {
        assert!(*u - *s <= chrono::Duration::days(183));
    }

    let id = IncidentId::parse("PBF0000").unwrap();
    let inc = app.store.incident(&id).await.unwrap().unwrap();
    assert_eq!(inc.service, "billing-api");
    assert_eq!(inc.severity.map(|s| s.to_string()).as_deref(), Some("sev1"));
    assert_eq!(inc.time_to_acknowledge_minutes, Some(6.0));
    assert_eq!(inc.time_to_resolve_minutes, Some(50.0));
    let timeline = app.store.timeline(&id).await.unwrap();
    let ids: Vec<&str> = timeline.iter().map(|e| e.evidence_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pagerduty:LT0",
            "pagerduty:LA0",
            "pagerduty:N0",
            "pagerduty:LR0"
        ],
        "log pages read"
    );
    assert_eq!(timeline[2].kind, "note");
    let odd = app
        .store
        .incident(&IncidentId::parse("PBF0001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        odd.severity.map(|s| s.to_string()).as_deref(),
        Some("sev4"),
        "low urgency"
    );
    let webhook = app
        .store
        .incident(&IncidentId::parse("PBF0003").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(webhook.source, "pagerduty");

    // Again: updated, nothing duplicated.
    let out = tokio::task::spawn_blocking(move || backfill(db, url))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("imported 0, updated {}", pd_rest::COUNT - 1)),
        "{stdout}"
    );
    assert_eq!(app.store.timeline(&id).await.unwrap().len(), 4);

    // Without a token: a message and exit 2.
    let out = Command::new(BIN)
        .args(["import", "--pagerduty", "--since", "2025-02-01"])
        .env("DATABASE_URL", &app.database_url)
        .env_remove("PAGERDUTY_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PAGERDUTY_API_TOKEN"));
    app.stop().await;
}

/// A history exported on Windows (`fixtures/cases/C14_history_windows_export.jsonl`, rebuilt
/// from a public bug report): a byte-order mark, CRLF line ends, and one line saved as Latin-1.
#[tokio::test]
async fn a_windows_export_imports_its_good_lines_and_names_the_line_that_is_not_utf8() {
    let (db, _dir) = fresh_database().await;
    let file = format!(
        "{}/fixtures/cases/C14_history_windows_export.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, out, err) = run_cli(&["import", &file], &db, None);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("imported 2, updated 0, rejected 1"),
        "{out}{err}"
    );
    assert!(out.contains("line 2: not UTF-8 text"), "{out}");
}
