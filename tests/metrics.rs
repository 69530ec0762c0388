//! Metrics evidence against a real Prometheus.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn payments_postmortem(app: &TestApp) -> Value {
    app.replay_demo().await;
    // The draft follows late notes; wait for the one that cites the rollback.
    for _ in 0..200 {
        let p = app.wait_for_postmortem("PPAY42X").await;
        if p["markdown"].as_str().unwrap().contains("rolled it back") {
            return p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no complete draft")
}

#[tokio::test]
async fn the_payments_postmortem_shows_the_error_rate_anomaly_with_onset_peak_and_chart() {
    let Some(prom) = prometheus::start("metrics/payments-api.om").await else {
        return;
    };
    let url = prom.url.clone();
    let app = spawn_app_with(|c| c.prometheus_url = Some(url)).await;
    let p = payments_postmortem(&app).await;
    let anomalies = p["anomalies"].as_array().unwrap();
    let err = anomalies
        .iter()
        .find(|a| a["name"] == "error_ratio")
        .expect("error ratio anomaly");
    let onset = err["onset"].as_str().unwrap();
    assert!(
        ("2026-10-02T14:39:00Z".."2026-10-02T14:42:00Z").contains(&onset),
        "onset {onset}"
    );
    assert!(err["peak"].as_f64().unwrap() > 0.10, "{err}");
    assert!(err["baseline"].as_f64().unwrap() < 0.002, "{err}");
    assert!(err["recovered_at"].as_str().unwrap() > "2026-10-02T15:20:00Z");
    assert!(err["chart_svg"].as_str().unwrap().starts_with("<svg"));
    assert!(
        anomalies.iter().any(|a| a["name"] == "latency_p95_seconds"),
        "latency too"
    );
    // The impact starts at the onset, before the first trigger (14:42).
    assert_eq!(
        p["impact"]["start"].as_str().unwrap(),
        anomalies[0]["onset"].as_str().unwrap()
    );
    assert!(
        p["summary"]
            .as_str()
            .unwrap()
            .starts_with("error_ratio rose from 0.10%"),
        "{}",
        p["summary"]
    );
    assert!(p["metrics_missing"].as_array().unwrap().is_empty());
    assert_eq!(
        p["root_cause_hypotheses"][0]["evidence_ids"][0],
        "change:deploy-4821"
    );
    let md = p["markdown"].as_str().unwrap();
    assert!(md.contains("[`metric:error_ratio`]"), "{md}");
    let html = app
        .get("/api/incidents/PPAY42X/postmortem?format=html")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<svg"), "the HTML charts the anomaly");
    // Kept as a test artifact, to look at.
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("payments-postmortem.html"), &html).unwrap();
    assert!(
        html.contains("change:deploy-4821 deploy"),
        "changes are marked on the chart"
    );
    let tl = app.get_json("/api/incidents/PPAY42X/timeline").await;
    assert!(
        tl["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["evidence_id"] == "metric:error_ratio")
    );
}

#[tokio::test]
async fn frozen_metrics_keep_the_postmortem_reproducible_after_prometheus_is_gone() {
    let Some(prom) = prometheus::start("metrics/payments-api.om").await else {
        return;
    };
    let url = prom.url.clone();
    let app = spawn_app_with(|c| c.prometheus_url = Some(url)).await;
    let first = payments_postmortem(&app).await;
    drop(prom);
    let r = app.request_redraft("PPAY42X").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let rev = first["revision"].as_i64().unwrap();
    let mut again = first.clone();
    for _ in 0..200 {
        again = app.get_json("/api/incidents/PPAY42X/postmortem").await;
        if again["revision"].as_i64().unwrap() > rev {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(again["revision"].as_i64().unwrap() > rev);
    assert_eq!(
        again["anomalies"], first["anomalies"],
        "the same numbers, from the frozen data"
    );
    assert!(again["metrics_missing"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_change_between_the_onset_and_the_trigger_cannot_be_the_cause() {
    let between = r#"{"id":"deploy-4824","service":"payments-api","kind":"config","summary":"Raise worker count","at":"2026-10-02T14:41:30Z"}"#;
    // Without metrics the trigger is the start, so the change is a candidate...
    let plain = spawn_app().await;
    plain.post_changes(between).await;
    let p = payments_postmortem(&plain).await;
    let ids = |p: &Value| -> Vec<String> {
        p["root_cause_hypotheses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["evidence_ids"][0].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&p).contains(&"change:deploy-4824".to_string()));
    // ...with metrics the onset (14:40) comes first and the change is ruled out.
    let Some(prom) = prometheus::start("metrics/payments-api.om").await else {
        return;
    };
    let url = prom.url.clone();
    let app = spawn_app_with(|c| c.prometheus_url = Some(url)).await;
    app.post_changes(between).await;
    let p = payments_postmortem(&app).await;
    assert!(
        !ids(&p).contains(&"change:deploy-4824".to_string()),
        "{:?}",
        ids(&p)
    );
    assert_eq!(ids(&p)[0], "change:deploy-4821");
}

#[tokio::test]
async fn with_prometheus_down_drafts_complete_and_say_what_is_missing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app =
        spawn_app_with(|c| c.prometheus_url = Some(format!("http://127.0.0.1:{closed}"))).await;
    let p = payments_postmortem(&app).await;
    assert!(p["anomalies"].as_array().unwrap().is_empty());
    let missing = p["metrics_missing"].to_string();
    assert!(
        missing.contains("did not answer error_ratio (could not connect)"),
        "{missing}"
    );
    assert!(p["markdown"].as_str().unwrap().contains("did not answer"));
    assert_eq!(
        p["root_cause_hypotheses"][0]["evidence_ids"][0],
        "change:deploy-4821"
    );
}
