//! History import and the golden-set eval, through the command line.

mod common;

use std::process::Command;

use common::*;
use postmortem::domain::IncidentId;
use postmortem::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_postmortem");

fn run(args: &[&str], db: &str, stdin: Option<&str>) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("POSTMORTEM_LLM_MODEL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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
    let (code, out, err) = run(&["import", "-"], &db, Some(&input));
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
    let (code, out, _) = run(&["import", file.path().to_str().unwrap()], &db, None);
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
    let (code, out, err) = run(&["draft", "INC-1", "--print"], &db, None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("`change:imp-deploy-1`"), "{out}");

    let (code, _, err) = run(&["import", "/nonexistent/file.jsonl"], &db, None);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn eval_scores_the_evidence_drafter_on_the_golden_set_and_fails_under_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("unused.db").display());
    let golden = format!("{}/fixtures/golden", env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = run(&["eval", &golden], &db, None);
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "top-1 accuracy",
        "top-3 accuracy        1.000",
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

    let (code, out, err) = run(
        &["eval", &golden, "--min-top1", "1.01", "--json"],
        &db,
        None,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("top-1 accuracy"), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["drafter"], "evidence");
    assert!(
        report["top1_accuracy"].as_f64().unwrap() >= 0.8,
        "{report:#}"
    );

    let (code, _, err) = run(&["eval", "/nonexistent"], &db, None);
    assert_eq!(code, 2);
    assert!(err.contains("incidents.jsonl"), "{err}");
}
