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

/// `metric` registered in `registry`. The names and labels are ours and fixed, so a failure is a
/// bug (a duplicate name), not an input error.
fn register<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: prometheus::Result<M>,
) -> M {
    let metric = metric.expect("valid metric");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric registered once");
    metric
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(registry, IntCounterVec::new(Opts::new(name, help), labels))
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    buckets: &[f64],
    labels: &[&str],
) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    register(registry, HistogramVec::new(opts, labels))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("postmortem".into()), None).expect("valid prefix");
        let r = &registry;
        Self {
            webhooks: counter(
                r,
                "webhooks_total",
                "Webhooks received, by source and outcome",
                &["source", "outcome"],
            ),
            ingest_latency: histogram(
                r,
                "ingest_latency_seconds",
                "Seconds from a webhook's arrival to its durable commit",
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
                &["source"],
            ),
            jobs: register(
                r,
                IntGaugeVec::new(Opts::new("jobs", "Jobs by state"), &["state"]),
            ),
            job_runs: counter(
                r,
                "job_runs_total",
                "Job runs by kind and outcome",
                &["kind", "outcome"],
            ),
            drafts: counter(
                r,
                "drafts_total",
                "Drafts by drafter and outcome",
                &["drafter", "outcome"],
            ),
            draft_latency: histogram(
                r,
                "draft_latency_seconds",
                "Seconds to draft one incident",
                &[
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                ],
                &["drafter"],
            ),
            llm_tokens: counter(
                r,
                "llm_tokens_total",
                "Tokens sent to and received from the model",
                &["role", "model"],
            ),
            llm_latency: histogram(
                r,
                "llm_latency_seconds",
                "Seconds per model request",
                &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0],
                &["model"],
            ),
            llm_requests: counter(
                r,
                "llm_requests_total",
                "Model requests by model and outcome",
                &["model", "outcome"],
            ),
            redactions: counter(
                r,
                "redactions_total",
                "Values redacted before a prompt, by kind",
                &["kind"],
            ),
            lineage_emitted: counter(
                r,
                "openlineage_events_total",
                "OpenLineage events emitted about drafts, by outcome",
                &["outcome"],
            ),
            registry,
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
