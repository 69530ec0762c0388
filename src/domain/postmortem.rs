//! The postmortem document: what the drafter writes, the store keeps, the API returns and the
//! templates render. Every statement carries the evidence ids it rests on.

use serde::{Deserialize, Serialize};

use super::ActionItem;
use super::TimelineEntry;

/// A statement with its citations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub text: String,
    pub evidence_ids: Vec<String>,
}

impl Finding {
    pub fn new(text: impl Into<String>, evidence_ids: Vec<String>) -> Self {
        Self {
            text: text.into(),
            evidence_ids,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Impact {
    pub service: String,
    pub severity: Option<String>,
    pub start: String,
    pub end: Option<String>,
    pub duration_minutes: Option<f64>,
    pub time_to_acknowledge_minutes: Option<f64>,
    pub time_to_resolve_minutes: Option<f64>,
    pub statements: Vec<Finding>,
}

/// A metric anomaly, with the frozen query that shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AnomalyItem {
    pub evidence_id: String,
    pub name: String,
    pub query: String,
    pub step_secs: i64,
    pub direction: String,
    pub baseline: f64,
    pub peak: f64,
    pub peak_at: String,
    pub onset: String,
    pub recovered_at: Option<String>,
    /// Minutes from the onset to the first trigger (positive: the onset came first).
    pub minutes_before_trigger: f64,
    pub text: String,
    pub evidence_ids: Vec<String>,
    /// An inline SVG chart of the series with the changes marked (escaped when built).
    pub chart_svg: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangeItem {
    pub evidence_id: String,
    pub service: String,
    pub kind: String,
    pub summary: String,
    pub at: String,
    pub version: Option<String>,
    pub author: Option<String>,
    pub url: Option<String>,
    /// Minutes between the change and the first trigger (positive: before).
    pub minutes_before_trigger: f64,
    /// For upstream data, model and prompt changes: how lineage links them to the service.
    #[serde(default)]
    pub lineage_path: Option<String>,
    /// The deployment environment, where its source names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// False for a non-production deployment: listed, marked, never ranked as a cause.
    #[serde(default = "yes")]
    pub production: bool,
}

fn yes() -> bool {
    true
}

/// The kind of cause a hypothesis names.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HypothesisKind {
    /// A change on the incident's own service.
    #[default]
    Change,
    /// A change on a service it depends on (named by responders, configured, or through lineage).
    UpstreamChange,
    /// A vendor, cloud provider, DNS provider or CDN.
    External,
    /// A traffic surge or exhausted capacity.
    Load,
    /// An expired certificate, credential or licence, a used-up quota, a full disk.
    Expiry,
    /// Hardware, hosts, nodes or the network of our own fleet.
    Infrastructure,
    /// No cause stands out.
    Unknown,
}

impl HypothesisKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HypothesisKind::Change => "change",
            HypothesisKind::UpstreamChange => "upstream_change",
            HypothesisKind::External => "external",
            HypothesisKind::Load => "load",
            HypothesisKind::Expiry => "expiry",
            HypothesisKind::Infrastructure => "infrastructure",
            HypothesisKind::Unknown => "unknown",
        }
    }

    /// Whether it blames a change.
    pub fn is_change(self) -> bool {
        matches!(
            self,
            HypothesisKind::Change | HypothesisKind::UpstreamChange
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hypothesis {
    pub rank: usize,
    /// What kind of cause it names (CONTRACT: `change`, `upstream_change`, `external`, `load`,
    /// `expiry`, `infrastructure`, `unknown`).
    #[serde(default)]
    pub kind: HypothesisKind,
    pub hypothesis: String,
    /// 0–1.
    pub confidence: f64,
    pub evidence_ids: Vec<String>,
    /// True when every cited id exists in the evidence and at least one is cited.
    pub supported: bool,
    /// Why it ranks where it does.
    #[serde(default)]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SimilarIncident {
    pub id: String,
    pub title: String,
    pub score: f64,
    /// Why it was chosen (shared terms, same service, same kind of change).
    #[serde(default)]
    pub why: Vec<String>,
    /// What fixed it: its root cause or resolution.
    #[serde(default)]
    pub fixed_by: Option<String>,
}

/// How the draft was made: its receipt.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    pub drafter: String,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub evidence_hash: String,
    pub trace_id: String,
    pub evidence_count: usize,
    /// The lineage paths the ranked hypotheses rest on.
    #[serde(default)]
    pub lineage_paths: Vec<String>,
    pub lookback_hours: f64,
    pub duration_ms: f64,
    /// The model server's host, for LLM drafts.
    #[serde(default)]
    pub server_host: Option<String>,
    /// How the answer's shape was asked for (`json_schema`, `json_object`, `tool_call`).
    #[serde(default)]
    pub response_format: Option<String>,
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    /// Time spent waiting for the model, in milliseconds.
    #[serde(default)]
    pub llm_latency_ms: Option<f64>,
    /// Requests made to the model (2 when a repair was needed).
    #[serde(default)]
    pub llm_requests: u32,
    /// Values redacted from the prompt.
    #[serde(default)]
    pub redactions: u64,
    /// Timeline items left out of the prompt to fit its token budget.
    #[serde(default)]
    pub prompt_items_omitted: usize,
    /// Ids the model cited that do not exist in the evidence (removed by the verifier).
    #[serde(default)]
    pub removed_citations: Vec<String>,
    /// Hypotheses the verifier found no valid citation for.
    #[serde(default)]
    pub unsupported_hypotheses: usize,
    /// Why this is the evidence drafter's draft although a model is configured.
    #[serde(default)]
    pub llm_fallback: Option<String>,
}

/// Which revision of whose postmortem this is, where it stands in review, and how it was made.
/// The same header heads the document and its stored row (flattened into both's JSON).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevisionHeader {
    pub incident_id: String,
    /// 1, 2, …; 0 until the store numbers it.
    pub revision: i64,
    /// `draft`, `in_review` or `published`.
    pub status: String,
    /// `evidence` (the built-in drafter), `llm`, or `human` for an edit.
    pub drafter: String,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    /// SHA-256 of the evidence bundle the draft was made from.
    pub evidence_hash: String,
    /// The OpenTelemetry trace of the drafting.
    pub trace_id: String,
}

