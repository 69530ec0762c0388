//! A metric series frozen with its incident, so the postmortem stays reproducible after the
//! metrics backend deletes the data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Millis;

/// One series as Prometheus returned it, with the query and step that produced it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrozenSeries {
    /// The query's name; the evidence id is `metric:<name>`.
    pub name: String,
    pub query: String,
    pub labels: BTreeMap<String, String>,
    pub step_secs: i64,
    pub start: Millis,
    pub end: Millis,
    /// `(time, value)`, finite values only.
    pub points: Vec<(Millis, f64)>,
}

impl FrozenSeries {
    pub fn evidence_id(&self) -> String {
        format!("metric:{}", self.name)
    }
}
