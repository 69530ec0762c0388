//! A change to a service: a deploy, a configuration change, a flag, a migration, a data or model
//! change; and how an upstream lineage run reaches a service.

use serde::{Deserialize, Serialize};

use super::{ChangeKind, Millis, rfc3339};

/// A change to a service; its evidence id is `change:<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: String,
    pub service: String,
    pub kind: ChangeKind,
    pub summary: String,
    #[serde(with = "rfc3339")]
    pub at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where it came from: `api`, `pagerduty`, `github`, `import`, or `lineage` for a run that
    /// wrote data the service reads (its `id` is then the run id).
    #[serde(default = "default_source")]
    pub source: String,
    /// The deployment environment, where the source names one (`production`, `preview`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// False for a non-production deployment: kept in the timeline, marked, never a cause.
    #[serde(default = "yes")]
    pub production: bool,
    /// For lineage candidates: how the run reaches the incident's service.
    #[serde(skip)]
    pub lineage: Option<LineageLink>,
}

/// How an upstream run reaches a service through lineage.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageLink {
    /// 1: the run wrote a dataset the service reads; 2: it wrote what that run read; and so on.
    /// 0: a change seen in the service's own runs (a new model or prompt version).
    pub hops: u8,
    /// The path, service first: "fee-assistant reads vector://prod/fees_index ← written at build-118 by fees-index-rebuild".
    pub path: String,
}

fn default_source() -> String {
    "api".into()
}

fn yes() -> bool {
    true
}

impl Change {
    /// A production change from the API, with no version, author or link.
    pub fn new(
        id: impl Into<String>,
        service: impl Into<String>,
        kind: ChangeKind,
        summary: impl Into<String>,
        at: Millis,
    ) -> Self {
        Change {
            id: id.into(),
            service: service.into(),
            kind,
            summary: summary.into(),
            at,
            version: None,
            author: None,
            url: None,
            source: default_source(),
            environment: None,
            production: true,
            lineage: None,
        }
    }

    pub fn evidence_id(&self) -> String {
        if self.source == "lineage" {
            format!("lineage:{}", self.id)
        } else {
            format!("change:{}", self.id)
        }
    }
}
