//! A past incident from an imported history (CONTRACT.md's import record), validated: the
//! incident, its written postmortem (summary, root cause, resolution, action items), its changes and
//! timeline.

use serde::{Deserialize, Serialize};

use super::{Change, IncidentId, Millis, Severity};

/// An action item from an imported postmortem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub text: String,
    #[serde(default)]
    pub owner: Option<String>,
    /// `open` or `done`.
    #[serde(default = "open")]
    pub status: String,
    #[serde(default)]
    pub closed_at: Option<String>,
}

pub(crate) fn open() -> String {
    "open".into()
}

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
    pub action_items: Vec<ActionRecord>,
    pub changes: Vec<Change>,
    /// (at, source, kind, author, text), in time order.
    pub timeline: Vec<TimelineItem>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TimelineItem {
    pub evidence_id: String,
    pub at: Millis,
    pub source: String,
    pub kind: String,
    pub author: Option<String>,
    pub text: String,
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
