//! OpenLineage about our own drafts: with `OPENLINEAGE_URL` set, each draft emits a START and a
//! COMPLETE (or FAIL) RunEvent to `{OPENLINEAGE_URL}/api/v1/lineage` (Marquez's route). The job is
//! the drafter, the inputs are the incident's evidence sources, the output is the postmortem, and a
//! run facet records the model and prompt version. Emission never fails a draft: errors are logged
//! and counted.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::Config;
use crate::domain::Incident;
use crate::domain::{fmt_time, now_millis};
use crate::metrics::Metrics;

pub const PRODUCER: &str = "https://github.com/postmortem-dev/postmortem";
const SCHEMA_URL: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
const FACET_SCHEMA: &str =
    "https://github.com/postmortem-dev/postmortem/blob/main/docs/PostmortemDraftRunFacet.json";
pub const NAMESPACE: &str = "postmortem";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Start,
    Complete,
    Fail,
}

impl RunState {
    fn as_str(self) -> &'static str {
        match self {
            RunState::Start => "START",
            RunState::Complete => "COMPLETE",
            RunState::Fail => "FAIL",
        }
    }
}

/// What the run facet says about the draft.
#[derive(Debug, Clone)]
pub struct DraftFacts {
    pub drafter: String,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub evidence_hash: Option<String>,
}

#[derive(Clone)]
pub struct LineageEmitter {
    http: reqwest::Client,
    url: String,
    metrics: Metrics,
}

impl std::fmt::Debug for LineageEmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineageEmitter")
            .field("url", &self.url)
            .finish()
    }
}

impl LineageEmitter {
    pub fn from_config(config: &Config, metrics: Metrics) -> anyhow::Result<Option<Self>> {
        let Some(base) = config.openlineage_url.as_deref() else {
            return Ok(None);
        };
        let base = base.trim_end_matches('/');
        let url = if base.ends_with("/api/v1/lineage") {
            base.to_string()
        } else {
            format!("{base}/api/v1/lineage")
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Some(Self { http, url, metrics }))
    }

    /// Sends one event; failures are logged and counted, never returned.
    pub async fn emit(
        &self,
        state: RunState,
        run_id: Uuid,
        incident: &Incident,
        facts: DraftFacts,
        revision: Option<i64>,
    ) {
        let event = run_event(state, run_id, incident, &facts, revision);
        let outcome = match self.http.post(&self.url).json(&event).send().await {
            Ok(r) if r.status().is_success() => "ok",
            Ok(r) => {
                tracing::warn!(status = %r.status(), url = %self.url, "OpenLineage endpoint refused a draft event");
                "refused"
            }
            Err(e) => {
                tracing::warn!(error = %e, url = %self.url, "cannot send a draft event to OpenLineage");
                "unreachable"
            }
        };
        self.metrics
            .lineage_emitted
            .with_label_values(&[outcome])
            .inc();
    }
}

/// The RunEvent for one state of a draft run.
pub fn run_event(
    state: RunState,
    run_id: Uuid,
    incident: &Incident,
    facts: &DraftFacts,
    revision: Option<i64>,
) -> Value {
    let mut inputs =
        vec![json!({"namespace": "pagerduty", "name": format!("incidents/{}", incident.id)})];
    if !incident.service.is_empty() {
        inputs
            .push(json!({"namespace": NAMESPACE, "name": format!("changes/{}", incident.service)}));
        inputs.push(
            json!({"namespace": "prometheus", "name": format!("metrics/{}", incident.service)}),
        );
    }
    let mut output =
        json!({"namespace": NAMESPACE, "name": format!("postmortems/{}", incident.id)});
    if let Some(r) = revision {
        output["facets"] = json!({
            "version": {
                "_producer": PRODUCER,
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
                "datasetVersion": r.to_string(),
            }
        });
    }
    let mut draft = json!({
        "_producer": PRODUCER,
        "_schemaURL": FACET_SCHEMA,
        "drafter": facts.drafter,
        "incidentId": incident.id,
    });
    if let Some(m) = &facts.model {
        draft["model"] = json!(m);
    }
    if let Some(p) = &facts.prompt_version {
        draft["promptVersion"] = json!(p);
    }
    if let Some(h) = &facts.evidence_hash {
        draft["evidenceHash"] = json!(h);
    }
    json!({
        "eventType": state.as_str(),
        "eventTime": fmt_time(now_millis()),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id.to_string(), "facets": {"postmortem_draft": draft}},
        "job": {
            "namespace": NAMESPACE,
            "name": "postmortem.drafter",
            "facets": {
                "jobType": {
                    "_producer": PRODUCER,
                    "_schemaURL": "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
                    "processingType": "BATCH",
                    "integration": "POSTMORTEM",
                    "jobType": "DRAFT"
                }
            }
        },
        "inputs": inputs,
        "outputs": [output],
    })
}
