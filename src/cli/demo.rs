//! `postmortem demo`: the main job end to end on a throw-away SQLite file. Starts the real server
//! in-process (draft delay 0, its own tokens and secrets), replays the bundled example incidents
//! through the real webhook endpoints, signed, waits for the drafts and prints them; then loads
//! the bundled incident history and prints its families and the latest month's report summary.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::app::startup::Application;
use crate::config::Config;
use crate::ingest::signature::sign_pagerduty;

pub const PAGERDUTY_EVENTS: &str = include_str!("../../fixtures/demo/pagerduty.jsonl");
pub const CHANGE_EVENTS: &str = include_str!("../../fixtures/demo/changes.json");
/// OpenLineage RunEvents: the fee-assistant's inference runs, the index rebuild, decoys.
pub const LINEAGE_EVENTS: &str = include_str!("../../fixtures/demo/lineage.jsonl");
/// Past incidents (the labelled history fixture), for families and the monthly report.
pub const HISTORY: &str = include_str!("../../fixtures/history/incidents.jsonl");
/// The incident whose postmortem the demo prints in full.
pub const FEATURED: &str = "PPAY42X";

const SECRET: &str = "demo-pagerduty-secret";
const INGEST: &str = "demo-ingest-token";
const API: &str = "demo-api-token";

pub async fn run() -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let mut config = Config::load().unwrap_or_default();
    config.database_url = format!("sqlite://{}", dir.path().join("demo.db").display());
    config.draft_delay_secs = 0;
    config.job_poll_millis = 100;
    config.pagerduty_webhook_secrets = vec![SecretString::from(SECRET)];
    config.ingest_token = Some(SecretString::from(INGEST));
    config.api_token = Some(SecretString::from(API));
    // No LLM unless POSTMORTEM_LLM_MODEL (and OPENAI_BASE_URL) say otherwise: the embedded
    // default is the evidence drafter.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app = Application::build(config, listener).await?;
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let result = match tour(&base).await {
        Ok(code) => history_tour(&base, &store).await.map(|()| code),
        Err(e) => Err(e),
    };
    shutdown.cancel();
    let _ = server.await;
    result
}

async fn tour(base: &str) -> anyhow::Result<ExitCode> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let started = Instant::now();
    let (webhooks, incidents) = replay(&http, base).await?;
    eprintln!(
        "replayed {webhooks} signed PagerDuty webhooks and the change events for {} incidents; waiting for drafts…",
        incidents.len()
    );
    let mut drafts = Vec::new();
    for id in &incidents {
        drafts.push((id.clone(), wait_for_draft(&http, base, id).await?));
    }
    show_drafts(&http, base, &drafts).await?;
    eprintln!("demo finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Posts the bundled change events, lineage events and PagerDuty webhooks (signed, in the order
/// they happened) as the integrations would: how many webhooks, and the incidents they are about.
async fn replay(http: &reqwest::Client, base: &str) -> anyhow::Result<(usize, BTreeSet<String>)> {
    let r = http
        .post(format!("{base}/webhooks/changes"))
        .bearer_auth(INGEST)
        .header("content-type", "application/json")
        .body(CHANGE_EVENTS)
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("change events refused: {} {}", r.status(), r.text().await?);
    }
    for line in LINEAGE_EVENTS.lines().filter(|l| !l.trim().is_empty()) {
        let r = http
            .post(format!("{base}/api/v1/lineage"))
            .bearer_auth(INGEST)
            .header("content-type", "application/json")
            .body(line.to_string())
            .send()
            .await?;
        if r.status() != reqwest::StatusCode::CREATED {
            bail!("lineage event refused: {} {}", r.status(), r.text().await?);
        }
    }
    let mut incidents = BTreeSet::new();
    // Replay as PagerDuty would deliver them: in the order they happened.
    let mut lines: Vec<(String, &str)> = Vec::new();
    for line in PAGERDUTY_EVENTS.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).context("bundled fixture")?;
        lines.push((
            v["event"]["occurred_at"].as_str().unwrap_or("").to_string(),
            line,
        ));
    }
    lines.sort();
    for (_, line) in &lines {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if let Some(id) = v["event"]["data"]["id"]
            .as_str()
            .filter(|_| v["event"]["data"]["type"] == "incident")
        {
            incidents.insert(id.to_string());
        }
        let r = http
            .post(format!("{base}/webhooks/pagerduty"))
            .header(
                "x-pagerduty-signature",
                sign_pagerduty(SECRET, line.as_bytes()),
            )
            .header("content-type", "application/json")
            .body(line.to_string())
            .send()
            .await?;
        if r.status() != reqwest::StatusCode::ACCEPTED {
            bail!("webhook refused: {} {}", r.status(), r.text().await?);
        }
    }
    Ok((lines.len(), incidents))
}

