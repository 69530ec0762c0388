//! Prometheus metrics, served at `/metrics` in the text format.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The service's own metrics. One registry per app, so tests running several apps don't collide.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Webhooks by source and outcome (`accepted`, `duplicate`, or the rejection reason).
    pub webhooks: IntCounterVec,
    /// Seconds from a webhook's arrival to its durable commit.
    pub ingest_latency: HistogramVec,
    /// Jobs by state (refreshed from the database at each scrape).
    pub jobs: IntGaugeVec,
    /// Jobs run, by kind and outcome (`done`, `retry`, `failed`).
    pub job_runs: IntCounterVec,
    /// Drafts by drafter and outcome.
    pub drafts: IntCounterVec,
    /// Seconds to draft one incident.
    pub draft_latency: HistogramVec,
    /// Tokens sent to and received from the model, by role (`prompt`, `completion`) and model.
    pub llm_tokens: IntCounterVec,
    /// Seconds per model request, by model.
    pub llm_latency: HistogramVec,
    /// Model requests by model and outcome (`ok`, `invalid`, `timeout`, `server_error`, …).
    pub llm_requests: IntCounterVec,
    /// Values redacted before a prompt, by kind (`EMAIL`, `SLACK_TOKEN`, …).
    pub redactions: IntCounterVec,
    /// OpenLineage events about our own drafts, by outcome.
    pub lineage_emitted: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("postmortem".into()), None).expect("valid prefix");
        let webhooks = IntCounterVec::new(
            Opts::new("webhooks_total", "Webhooks received, by source and outcome"),
            &["source", "outcome"],
        )
        .expect("valid metric");
        let ingest_latency = HistogramVec::new(
            HistogramOpts::new(
                "ingest_latency_seconds",
                "Seconds from a webhook's arrival to its durable commit",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["source"],
        )
        .expect("valid metric");
        let jobs =
            IntGaugeVec::new(Opts::new("jobs", "Jobs by state"), &["state"]).expect("valid metric");
        let job_runs = IntCounterVec::new(
            Opts::new("job_runs_total", "Job runs by kind and outcome"),
            &["kind", "outcome"],
        )
        .expect("valid metric");
        let drafts = IntCounterVec::new(
            Opts::new("drafts_total", "Drafts by drafter and outcome"),
            &["drafter", "outcome"],
        )
        .expect("valid metric");
        let draft_latency = HistogramVec::new(
            HistogramOpts::new("draft_latency_seconds", "Seconds to draft one incident").buckets(
                vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                ],
            ),
            &["drafter"],
        )
        .expect("valid metric");
        let llm_tokens = IntCounterVec::new(
            Opts::new(
                "llm_tokens_total",
                "Tokens sent to and received from the model",
            ),
            &["role", "model"],
        )
        .expect("valid metric");
        let llm_latency = HistogramVec::new(
            HistogramOpts::new("llm_latency_seconds", "Seconds per model request").buckets(vec![
                0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
            ]),
            &["model"],
        )
        .expect("valid metric");
        let llm_requests = IntCounterVec::new(
            Opts::new("llm_requests_total", "Model requests by model and outcome"),
            &["model", "outcome"],
        )
        .expect("valid metric");
        let redactions = IntCounterVec::new(
            Opts::new(
                "redactions_total",
                "Values redacted before a prompt, by kind",
            ),
            &["kind"],
        )
        .expect("valid metric");
        let lineage_emitted = IntCounterVec::new(
            Opts::new(
                "openlineage_events_total",
                "OpenLineage events emitted about drafts, by outcome",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        for c in [
            Box::new(webhooks.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(ingest_latency.clone()),
            Box::new(jobs.clone()),
            Box::new(job_runs.clone()),
            Box::new(drafts.clone()),
            Box::new(draft_latency.clone()),
            Box::new(llm_tokens.clone()),
            Box::new(llm_latency.clone()),
            Box::new(llm_requests.clone()),
            Box::new(redactions.clone()),
            Box::new(lineage_emitted.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Self {
            registry,
            webhooks,
            ingest_latency,
            jobs,
            job_runs,
            drafts,
            draft_latency,
            llm_tokens,
            llm_latency,
            llm_requests,
            redactions,
            lineage_emitted,
        }
    }

    pub fn webhook(&self, source: &str, outcome: &str) {
        self.webhooks.with_label_values(&[source, outcome]).inc();
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding cannot fail");
        String::from_utf8(buf).unwrap_or_default()
    }
}
