//! `postmortem import --pagerduty --since <date> [--until <date>]`: incident history from
//! PagerDuty's REST API. Resolved incidents are listed in windows of at most six months (the API's
//! limit) with offset pagination (`limit` 100, `more`; a window that would pass the 10,000 offset
//! cap is split in two); each incident's log entries and notes become its timeline
//! (`pagerduty:<log entry id>`, `pagerduty:<note id>`). A 429 waits for `ratelimit-reset`, a 5xx is
//! retried with backoff, and every request has a timeout. Incidents the webhooks already brought are
//! left as they are.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::domain::{HistoryRecord, ImportSummary, Imported, TimelineEntry};
use crate::domain::{IncidentId, parse_time, to_millis};
use crate::store::Store;

const PAGE: usize = 100;
const OFFSET_CAP: usize = 10_000;
/// The API allows `since`/`until` at most six months apart.
const WINDOW_DAYS: i64 = 180;
const MAX_RETRIES: u32 = 5;

/// A REST client for the endpoints the backfill reads.
pub struct PagerDutyApi {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl std::fmt::Debug for PagerDutyApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDutyApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct IncidentPage {
    incidents: Vec<Value>,
    #[serde(default)]
    more: bool,
}

#[derive(Deserialize)]
struct LogPage {
    log_entries: Vec<Value>,
    #[serde(default)]
    more: bool,
}

#[derive(Deserialize)]
struct Notes {
    notes: Vec<Value>,
}

impl PagerDutyApi {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let token = config
            .pagerduty_api_token
            .clone()
            .context("PAGERDUTY_API_TOKEN is not set: the REST backfill needs an API key")?;
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(10))
                .build()?,
            base: config.pagerduty_api_url.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// GET with PagerDuty's headers, waiting out 429s and retrying 5xx.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let r = self
                .http
                .get(&url)
                .query(query)
                .header(
                    "Authorization",
                    format!("Token token={}", self.token.expose_secret()),
                )
                .header("Accept", "application/vnd.pagerduty+json;version=2")
                .send()
                .await;
            let wait = match r {
                Ok(r) if r.status().is_success() => {
                    return r.json().await.with_context(|| format!("reading {path}"));
                }
                Ok(r) if r.status().as_u16() == 429 => {
                    let secs = ["ratelimit-reset", "retry-after"]
                        .iter()
                        .find_map(|h| {
                            r.headers()
                                .get(*h)?
                                .to_str()
                                .ok()?
                                .trim()
                                .parse::<u64>()
                                .ok()
                        })
                        .unwrap_or(1);
                    tracing::warn!(path, secs, "PagerDuty rate limit; waiting");
                    Duration::from_secs(secs.min(120))
                }
                Ok(r) if r.status().is_server_error() => {
                    Duration::from_millis(500 * 2u64.pow(attempt))
                }
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    bail!(
                        "PagerDuty answered {status} for {path}: {}",
                        body.chars().take(300).collect::<String>()
                    );
                }
                Err(e) if attempt < MAX_RETRIES && (e.is_timeout() || e.is_connect()) => {
                    Duration::from_millis(500 * 2u64.pow(attempt))
                }
                Err(e) => return Err(e).with_context(|| format!("calling PagerDuty {path}")),
            };
            attempt += 1;
            if attempt > MAX_RETRIES {
                bail!("PagerDuty kept failing for {path} after {MAX_RETRIES} retries");
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Resolved incidents created in [since, until), oldest first.
    async fn incidents(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            if offset + PAGE > OFFSET_CAP {
                // Too many for one listing: split the window and list each half.
                let mid = since + (until - since) / 2;
                if mid <= since {
                    bail!("more than {OFFSET_CAP} incidents at {since}: cannot page further");
                }
                let mut a = Box::pin(self.incidents(since, mid)).await?;
                a.extend(Box::pin(self.incidents(mid, until)).await?);
                return Ok(a);
            }
            let page: IncidentPage = serde_json::from_value(
                self.get(
                    "/incidents",
                    &[
                        ("since", since.to_rfc3339()),
                        ("until", until.to_rfc3339()),
                        ("statuses[]", "resolved".into()),
                        ("limit", PAGE.to_string()),
                        ("offset", offset.to_string()),
                        ("sort_by", "created_at:asc".into()),
                        ("time_zone", "UTC".into()),
                    ],
                )
                .await?,
            )
            .context("GET /incidents: not an incident list")?;
            let n = page.incidents.len();
            out.extend(page.incidents);
            if !page.more || n == 0 {
                return Ok(out);
            }
            offset += n;
        }
    }

    async fn log_entries(&self, id: &str) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page: LogPage = serde_json::from_value(
                self.get(
                    &format!("/incidents/{id}/log_entries"),
                    &[
                        ("limit", PAGE.to_string()),
                        ("offset", offset.to_string()),
                        ("is_overview", "false".into()),
                        ("time_zone", "UTC".into()),
                    ],
                )
                .await?,
            )
            .with_context(|| format!("log entries of {id}"))?;
            let n = page.log_entries.len();
            out.extend(page.log_entries);
            if !page.more || n == 0 || offset + n >= OFFSET_CAP {
                return Ok(out);
            }
            offset += n;
        }
    }

    async fn notes(&self, id: &str) -> anyhow::Result<Vec<Value>> {
        let n: Notes =
            serde_json::from_value(self.get(&format!("/incidents/{id}/notes"), &[]).await?)
                .with_context(|| format!("notes of {id}"))?;
        Ok(n.notes)
    }
}

