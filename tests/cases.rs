//! The real-world input cases (`fixtures/cases/*.json`, rebuilt from public bug reports), each
//! replayed step by step through the real endpoints, signed as each vendor signs, into a fresh
//! server; then what a user expects of each (the cases' README) is checked.

mod common;

use axum::http::StatusCode;
use common::*;
use postmortem::ingest::signature::sign_slack;
use serde_json::Value;

use common::slack::{BOT_TOKEN, SLACK_SECRET};

const GITHUB_SECRET: &str = "test-github-secret";

fn case(name: &str) -> Value {
    let path = format!("{}/fixtures/cases/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A fresh server with every integration's secret, and the Slack Web API stand-in behind the
/// bot token.
async fn app_for_cases() -> TestApp {
    let (url, _fake) = common::slack::start().await;
    spawn_app_with(move |c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
        c.slack_bot_token = Some(BOT_TOKEN.to_string().into());
        c.slack_api_url = url;
        c.github_webhook_secret = Some(GITHUB_SECRET.to_string().into());
    })
    .await
}

/// Sends each step of `case` as its `to` says, checking `expect` where a step has one, else
/// that it got a 2xx.
async fn replay(app: &TestApp, case: &Value) {
    for (n, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        let body = match (step.get("raw"), step.get("body")) {
            (Some(Value::String(raw)), _) => raw.clone(),
            (_, Some(body)) => body.to_string(),
            _ => String::new(),
        };
        let r = match step["to"].as_str().unwrap() {
            "pagerduty" => app.post_pagerduty(&body).await,
            "changes" => app.post_changes(&body).await,
            "lineage" => app.post_lineage(&body).await,
            "github" => {
                app.post_github(step["event"].as_str().unwrap(), &body, GITHUB_SECRET)
                    .await
            }
            "slack_events" => {
                // Slack escapes `/` in its JSON.
                let body = body.replace('/', "\\/");
                slack_signed(app, "/webhooks/slack/events", "application/json", &body).await
            }
            "slack_command" => {
                let form: Vec<(String, String)> = step["form"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect();
                let body = serde_urlencoded::to_string(&form).unwrap();
                let form_type = "application/x-www-form-urlencoded";
                slack_signed(app, "/webhooks/slack/commands", form_type, &body).await
            }
            other => panic!("step {n}: unknown destination {other}"),
        };
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        match step["expect"].as_u64() {
            Some(want) => assert_eq!(status.as_u16() as u64, want, "step {n}: {text}"),
            None => assert!(status.is_success(), "step {n}: {status} {text}"),
        }
    }
}

/// POSTs `body` to `path` signed as Slack signs, now.
async fn slack_signed(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    let ts = now_secs();
    let signature = sign_slack(SLACK_SECRET, ts, body.as_bytes());
    common::slack::request(app, path, content_type, body, ts, Some(signature))
        .send()
        .await
        .unwrap()
}

async fn timeline_text(app: &TestApp, id: &str) -> String {
    app.get_json(&format!("/api/incidents/{id}/timeline"))
        .await
        .to_string()
}

#[tokio::test]
async fn c01_a_custom_priority_name_is_read_by_its_number() {
    let app = app_for_cases().await;
    replay(&app, &case("C01_pd_custom_priority")).await;
    let renamed = app.get_json("/api/incidents/PCASE01").await;
    assert_eq!(renamed["severity"], "sev1", "SEV-1, not the urgency's sev2");
    let control = app.get_json("/api/incidents/PCASE01P").await;
    assert_eq!(control["severity"], "sev1", "P1 set by priority_updated");
    app.stop().await;
}

#[tokio::test]
async fn c02_a_merged_incident_gets_no_draft_of_its_own() {
    let app = app_for_cases().await;
    replay(&app, &case("C02_pd_merged_incident")).await;
    app.wait_for_postmortem("PCASE02A").await;
    let child = app.get_json("/api/incidents/PCASE02B").await;
    assert_eq!(child["merged_into"], "PCASE02A");
    assert!(child["time_to_resolve_minutes"].is_null(), "{child:#}");
    assert!(
        timeline_text(&app, "PCASE02B")
            .await
            .contains("merged into PCASE02A")
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.get("/api/incidents/PCASE02B/postmortem").await.status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn c06_a_tombstoned_thread_parent_leaves_and_its_reply_stays() {
    let app = app_for_cases().await;
    replay(&app, &case("C06_slack_tombstone")).await;
    let draft = app.wait_for_postmortem("PCASE06").await.to_string();
    let tl = timeline_text(&app, "PCASE06").await;
    assert!(tl.contains("cert is fine, it's the queue"), "{tl}");
    for gone in ["APNs cert expired", "This message was deleted"] {
        assert!(!tl.contains(gone), "timeline: {tl}");
        assert!(!draft.contains(gone), "draft: {draft}");
    }
    app.stop().await;
}

#[tokio::test]
async fn c09_slack_text_reads_as_written_and_a_revert_before_is_no_mitigation() {
    let app = app_for_cases().await;
    replay(&app, &case("C09_slack_escaped_entities")).await;
    let draft = app.wait_for_postmortem("PCASE09").await;
    let tl = app.get_json("/api/incidents/PCASE09/timeline").await;
    let texts: Vec<&str> = tl["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "slack")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        texts.contains(&"timeout went 5s -> 30s & pool is full, see dashboard cc @Lee Park"),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"> is it the pgbouncer change?\nno, that was reverted at 13:10"),
        "{texts:?}"
    );
    let d = draft.to_string();
    for raw in ["&gt;", "&amp;", "<https:", "<@U"] {
        assert!(!d.contains(raw), "the draft shows {raw}: {d}");
    }
    assert!(
        !draft["what_went_well"].to_string().contains("rolling back"),
        "{:#}",
        draft["what_went_well"]
    );
    app.stop().await;
}

#[tokio::test]
async fn c10_a_preview_deployment_is_never_the_cause() {
    let app = app_for_cases().await;
    replay(&app, &case("C10_github_preview_deploy")).await;
    let draft = app.wait_for_postmortem("PCASE10").await;
    let hypotheses = draft["root_cause_hypotheses"].as_array().unwrap();
    assert_eq!(
        hypotheses[0]["evidence_ids"][0], "change:cfg-3391",
        "{hypotheses:#?}"
    );
    let preview = draft["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["production"] == false)
        .expect("the preview deployment stays evidence");
    let preview_id = preview["evidence_id"].as_str().unwrap();
    assert!(
        hypotheses
            .iter()
            .all(|h| h["kind"] != "change" || h["evidence_ids"][0] != preview_id),
        "{hypotheses:#?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn c11_a_null_openlineage_facet_is_absent() {
    let app = app_for_cases().await;
    let case = case("C11_openlineage_null_facet");
    let expect = case["expect"].as_array().unwrap();
    for (n, event) in case["events"].as_array().unwrap().iter().enumerate() {
        let r = app.post_lineage(&event.to_string()).await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            status as u64,
            expect[n].as_u64().unwrap(),
            "event {n}: {body}"
        );
        assert_eq!(body["status"], "accepted", "event {n}: {body}");
    }
    app.stop().await;
}