impl RevisionHeader {
    /// The header of a new draft by `drafter`, numbered by the store when it is added.
    pub fn draft(incident_id: impl Into<String>, drafter: impl Into<String>) -> Self {
        RevisionHeader {
            incident_id: incident_id.into(),
            revision: 0,
            status: "draft".into(),
            drafter: drafter.into(),
            model: None,
            prompt_version: None,
            evidence_hash: String::new(),
            trace_id: String::new(),
        }
    }
}

/// A postmortem revision's content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Postmortem {
    #[serde(flatten)]
    pub header: RevisionHeader,
    pub generated_at: String,
    pub title: String,
    pub service: String,
    pub severity: Option<String>,
    /// The summary, with its citations inline as `[evidence-id]`.
    pub summary: String,
    pub summary_evidence_ids: Vec<String>,
    pub impact: Impact,
    pub timeline: Vec<TimelineEntry>,
    #[serde(default)]
    pub anomalies: Vec<AnomalyItem>,
    /// Why metrics evidence is missing or partial (empty when metrics were read).
    #[serde(default)]
    pub metrics_missing: Vec<String>,
    pub changes: Vec<ChangeItem>,
    pub root_cause_hypotheses: Vec<Hypothesis>,
    pub contributing_factors: Vec<Finding>,
    pub what_went_well: Vec<Finding>,
    pub what_went_poorly: Vec<Finding>,
    pub action_items: Vec<ActionItem>,
    pub similar_incidents: Vec<SimilarIncident>,
    /// Evidence a reader should know was not available.
    pub missing_evidence: Vec<String>,
    pub provenance: Provenance,
    #[serde(default)]
    pub markdown: String,
}
