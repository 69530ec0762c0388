//! A past incident from an imported history (CONTRACT.md's import record), validated: the
//! incident, its written postmortem (summary, root cause, resolution, action items), its changes and
//! timeline.

use serde::Serialize;

use super::{ActionItem, Change, IncidentId, Millis, Severity, TimelineEntry};

/// One validated import record.
#[derive(Debug, Clone)]
pub struct HistoryRecord {
    pub id: IncidentId,
    pub title: String,
    pub service: String,
    pub triggered_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub resolved_at: Millis,
    pub severity: Option<Severity>,
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    pub action_items: Vec<ActionItem>,
    pub changes: Vec<Change>,
    /// (at, source, kind, author, text), in time order.
    pub timeline: Vec<TimelineEntry>,
    pub tags: Vec<String>,
}

impl HistoryRecord {
    /// The incident's timeline: the record's own items, and the trigger, acknowledgement and
    /// resolution (`import:<id>:triggered|acknowledged|resolved`) unless the record has them.
    pub fn timeline_entries(&self) -> Vec<TimelineEntry> {
        let r = self;
        let id = r.id.as_str();
        let state = |kind: &str, at, text: String| TimelineEntry {
            incident_id: id.to_string(),
            evidence_id: format!("import:{id}:{kind}"),
            at,
            source: "import".into(),
            kind: kind.into(),
            author: None,
            text,
            thread: None,
            raw: None,
        };
        // The trigger, acknowledgement and resolution, unless the record's timeline has them.
        let has = |kind: &str| r.timeline.iter().any(|t| t.kind == kind);
        let mut entries = Vec::new();
        if !has("triggered") {
            entries.push(state(
                "triggered",
                r.triggered_at,
                format!("Triggered: {}", r.title),
            ));
        }
        if let Some(a) = r.acknowledged_at
            && !has("acknowledged")
        {
            entries.push(state("acknowledged", a, "Acknowledged".into()));
        }
        if !has("resolved") {
            entries.push(state("resolved", r.resolved_at, "Resolved".into()));
        }
        entries.extend(r.timeline.iter().cloned());
        entries
    }
}

/// What importing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    New,
    Updated,
}

/// The summary of a whole import.
#[derive(Debug, Default, Serialize)]
pub struct ImportSummary {
    pub imported: usize,
    pub updated: usize,
    /// (line number, reason).
    pub rejected: Vec<(usize, String)>,
}
