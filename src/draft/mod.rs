//! Drafting: evidence in, a cited postmortem revision out.

pub mod chart;
pub mod document;
pub mod evidence_drafter;
pub mod rank;
pub mod render;

use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::domain::{IncidentId, fmt_time, now_millis};
use crate::evidence::Bundle;
use crate::metrics::Metrics;
use crate::store::postmortems::StoredPostmortem;
use crate::store::{Store, StoreError};
use document::Postmortem;
use render::Templates;

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error("no incident {0}")]
    NotFound(IncidentId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Template(#[from] render::TemplateError),
}

/// What a draft run produced.
#[derive(Debug, Clone)]
pub struct Drafted {
    pub revision: i64,
    /// False when the evidence had not changed since the last automatic draft.
    pub created: bool,
    pub postmortem: Postmortem,
}

/// Drafts postmortems and stores them as revisions.
#[derive(Clone)]
pub struct Drafter {
    store: Store,
    config: Arc<Config>,
    templates: Arc<Templates>,
    metrics: Metrics,
}

impl Drafter {
    pub fn new(
        store: Store,
        config: Arc<Config>,
        templates: Arc<Templates>,
        metrics: Metrics,
    ) -> Self {
        Self {
            store,
            config,
            templates,
            metrics,
        }
    }

    /// Drafts `id` and stores a new revision. Unless `force`, an automatic redraft over unchanged
    /// evidence keeps the current revision instead of adding an identical one.
    #[tracing::instrument(skip_all, fields(incident.id = %id), err)]
    pub async fn draft(&self, id: &IncidentId, force: bool) -> Result<Drafted, DraftError> {
        let started = Instant::now();
        let result = self.draft_inner(id, force, started).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        self.metrics
            .drafts
            .with_label_values(&["evidence", outcome])
            .inc();
        self.metrics
            .draft_latency
            .with_label_values(&["evidence"])
            .observe(started.elapsed().as_secs_f64());
        result
    }

    async fn draft_inner(
        &self,
        id: &IncidentId,
        force: bool,
        started: Instant,
    ) -> Result<Drafted, DraftError> {
        let incident = self
            .store
            .incident(id)
            .await?
            .ok_or_else(|| DraftError::NotFound(id.clone()))?;
        let problems =
            crate::evidence::metrics::ensure_frozen(&self.store, &self.config, &incident).await;
        let mut bundle = Bundle::gather_for(&self.store, &self.config, incident).await?;
        bundle.metrics_missing.extend(problems);
        let hash = bundle.hash();
        if !force
            && let Some(cur) = self.store.current_postmortem(id).await?
            && cur.evidence_hash == hash
            && cur.drafter == "evidence"
            && cur.author.is_none()
            && let Ok(doc) = serde_json::from_value::<Postmortem>(cur.body.clone())
        {
            return Ok(Drafted {
                revision: cur.revision,
                created: false,
                postmortem: doc,
            });
        }
        let mut doc =
            evidence_drafter::draft(&bundle, &self.config.drafting, bundle.impact_start());
        let now = now_millis();
        let trace_id = current_trace_id();
        doc.generated_at = fmt_time(now);
        doc.evidence_hash = hash.clone();
        doc.trace_id = trace_id.clone();
        doc.provenance.evidence_hash = hash.clone();
        doc.provenance.trace_id = trace_id.clone();
        doc.provenance.duration_ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
        doc.markdown = self.templates.markdown(&doc)?;
        let body = serde_json::to_value(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // The store numbers the revision inside its transaction and writes it into the body.
        let revision = self
            .store
            .add_postmortem_revision(&StoredPostmortem {
                incident_id: id.to_string(),
                revision: 0,
                status: "draft".into(),
                drafter: doc.drafter.clone(),
                model: doc.model.clone(),
                prompt_version: doc.prompt_version.clone(),
                evidence_hash: hash,
                trace_id,
                author: None,
                generated_at: now,
                body,
                markdown: doc.markdown.clone(),
            })
            .await?;
        doc.revision = revision;
        Ok(Drafted {
            revision,
            created: true,
            postmortem: doc,
        })
    }
}

/// A W3C trace id for the draft (the span's, once spans are exported over OTLP).
fn current_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
