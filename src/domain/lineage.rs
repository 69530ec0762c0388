//! OpenLineage runs as the rest of the service sees them: which job ran, when, and which dataset
//! versions it read and wrote.

use serde_json::Value;

use super::Millis;

/// A dataset a run read or wrote, with the version it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRef {
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
}

/// A validated RunEvent.
#[derive(Debug, Clone)]
pub struct RunEvent {
    pub run_id: String,
    pub event_type: String,
    pub event_time: Millis,
    pub job_namespace: String,
    pub job_name: String,
    pub inputs: Vec<DatasetRef>,
    pub outputs: Vec<DatasetRef>,
    pub run_facets: serde_json::Map<String, Value>,
}

impl RunEvent {
    pub fn evidence_id(&self) -> String {
        format!("lineage:{}", self.run_id)
    }
}

/// What a lineage body holds.
#[derive(Debug, Clone)]
pub enum Lineage {
    Run(Box<RunEvent>),
    /// DatasetEvent or JobEvent: valid, acknowledged, not used for ranking.
    Other,
}