/// Prints the featured incident's postmortem, then one line for each other draft.
async fn show_drafts(
    http: &reqwest::Client,
    base: &str,
    drafts: &[(String, serde_json::Value)],
) -> anyhow::Result<()> {
    let featured = drafts
        .iter()
        .find(|(id, _)| id == FEATURED)
        .map(|(_, d)| d)
        .context("the featured payments-api incident was not drafted")?;
    let md = http
        .get(format!(
            "{base}/api/incidents/{FEATURED}/postmortem?format=markdown"
        ))
        .bearer_auth(API)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    println!("{md}");
    println!(
        "---\nOther incidents (drafted by the {} drafter):",
        featured["drafter"].as_str().unwrap_or("?")
    );
    for (id, d) in drafts.iter().filter(|(id, _)| id != FEATURED) {
        let top = &d["root_cause_hypotheses"][0];
        let cause = if top.is_null() {
            "no ranked cause".to_string()
        } else {
            format!(
                "top hypothesis {} ({:.2}): {}",
                top["evidence_ids"][0].as_str().unwrap_or("?"),
                top["confidence"].as_f64().unwrap_or(0.0),
                top["hypothesis"].as_str().unwrap_or("")
            )
        };
        println!(
            "- {id} [{}] {} — {}",
            d["service"].as_str().unwrap_or("?"),
            d["title"].as_str().unwrap_or("?"),
            cause
        );
    }
    Ok(())
}

/// Loads the bundled history, then shows its families and the latest month's report, through the
/// API.
async fn history_tour(base: &str, store: &crate::store::Store) -> anyhow::Result<()> {
    let config = Config::default();
    let mut latest = i64::MIN;
    let mut n = 0;
    for line in HISTORY.lines().filter(|l| !l.trim().is_empty()) {
        let record = crate::ingest::history::parse_record(line, &config)
            .map_err(|e| anyhow::anyhow!("bundled history: {e}"))?;
        latest = latest.max(record.triggered_at);
        store.import_record(&record).await?;
        n += 1;
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let families: serde_json::Value =
        api_json(http.post(format!("{base}/api/families/recompute"))).await?;
    println!("---\nIncident families over the bundled history ({n} past incidents) and today's:");
    for f in families["families"].as_array().into_iter().flatten() {
        println!(
            "- {} {} ({} incidents; e.g. {})",
            f["id"].as_str().unwrap_or("?"),
            f["label"].as_str().unwrap_or("?"),
            f["size"],
            f["representatives"]
                .as_array()
                .map(|r| r
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
    }
    let month = crate::domain::report::Month::of(latest);
    let report: crate::domain::report::Report =
        api_json(http.get(format!("{base}/api/reports/{month}"))).await?;
    println!(
        "---\nMonthly report {month}: {}\n(the full report: `postmortem report --month {month} --format html`)",
        report.summary()
    );
    Ok(())
}

async fn wait_for_draft(
    http: &reqwest::Client,
    base: &str,
    id: &str,
) -> anyhow::Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let r = http
            .get(format!("{base}/api/incidents/{id}/postmortem"))
            .bearer_auth(API)
            .send()
            .await?;
        // Done when a draft exists and no draft job for the incident is still queued or running
        // (with a model, its draft follows the evidence draft).
        if r.status().is_success() && !jobs_left(http, base, id).await? {
            let r = http
                .get(format!("{base}/api/incidents/{id}/postmortem"))
                .bearer_auth(API)
                .send()
                .await?
                .error_for_status()?;
            return Ok(r.json().await?);
        }
        if Instant::now() > deadline {
            bail!("no draft for {id} after 300 s (last answer {})", r.status());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The JSON answer of an API call made with the demo's token; an error status is an error.
async fn api_json<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
) -> anyhow::Result<T> {
    Ok(req
        .bearer_auth(API)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// Whether a draft job for `id` is still pending or running.
async fn jobs_left(http: &reqwest::Client, base: &str, id: &str) -> anyhow::Result<bool> {
    for state in ["pending", "running"] {
        let v: serde_json::Value =
            api_json(http.get(format!("{base}/api/jobs?incident_id={id}&state={state}"))).await?;
        if v["jobs"].as_array().is_some_and(|j| !j.is_empty()) {
            return Ok(true);
        }
    }
    Ok(false)
}
