//! Evidence about one incident, gathered from the store: its timeline (PagerDuty events and notes,
//! later Slack), the changes around it, and what is missing. The drafter and the API's timeline
//! both read this one bundle.

use crate::config::Config;
use crate::domain::{IncidentId, Millis};
use crate::ingest::changes::Change;
use crate::store::incidents::{Incident, TimelineEntry};
use crate::store::{Result, Store};

/// Everything known about an incident, frozen for one draft.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    /// Changes on any service from `lookback` before the first trigger to the final resolution.
    pub changes: Vec<Change>,
    /// Past resolved incidents on the same service, newest first.
    pub past: Vec<Incident>,
    pub lookback_hours: f64,
    /// What evidence a reader should know was not available.
    pub missing: Vec<String>,
}

/// One item of the merged timeline the API shows: a timeline entry, or a change shown as one.
pub type EvidenceItem = TimelineEntry;

impl Bundle {
    pub async fn gather(store: &Store, config: &Config, id: &IncidentId) -> Result<Option<Self>> {
        let Some(incident) = store.incident(id).await? else {
            return Ok(None);
        };
        let lookback_hours = config.drafting.lookback_hours;
        let (start, end) = incident.window();
        let from = start - (lookback_hours * 3_600_000.0) as Millis;
        let timeline = store.timeline(id).await?;
        let changes = store.changes_between(from, end).await?;
        let past = store
            .resolved_incidents_on(&incident.service, incident.triggered_at, 50)
            .await?;
        let mut missing = Vec::new();
        if config.prometheus_url.is_none() {
            missing.push("No metrics were connected (PROMETHEUS_URL is not set), so no anomaly could be detected or dated.".into());
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
        Ok(Some(Self {
            incident,
            timeline,
            changes,
            past,
            lookback_hours,
            missing,
        }))
    }

    /// Changes on the incident's service in the lookback window before the first trigger.
    pub fn changes_before(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.service == self.incident.service && c.at <= self.incident.triggered_at)
            .collect()
    }

    /// The whole story in time order: timeline entries and the service's own changes.
    pub fn merged_timeline(&self, extra_changes: &[&str]) -> Vec<EvidenceItem> {
        let mut items: Vec<EvidenceItem> = self.timeline.clone();
        for c in &self.changes {
            if c.service == self.incident.service || extra_changes.contains(&c.id.as_str()) {
                let version = c
                    .version
                    .as_deref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default();
                items.push(EvidenceItem {
                    incident_id: self.incident.id.clone(),
                    evidence_id: c.evidence_id(),
                    at: c.at,
                    source: "change".into(),
                    kind: c.kind.as_str().into(),
                    author: c.author.clone(),
                    text: format!("{} {}: {}{version}", c.service, c.kind.noun(), c.summary),
                });
            }
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
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}

/// Timeline kinds written by people (notes, status updates, chat), as opposed to state changes.
pub fn is_human(kind: &str) -> bool {
    matches!(kind, "note" | "status_update" | "message")
}
