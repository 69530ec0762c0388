//! Metrics evidence from Prometheus: each configured query over first trigger − 2 h to final
//! resolution + 30 min through `/api/v1/query_range`, frozen with the incident so the postmortem
//! stays reproducible after Prometheus deletes the data. A Prometheus that is down or answers
//! garbage is recorded as missing evidence, never a failed draft.
//! API: <https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries>.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Config;
use crate::domain::Incident;
use crate::domain::{FrozenSeries, Millis, now_millis};
use crate::store::Store;

/// The window around an incident that metrics cover.
pub const BEFORE: Millis = 2 * 3_600_000;
pub const AFTER: Millis = 30 * 60_000;
/// Points per series we aim for (Prometheus refuses more than 11,000).
const TARGET_POINTS: i64 = 720;

/// The window and step for an incident: step derived from the window, at least 15 s.
pub fn window(incident: &Incident) -> (Millis, Millis, i64) {
    let start = incident.triggered_at - BEFORE;
    let end = incident.resolved_at.unwrap_or_else(now_millis) + AFTER;
    let secs = ((end - start) / 1000).max(1);
    let step = (secs + TARGET_POINTS - 1) / TARGET_POINTS;
    (start, end, step.max(15))
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Matrix>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Matrix {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<RangeSeries>,
}

#[derive(Deserialize)]
struct RangeSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

/// Runs one range query.
pub async fn query_range(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    start: Millis,
    end: Millis,
    step: i64,
) -> Result<Vec<(BTreeMap<String, String>, Vec<(Millis, f64)>)>, String> {
    let url = format!("{}/api/v1/query_range", base.trim_end_matches('/'));
    let params = [
        ("query", query.to_string()),
        ("start", format!("{:.3}", start as f64 / 1000.0)),
        ("end", format!("{:.3}", end as f64 / 1000.0)),
        ("step", step.to_string()),
    ];
    let r = http.post(&url).form(&params).send().await.map_err(|e| {
        if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "could not connect".to_string()
        } else {
            e.to_string()
        }
    })?;
    let status = r.status();
    let answer: Answer = r
        .json()
        .await
        .map_err(|e| format!("HTTP {status}, not a Prometheus answer: {e}"))?;
    if answer.status != "success" {
        return Err(answer.error.unwrap_or_else(|| format!("HTTP {status}")));
    }
    let data = answer.data.ok_or("answer without data")?;
    if data.result_type != "matrix" {
        return Err(format!("expected a matrix, got {}", data.result_type));
    }
    Ok(data
        .result
        .into_iter()
        .map(|s| {
            let points = s
                .values
                .into_iter()
                .filter_map(|(t, v)| {
                    let v: f64 = v.parse().ok()?;
                    v.is_finite().then_some(((t * 1000.0).round() as Millis, v))
                })
                .collect();
            (s.metric, points)
        })
        .collect())
}

/// Makes sure the incident's metrics are frozen for its whole window; returns the problems to
/// report as missing evidence. Already-frozen data is kept unless the window grew (a reopen).
pub async fn ensure_frozen(store: &Store, config: &Config, incident: &Incident) -> Vec<String> {
    let Some(base) = config.prometheus_url.as_deref() else {
        return vec![];
    };
    let id = match crate::domain::IncidentId::parse(&incident.id) {
        Ok(id) => id,
        Err(e) => return vec![e.0],
    };
    let (start, end, step) = window(incident);
    let queries = config.metric_queries(&incident.service);
    let frozen = match store.metric_series(&id).await {
        Ok(f) => f,
        Err(e) => return vec![format!("Frozen metrics could not be read: {e}")],
    };
    let complete = queries.iter().all(|(name, _)| {
        frozen
            .iter()
            .any(|s| &s.name == name && s.start <= start && s.end >= end)
    });
    if complete {
        return vec![];
    }
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(config.metrics.timeout_secs))
        .build()
    {
        Ok(h) => h,
        Err(e) => return vec![format!("No HTTP client for Prometheus: {e}")],
    };
    let mut series = Vec::new();
    let mut problems = Vec::new();
    for (name, query) in queries {
        let kept = || {
            frozen
                .iter()
                .filter(|s| s.name == name)
                .cloned()
                .collect::<Vec<_>>()
        };
        match query_range(&http, base, &query, start, end, step).await {
            Ok(result) if result.is_empty() => {
                // Prometheus may have deleted what we froze earlier: keep that.
                let old = kept();
                if old.is_empty() {
                    problems.push(format!("Prometheus returned no data for {name} ({query})."));
                }
                series.extend(old);
            }
            Ok(result) => series.extend(result.into_iter().map(|(labels, points)| FrozenSeries {
                name: name.clone(),
                query: query.clone(),
                labels,
                step_secs: step,
                start,
                end,
                points,
            })),
            Err(e) => {
                let old = kept();
                if old.is_empty() {
                    problems.push(format!(
                        "Prometheus at {base} did not answer {name} ({e}), so that metric is missing from this draft."
                    ));
                }
                series.extend(old);
            }
        }
    }
    if !series.is_empty()
        && let Err(e) = store.freeze_metric_series(&id, &series).await
    {
        problems.push(format!(
            "Metrics could not be frozen with the incident: {e}"
        ));
    }
    problems
}
