//! Drafting: evidence in, a cited postmortem revision out.

pub mod chart;
pub mod evidence_drafter;
pub mod lineage;
pub mod rank;

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::config::Config;
use crate::domain::postmortem::{self as document, Postmortem, RevisionHeader};
use crate::domain::{IncidentId, fmt_time, now_millis};
use crate::draft::lineage::{DraftFacts, LineageEmitter, RunState};
use crate::evidence::Bundle;
use crate::llm::LlmDrafter;
use crate::metrics::Metrics;
use crate::patterns::similar::Search;
use crate::render::{self, Templates};
use crate::store::postmortems::StoredPostmortem;
use crate::store::{Store, StoreError};

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
    /// True when a model is configured and its draft over this evidence draft is still to come
    /// ([`Drafter::draft_evidence`]).
    pub model_due: bool,
}

/// How far one draft run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The evidence draft, then the model's (the command line, `eval`).
    Both,
    /// The evidence draft only; the model's follows as its own job.
    Evidence,
}

/// Drafts postmortems and stores them as revisions.
#[derive(Clone)]
pub struct Drafter {
    store: Store,
    config: Arc<Config>,
    templates: Arc<Templates>,
    metrics: Metrics,
    llm: Option<Arc<LlmDrafter>>,
    lineage: Option<LineageEmitter>,
    search: Search,
}

impl Drafter {
    /// Fails when the model or the lineage endpoint is configured but unusable (a bad prompt
    /// template, a bad redaction pattern).
    pub fn new(
        store: Store,
        config: Arc<Config>,
        templates: Arc<Templates>,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let llm = LlmDrafter::from_config(&config, metrics.clone())?.map(Arc::new);
        let lineage = LineageEmitter::from_config(&config, metrics.clone())?;
        Ok(Self {
            search: Search::new(
                store.clone(),
                crate::patterns::similar::embed::Embedder::from_config(&config)?,
            ),
            store,
            config,
            templates,
            metrics,
            llm,
            lineage,
        })
    }

    /// The similarity search the drafts use (shared with the API).
    pub fn search(&self) -> &Search {
        &self.search
    }

