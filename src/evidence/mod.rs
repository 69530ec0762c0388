//! Evidence about one incident, gathered from the store: its timeline (PagerDuty events and notes,
//! later Slack), the changes around it, and what is missing. The drafter and the API's timeline
//! both read this one bundle.

pub mod anomaly;
pub mod lineage;
pub mod metrics;

use crate::config::Config;
use crate::domain::{Change, FrozenSeries, Incident, IncidentId, Millis, TimelineEntry};
use crate::store::{Result, Store};

/// Everything known about an incident, frozen for one draft.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    /// Changes on any service from `lookback` before the first trigger to the final resolution.
    pub changes: Vec<Change>,
    pub lookback_hours: f64,
    /// Metric series frozen with the incident.
    pub metrics: Vec<FrozenSeries>,
    /// Anomalies found in `metrics` (index into it), earliest onset first; see [`detect_all`].
    pub detected: Vec<(usize, anomaly::Detected)>,
    /// Why metrics evidence is missing or partial.
    pub metrics_missing: Vec<String>,
    /// What other evidence a reader should know was not available.
    pub missing: Vec<String>,
    /// Services the incident's service depends on (`[services.X] depends_on`).
    pub depends_on: Vec<String>,
}

/// A detected anomaly with the series it was found in.
pub struct Found<'a> {
    pub series: &'a FrozenSeries,
    pub detected: anomaly::Detected,
}

/// Runs anomaly detection over every series, earliest onset first.
pub fn detect_all(metrics: &[FrozenSeries], trigger: Millis) -> Vec<(usize, anomaly::Detected)> {
    let mut found: Vec<(usize, anomaly::Detected)> = metrics
        .iter()
        .enumerate()
        .filter_map(|(i, s)| anomaly::detect(s, trigger).map(|d| (i, d)))
        .collect();
    found.sort_by(|(i, a), (j, b)| {
        a.onset
            .cmp(&b.onset)
            .then_with(|| metrics[*i].name.cmp(&metrics[*j].name))
    });
    found
}

impl Bundle {
    pub async fn gather(store: &Store, config: &Config, id: &IncidentId) -> Result<Option<Self>> {
        match store.incident(id).await? {
            Some(incident) => Ok(Some(Self::gather_for(store, config, incident).await?)),
            None => Ok(None),
        }
    }