fn time_of(v: &Value) -> Option<i64> {
    v.as_str().and_then(|s| parse_time(s).ok()).map(to_millis)
}

/// The timeline of log entries (trigger, acknowledgements, resolutions, escalations) and notes,
/// in time order.
fn timeline_of(id: &IncidentId, logs: &[Value], notes: &[Value]) -> Vec<TimelineEntry> {
    let mut timeline: Vec<TimelineEntry> = Vec::new();
    for l in logs {
        let Some(at) = time_of(&l["created_at"]) else {
            continue;
        };
        let kind = match l["type"].as_str().unwrap_or_default() {
            "trigger_log_entry" => "triggered",
            "acknowledge_log_entry" | "acknowledgement_log_entry" => "acknowledged",
            "resolve_log_entry" => "resolved",
            // Notes come from /notes with their text.
            "annotate_log_entry" => continue,
            "escalate_log_entry" | "assign_log_entry" | "delegate_log_entry" => "event",
            _ => continue,
        };
        timeline.push(TimelineEntry {
            incident_id: id.to_string(),
            thread: None,
            raw: None,
            evidence_id: format!("pagerduty:{}", l["id"].as_str().unwrap_or_default()),
            at,
            source: "pagerduty".into(),
            kind: kind.into(),
            author: l["agent"]["summary"].as_str().map(String::from),
            text: l["summary"].as_str().unwrap_or(kind).to_string(),
        });
    }
    for n in notes {
        let Some(at) = time_of(&n["created_at"]) else {
            continue;
        };
        timeline.push(TimelineEntry {
            incident_id: id.to_string(),
            thread: None,
            raw: None,
            evidence_id: format!("pagerduty:{}", n["id"].as_str().unwrap_or_default()),
            at,
            source: "pagerduty".into(),
            kind: "note".into(),
            author: n["user"]["summary"].as_str().map(String::from),
            text: n["content"].as_str().unwrap_or_default().to_string(),
        });
    }
    timeline.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| a.evidence_id.cmp(&b.evidence_id))
    });
    timeline
}

/// One REST incident, its log entries and notes as an import record.
pub fn to_record(
    inc: &Value,
    logs: &[Value],
    notes: &[Value],
    config: &Config,
) -> Result<HistoryRecord, String> {
    let id = IncidentId::parse(inc["id"].as_str().unwrap_or_default()).map_err(|e| e.0)?;
    let triggered_at = time_of(&inc["created_at"]).ok_or("incident without created_at")?;
    let timeline = timeline_of(&id, logs, notes);
    let at_of = |kind: &'static str| {
        timeline
            .iter()
            .filter(move |e| e.kind == kind)
            .map(|e| e.at)
    };
    let acknowledged_at = at_of("acknowledged").min();
    let resolved_at = [
        time_of(&inc["resolved_at"]).or_else(|| time_of(&inc["last_status_change_at"])),
        at_of("resolved").max(),
    ]
    .into_iter()
    .flatten()
    .max();
    let resolved_at = resolved_at.ok_or("resolved incident without a resolution time")?;
    let severity = super::pagerduty::severity(config, inc.get("priority"), inc["urgency"].as_str());
    Ok(HistoryRecord {
        id,
        title: inc["title"]
            .as_str()
            .or(inc["summary"].as_str())
            .unwrap_or_default()
            .to_string(),
        service: config.service_for_pagerduty(
            inc["service"]["id"].as_str(),
            inc["service"]["summary"].as_str(),
        ),
        triggered_at,
        acknowledged_at,
        resolved_at: resolved_at.max(triggered_at),
        severity,
        summary: None,
        root_cause: None,
        resolution: None,
        action_items: Vec::new(),
        changes: Vec::new(),
        timeline,
        tags: inc["teams"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|x| x["summary"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Backfills [since, until) and reports what it did; `progress` is called after each incident.
pub async fn run(
    store: &Store,
    config: &Config,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    progress: &mut dyn FnMut(&ImportSummary, usize),
) -> anyhow::Result<(ImportSummary, usize)> {
    if until <= since {
        bail!("--until must be after --since");
    }
    let api = PagerDutyApi::from_config(config)?;
    let mut summary = ImportSummary::default();
    let mut skipped = 0;
    let mut start = since;
    let mut n = 0;
    while start < until {
        let end = (start + chrono::Duration::days(WINDOW_DAYS)).min(until);
        for inc in api.incidents(start, end).await? {
            n += 1;
            let id = inc["id"].as_str().unwrap_or_default().to_string();
            if let Ok(iid) = IncidentId::parse(&id)
                && let Some(existing) = store.incident(&iid).await?
                && existing.source == "pagerduty"
            {
                // The webhooks brought it already, with its own evidence ids.
                skipped += 1;
                continue;
            }
            let logs = api.log_entries(&id).await?;
            let notes = api.notes(&id).await?;
            match to_record(&inc, &logs, &notes, config) {
                Ok(r) => match store.import_record(&r).await? {
                    Imported::New => summary.imported += 1,
                    Imported::Updated => summary.updated += 1,
                },
                Err(reason) => summary.rejected.push((n, format!("{id}: {reason}"))),
            }
            progress(&summary, skipped);
        }
        start = end;
    }
    Ok((summary, skipped))
}