    /// `llm` when a model is configured, else `evidence`.
    pub fn drafter_name(&self) -> &'static str {
        if self.llm.is_some() {
            "llm"
        } else {
            "evidence"
        }
    }

    /// Drafts `id` and stores a new revision. Unless `force`, an automatic redraft over unchanged
    /// evidence keeps the current revision instead of adding an identical one. With a model
    /// configured, the evidence draft is stored first and the model's draft becomes the next
    /// revision only when it is valid, so a draft always exists.
    pub async fn draft(&self, id: &IncidentId, force: bool) -> Result<Drafted, DraftError> {
        self.run(id, force, Stage::Both).await
    }

    /// Like [`Drafter::draft`], but stores only the evidence draft: with a model configured,
    /// `model_due` says its draft is still to be asked for ([`Drafter::draft_with_model`]). The
    /// job worker drafts this way, so a slow or hung model never delays an evidence draft.
    pub async fn draft_evidence(
        &self,
        id: &IncidentId,
        force: bool,
    ) -> Result<Drafted, DraftError> {
        self.run(id, force, Stage::Evidence).await
    }

    /// The model's draft over the current evidence draft, as the next revision (or, when the
    /// model fails, the evidence draft's receipt saying why). `None` when there is nothing to do:
    /// no model configured, or the current revision is no longer that evidence draft (newer
    /// evidence, a person's edit, or the model's draft already stored).
    #[tracing::instrument(name = "model_draft", skip_all, fields(incident.id = %id), err)]
    pub async fn draft_with_model(&self, id: &IncidentId) -> Result<Option<Drafted>, DraftError> {
        let Some(llm) = &self.llm else {
            return Ok(None);
        };
        let started = Instant::now();
        let incident = self
            .store
            .incident(id)
            .await?
            .ok_or_else(|| DraftError::NotFound(id.clone()))?;
        let bundle = self.evidence(incident.clone()).await?;
        let Some(cur) = self.store.current_postmortem(id).await? else {
            return Ok(None);
        };
        if cur.header.drafter != "evidence"
            || cur.header.evidence_hash != bundle.hash()
            || cur.author.is_some()
            || cur.header.status != "draft"
        {
            return Ok(None);
        }
        let mut doc: Postmortem =
            serde_json::from_value(cur.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        doc.header.revision = cur.header.revision;
        let stored = Drafted {
            revision: cur.header.revision,
            created: false,
            postmortem: doc.clone(),
            model_due: false,
        };
        // The model's draft is a run of its own in the lineage graph.
        let run_id = uuid::Uuid::new_v4();
        self.emit_start(run_id, &incident).await;
        let result = self
            .llm_revision(llm, id, &bundle, doc, stored, started)
            .await;
        self.emit_outcome(run_id, &incident, &result).await;
        result.map(Some)
    }

    #[tracing::instrument(name = "draft", skip_all, fields(incident.id = %id), err)]
    async fn run(&self, id: &IncidentId, force: bool, stage: Stage) -> Result<Drafted, DraftError> {
        let started = Instant::now();
        let run_id = uuid::Uuid::new_v4();
        let incident = self
            .store
            .incident(id)
            .await?
            .ok_or_else(|| DraftError::NotFound(id.clone()))?;
        self.emit_start(run_id, &incident).await;
        let result = self
            .draft_inner(id, incident.clone(), force, stage, started)
            .await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        if result.is_err() {
            self.metrics
                .drafts
                .with_label_values(&[self.drafter_name(), outcome])
                .inc();
        }
        self.metrics
            .draft_latency
            .with_label_values(&[self.drafter_name()])
            .observe(started.elapsed().as_secs_f64());
        self.emit_outcome(run_id, &incident, &result).await;
        result
    }

    /// The incident's evidence, its metrics frozen first (what could not be read is listed in
    /// `metrics_missing`).
    async fn evidence(&self, incident: crate::domain::Incident) -> Result<Bundle, DraftError> {
        let problems =
            crate::evidence::metrics::ensure_frozen(&self.store, &self.config, &incident).await;
        let mut bundle = Bundle::gather_for(&self.store, &self.config, incident).await?;
        bundle.metrics_missing.extend(problems);
        Ok(bundle)
    }

    /// The lineage event that starts a draft run.
    async fn emit_start(&self, run_id: uuid::Uuid, incident: &crate::domain::Incident) {
        if let Some(l) = &self.lineage {
            l.emit(
                RunState::Start,
                run_id,
                incident,
                self.lineage_facts(),
                None,
            )
            .await;
        }
    }

    /// The lineage event that ends a draft run: COMPLETE with the revision it stored, or FAIL.
    async fn emit_outcome(
        &self,
        run_id: uuid::Uuid,
        incident: &crate::domain::Incident,
        result: &Result<Drafted, DraftError>,
    ) {
        let Some(l) = &self.lineage else {
            return;
        };
        let (state, revision) = match result {
            Ok(d) => (RunState::Complete, Some(d.revision)),
            Err(_) => (RunState::Fail, None),
        };
        let mut facts = self.lineage_facts();
        if let Ok(d) = result {
            facts.drafter = d.postmortem.header.drafter.clone();
            facts.evidence_hash = Some(d.postmortem.header.evidence_hash.clone());
        }
        l.emit(state, run_id, incident, facts, revision).await;
    }

    fn lineage_facts(&self) -> DraftFacts {
        DraftFacts {
            drafter: self.drafter_name().to_string(),
            model: self.llm.as_ref().map(|l| l.model().to_string()),
            prompt_version: self.llm.as_ref().map(|l| l.prompt_version().to_string()),
            evidence_hash: None,
        }
    }

    async fn draft_inner(
        &self,
        id: &IncidentId,
        incident: crate::domain::Incident,
        force: bool,
        stage: Stage,
        started: Instant,
    ) -> Result<Drafted, DraftError> {
        let bundle = self.evidence(incident).await?;
        let hash = bundle.hash();
        let current = self.store.current_postmortem(id).await?;
        let unchanged = |cur: &StoredPostmortem, drafter: &str| {
            cur.header.evidence_hash == hash
                && cur.header.drafter == drafter
                && cur.author.is_none()
                && match (&self.llm, drafter) {
                    (Some(l), "llm") => {
                        cur.header.prompt_version.as_deref() == Some(l.prompt_version())
                    }
                    _ => true,
                }
        };
        // A revision a person edited or moved on stays current while the evidence it rests on is
        // unchanged: an automatic redraft would only push their work back one revision.
        let touched = |cur: &StoredPostmortem| cur.author.is_some() || cur.header.status != "draft";
        if !force
            && let Some(cur) = &current
            && (unchanged(cur, self.drafter_name())
                || (touched(cur) && cur.header.evidence_hash == hash))
            && let Ok(doc) = serde_json::from_value::<Postmortem>(cur.body.clone())
        {
            return Ok(Drafted {
                revision: cur.header.revision,
                created: false,
                postmortem: doc,
                model_due: false,
            });
        }
        let trace_id = current_trace_id();
        let mut doc =
            evidence_drafter::draft(&bundle, &self.config.drafting, bundle.impact_start());
        doc.similar_incidents = self.similar(id).await;
        doc.header.evidence_hash = hash.clone();
        doc.header.trace_id = trace_id.clone();
        doc.provenance.evidence_hash = hash.clone();
        doc.provenance.trace_id = trace_id.clone();

        // The evidence draft first, unless an identical one is already current (a model that
        // failed before is simply asked again).
        let reuse = !force
            && current
                .as_ref()
                .is_some_and(|cur| self.llm.is_some() && unchanged(cur, "evidence"));
        let stored = if reuse {
            let cur = current.expect("checked above");
            let mut d: Postmortem = serde_json::from_value(cur.body.clone())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            d.header.revision = cur.header.revision;
            Drafted {
                revision: cur.header.revision,
                created: false,
                postmortem: d,
                model_due: false,
            }
        } else {
            let d = self.store_revision(id, doc.clone(), started).await?;
            self.metrics
                .drafts
                .with_label_values(&["evidence", "ok"])
                .inc();
            d
        };

        let Some(llm) = &self.llm else {
            self.record_for_search(id, &stored.postmortem).await;
            return Ok(stored);
        };
        if stage == Stage::Evidence {
            self.record_for_search(id, &stored.postmortem).await;
            return Ok(Drafted {
                model_due: true,
                ..stored
            });
        }
        self.llm_revision(llm, id, &bundle, doc, stored, started)
            .await
    }

    /// The LLM's revision after the evidence draft `stored`; when the model fails, the evidence
    /// draft stands and records why.
    async fn llm_revision(
        &self,
        llm: &LlmDrafter,
        id: &IncidentId,
        bundle: &Bundle,
        doc: Postmortem,
        mut stored: Drafted,
        started: Instant,
    ) -> Result<Drafted, DraftError> {
        let trace_id = doc.header.trace_id.clone();
        let llm_started = Instant::now();
        match llm.draft(bundle, &doc).await {
            Ok(mut l) => {
                l.header.trace_id = trace_id.clone();
                l.provenance.trace_id = trace_id;
                let d = self.store_revision(id, l, started).await?;
                self.record_for_search(id, &d.postmortem).await;
                self.metrics.drafts.with_label_values(&["llm", "ok"]).inc();
                self.metrics
                    .draft_latency
                    .with_label_values(&["llm"])
                    .observe(llm_started.elapsed().as_secs_f64());
                Ok(d)
            }
            Err(e) => {
                tracing::warn!(incident.id = %id, error = %e, "the LLM draft failed; the evidence draft stands");
                self.metrics
                    .drafts
                    .with_label_values(&["llm", &format!("fallback_{}", e.kind())])
                    .inc();
                // The evidence draft's receipt says why the model's draft is not there.
                let p = &mut stored.postmortem;
                p.provenance.llm_fallback = Some(e.to_string());
                p.markdown = self.templates.markdown(p)?;
                let body =
                    serde_json::to_value(&*p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                self.store
                    .amend_draft_revision(id, stored.revision, &body, &p.markdown)
                    .await?;
                self.record_for_search(id, &stored.postmortem).await;
                Ok(stored)
            }
        }
    }

    /// Past incidents like `id`, from the similarity search (empty when it fails).
    async fn similar(&self, id: &IncidentId) -> Vec<document::SimilarIncident> {
        match self.search.similar_before(id.as_str(), 5).await {
            Ok(hits) => hits
                .unwrap_or_default()
                .into_iter()
                .map(|s| document::SimilarIncident {
                    id: s.id,
                    title: s.title,
                    score: s.score,
                    why: s.why,
                    fixed_by: s.fixed_by.root_cause.or(s.fixed_by.resolution),
                })
                .collect(),
            Err(e) => {
                tracing::warn!(incident.id = %id, error = %e, "similarity search failed");
                Vec::new()
            }
        }
    }

    /// Tells search what the draft found (its summary and supported top cause), so incidents
    /// with no written root cause are found by what caused them.
    async fn record_for_search(&self, id: &IncidentId, doc: &Postmortem) {
        let top = doc.root_cause_hypotheses.iter().find(|h| h.supported);
        let kinds = top
            .map(|h| {
                doc.changes
                    .iter()
                    .filter(|c| h.evidence_ids.contains(&c.evidence_id))
                    .map(|c| c.kind.clone())
                    .collect()
            })
            .unwrap_or_default();
        let drafted = crate::store::search::Drafted {
            summary: Some(strip_citations(&doc.summary)),
            cause: top.map(|h| strip_citations(&h.hypothesis)),
            change_kinds: kinds,
        };
        if let Err(e) = self.store.record_drafted(id.as_str(), &drafted).await {
            tracing::warn!(incident.id = %id, error = %e, "cannot record the draft for search");
        }
    }

    /// Renders `doc` and stores it as the incident's next revision.
    async fn store_revision(
        &self,
        id: &IncidentId,
        mut doc: Postmortem,
        started: Instant,
    ) -> Result<Drafted, DraftError> {
        let now = now_millis();
        doc.generated_at = fmt_time(now);
        doc.provenance.duration_ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
        doc.markdown = self.templates.markdown(&doc)?;
        let body = serde_json::to_value(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // The store numbers the revision inside its transaction and writes it into the body.
        let revision = self
            .store
            .add_postmortem_revision(&StoredPostmortem {
                header: RevisionHeader {
                    incident_id: id.to_string(),
                    revision: 0,
                    status: "draft".into(),
                    ..doc.header.clone()
                },
                author: None,
                generated_at: now,
                body,
                markdown: doc.markdown.clone(),
            })
            .await?;
        doc.header.revision = revision;
        Ok(Drafted {
            revision,
            created: true,
            postmortem: doc,
            model_due: false,
        })
    }
}

/// `text` without inline citations (`[change:x, pagerduty:y]`) or Markdown emphasis.
fn strip_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            '*' | '`' => {}
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The current span's trace id (32 hex digits) when spans are exported, else a fresh random id
/// of the same shape, so every draft has one.
fn current_trace_id() -> String {
    let ctx = tracing::Span::current().context();
    let span = ctx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        sc.trace_id().to_string()
    } else {
        uuid::Uuid::new_v4().simple().to_string()
    }
}