    /// Gathers the evidence of an incident already loaded.
    pub async fn gather_for(store: &Store, config: &Config, incident: Incident) -> Result<Self> {
        let id =
            &IncidentId::parse(&incident.id).map_err(|e| crate::store::StoreError::Corrupt(e.0))?;
        let lookback_hours = config.drafting.lookback_hours;
        let (start, end) = incident.window();
        let from = start - (lookback_hours * 3_600_000.0) as Millis;
        // Incidents merged into this one bring their evidence (their own ids kept).
        let mut timeline = store.timeline(id).await?;
        for child in store.merged_into(id).await? {
            timeline.extend(store.timeline(&child).await?);
        }
        timeline.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.evidence_id.cmp(&b.evidence_id))
        });
        let mut changes = store.changes_between(from, end).await?;
        changes.extend(lineage::candidates(store, config, &incident.service, from, end).await?);
        let mut missing = Vec::new();
        let metrics = store.metric_series(id).await?;
        let mut metrics_missing = Vec::new();
        if config.prometheus_url.is_none() && metrics.is_empty() {
            metrics_missing.push("No metrics were connected (PROMETHEUS_URL is not set), so no anomaly could be detected or dated.".into());
        }
        if !changes.iter().any(|c| c.service == incident.service) {
            missing.push(format!(
                "No change events were recorded for {} in the {} h before the first trigger; send deploys, config and flag changes to /webhooks/changes.",
                incident.service, lookback_hours
            ));
        }
        if !timeline.iter().any(|e| is_human(&e.kind)) {
            missing
                .push("No responder notes, status updates or chat messages were recorded.".into());
        }
        let detected = detect_all(&metrics, incident.triggered_at);
        let depends_on = config.dependencies_of(&incident.service);
        Ok(Self {
            depends_on,
            incident,
            timeline,
            changes,
            lookback_hours,
            metrics,
            detected,
            metrics_missing,
            missing,
        })
    }

    /// Anomalies in the frozen metrics, earliest onset first (detected once, at gathering).
    pub fn anomalies(&self) -> Vec<Found<'_>> {
        self.detected
            .iter()
            .map(|(i, d)| Found {
                series: &self.metrics[*i],
                detected: d.clone(),
            })
            .collect()
    }

    /// When the impact began: the first trigger, or the earliest anomaly onset before it.
    pub fn impact_start(&self) -> Millis {
        self.anomalies()
            .iter()
            .map(|f| f.detected.onset)
            .min()
            .map_or(self.incident.triggered_at, |o| {
                o.min(self.incident.triggered_at)
            })
    }

    /// Changes on the incident's service in the lookback window before the first trigger.
    pub fn changes_before(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| {
                (c.service == self.incident.service || c.lineage.is_some())
                    && c.at <= self.incident.triggered_at
            })
            .collect()
    }

    /// The whole story in time order: timeline entries and the service's own changes.
    pub fn merged_timeline(&self, extra_changes: &[&str]) -> Vec<TimelineEntry> {
        let mut items: Vec<TimelineEntry> = self.timeline.clone();
        for c in &self.changes {
            if c.service == self.incident.service
                || c.lineage.is_some()
                || extra_changes.contains(&c.id.as_str())
            {
                let version = c
                    .version
                    .as_deref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default();
                items.push(TimelineEntry {
                    incident_id: self.incident.id.clone(),
                    evidence_id: c.evidence_id(),
                    at: c.at,
                    source: if c.lineage.is_some() {
                        "lineage"
                    } else {
                        "change"
                    }
                    .into(),
                    kind: c.kind.as_str().into(),
                    author: c.author.clone(),
                    text: format!(
                        "{} {}: {}{version}{}",
                        c.service,
                        c.kind.noun(),
                        c.summary,
                        non_production_mark(c)
                    ),
                    thread: None,
                    raw: None,
                });
            }
        }
        for f in self.anomalies() {
            items.push(TimelineEntry {
                incident_id: self.incident.id.clone(),
                evidence_id: f.series.evidence_id(),
                at: f.detected.onset,
                source: "metrics".into(),
                kind: "anomaly".into(),
                author: None,
                text: anomaly_sentence(f.series, &f.detected),
                thread: None,
                raw: None,
            });
        }
        items.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.evidence_id.cmp(&b.evidence_id))
        });
        items
    }

    /// Every evidence id a draft may cite.
    pub fn evidence_ids(&self) -> std::collections::BTreeSet<String> {
        self.timeline
            .iter()
            .map(|e| e.evidence_id.clone())
            .chain(self.changes.iter().map(Change::evidence_id))
            .chain(self.metrics.iter().map(FrozenSeries::evidence_id))
            .collect()
    }

    /// A hash of the evidence the draft rests on: same evidence, same hash.
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut lines: Vec<String> = self
            .merged_timeline(
                &self
                    .changes
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .into_iter()
            .map(|i| format!("{}\t{}\t{}", i.evidence_id, i.at, i.text))
            .collect();
        lines.sort();
        let mut h = Sha256::new();
        h.update(format!(
            "{}\t{}\t{}\t{:?}\t{:?}\n",
            self.incident.id,
            self.incident.service,
            self.incident.triggered_at,
            self.incident.acknowledged_at,
            self.incident.resolved_at
        ));
        for l in lines {
            h.update(l.as_bytes());
            h.update(b"\n");
        }
        for m in &self.metrics {
            h.update(
                format!(
                    "{}\t{}\t{:?}\t{}\t{:?}\n",
                    m.name, m.query, m.labels, m.step_secs, m.points
                )
                .as_bytes(),
            );
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}

/// Timeline kinds written by people (notes, status updates, chat), as opposed to state changes.
/// " (non-production: preview)" for a deployment outside production, else "".
pub fn non_production_mark(c: &Change) -> String {
    if c.production {
        return String::new();
    }
    format!(
        " (non-production{}; never a cause)",
        c.environment
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    )
}

pub fn is_human(kind: &str) -> bool {
    matches!(kind, "note" | "status_update" | "message")
}

/// How a metric's values read: ratios as percentages, latencies in ms or s, others as numbers.
/// Judged by the words of its name (`error_ratio`, `latency_p95_seconds`), not substrings.
pub fn format_value(name: &str, v: f64) -> String {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
    let has = |w: &str| words.contains(&w);
    if has("ratio") || has("percent") {
        format!("{:.2}%", v * 100.0)
    } else if has("seconds") || has("latency") {
        if v.abs() < 1.0 {
            format!("{:.0} ms", v * 1000.0)
        } else {
            format!("{v:.2} s")
        }
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// "error_ratio rose from 0.10% to 12.22% (peak 15:01 UTC); onset 14:40 UTC; back to baseline 15:27 UTC."
pub fn anomaly_sentence(s: &FrozenSeries, d: &anomaly::Detected) -> String {
    let hm = |t: Millis| {
        crate::domain::from_millis(t)
            .format("%H:%M UTC")
            .to_string()
    };
    let verb = match d.direction {
        anomaly::Direction::Up => "rose",
        anomaly::Direction::Down => "fell",
    };
    let labels = if s.labels.is_empty() {
        String::new()
    } else {
        let l: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(" {{{}}}", l.join(", "))
    };
    let back = match d.recovered_at {
        Some(t) => format!("back to baseline at {}", hm(t)),
        None => "not back to baseline by the end of the window".into(),
    };
    format!(
        "{}{labels} {verb} from {} (baseline) to {} (peak at {}); onset {}; {back}.",
        s.name,
        format_value(&s.name, d.baseline),
        format_value(&s.name, d.peak),
        hm(d.peak_at),
        hm(d.onset),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_read_by_the_words_of_the_metric_name() {
        use super::format_value as f;
        assert_eq!(f("error_ratio", 0.1234), "12.34%");
        assert_eq!(f("saturation_cpu", 0.35), "0.350");
        assert_eq!(f("latency_p95_seconds", 0.35), "350 ms");
        assert_eq!(f("latency_p95_seconds", 2.5), "2.50 s");
        assert_eq!(f("queue_depth", 1234.0), "1234");
    }
}
