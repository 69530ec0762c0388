//! The configuration structs, declared setting by setting: doc, field, type, default, and how it
//! is read (see `table`). The TOML key is the field's name (dotted below a table); the
//! environment variable, when there is one, is named in its row.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::table::{Check, TABLE, env, file_only, settings};
use crate::domain::Severity;

const SECONDS: &str = "a whole number of seconds";
const TEXT: &str = "text";

settings! {
    /// Everything the service reads at start-up.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct Config at "" {
        /// `sqlite://…` (embedded, the default) or `postgres://…` (for several replicas).
        database_url: String = "sqlite://postmortem.db".into()
            => env("DATABASE_URL", TEXT),
        /// Address to listen on (`127.0.0.1:8080`, `[::]:8080` or a host name such as
        /// `localhost:8080`). Beyond loopback, `api_token` is required.
        listen: ListenAddr = ListenAddr(SocketAddr::from(([127, 0, 0, 1], 8080)))
            => env("POSTMORTEM_LISTEN", "an address such as 127.0.0.1:8080 or localhost:8080"),
        /// Public URL, used for links in Slack and reports.
        base_url: String = "http://127.0.0.1:8080".into()
            => env("POSTMORTEM_BASE_URL", TEXT),
        /// Bearer token for `/api/*` (except `/api/v1/lineage`) and the web pages.
        api_token: Option<SecretString> = None
            => env("POSTMORTEM_API_TOKEN", TEXT).secret(),
        /// Bearer token for `/webhooks/changes` and `/api/v1/lineage`; unset, those answer 503.
        ingest_token: Option<SecretString> = None
            => env("POSTMORTEM_INGEST_TOKEN", TEXT).secret(),
        /// Seconds to wait after the final resolution before drafting (late Slack messages).
        draft_delay_secs: u64 = 120
            => env("POSTMORTEM_DRAFT_DELAY_SECS", SECONDS),
        /// PagerDuty V3 webhook secrets; several while rotating. None: PagerDuty webhooks get 503.
        pagerduty_webhook_secrets: Vec<SecretString> = Vec::new()
            => env("PAGERDUTY_WEBHOOK_SECRETS", "a list of secrets").secrets(),
        /// PagerDuty REST API token, for importing history.
        pagerduty_api_token: Option<SecretString> = None
            => env("PAGERDUTY_API_TOKEN", TEXT).secret(),
        pagerduty_api_url: String = "https://api.pagerduty.com".into()
            => env("PAGERDUTY_API_URL", TEXT),
        /// Verifies Slack's requests (the `/postmortem` command).
        slack_signing_secret: Option<SecretString> = None
            => env("SLACK_SIGNING_SECRET", TEXT).secret(),
        slack_bot_token: Option<SecretString> = None
            => env("SLACK_BOT_TOKEN", TEXT).secret(),
        slack_api_url: String = "https://slack.com/api".into()
            => env("SLACK_API_URL", TEXT),
        /// Where drafts and monthly reports are announced.
        slack_report_channel: Option<String> = None
            => env("SLACK_REPORT_CHANNEL", TEXT),
        /// Channel names that link themselves to incidents: `inc-{number}` (PagerDuty's incident
        /// number) or `inc-{id}`.
        slack_channel_pattern: Option<String> = None
            => env("POSTMORTEM_SLACK_CHANNEL_PATTERN", TEXT),
        /// Secret of the GitHub webhook (`deployment_status`).
        github_webhook_secret: Option<SecretString> = None
            => env("GITHUB_WEBHOOK_SECRET", TEXT).secret(),
        /// Deployment environments that are not production (matched case-insensitively, one a
        /// line in the variable): their deployments stay in the timeline, marked, and are never
        /// ranked as a cause. GitHub's `production_environment: false` and
        /// `transient_environment: true` mark an environment too.
        non_production_environments: Vec<String> = ["staging", "preview", "development", "dev", "test", "qa", "sandbox"].map(String::from).to_vec()
            => env("POSTMORTEM_NON_PRODUCTION_ENVIRONMENTS", "an environment name").lines(),
        /// Key of the OpenAI-compatible server.
        openai_api_key: Option<SecretString> = None
            => env("OPENAI_API_KEY", TEXT).secret(),
        /// Any OpenAI-compatible server (unset: OpenAI's).
        openai_base_url: Option<String> = None
            => env("OPENAI_BASE_URL", TEXT),
        /// The chat model; the LLM drafts only when this is set.
        llm_model: Option<String> = None
            => env("POSTMORTEM_LLM_MODEL", TEXT),
        /// Optional embeddings for similarity (same server as the LLM).
        embedding_model: Option<String> = None
            => env("POSTMORTEM_EMBEDDING_MODEL", TEXT),
        /// The share of a similarity score that comes from embeddings (when a model is set).
        embedding_weight: f32 = 0.4
            => env("POSTMORTEM_EMBEDDING_WEIGHT", "a number between 0 and 1")
                .check(Check::Between(0.0, 1.0)),
        /// Prometheus to read metrics evidence from.
        prometheus_url: Option<String> = None
            => env("PROMETHEUS_URL", TEXT),
        /// Where OpenLineage events about the service's own drafts go.
        openlineage_url: Option<String> = None
            => env("OPENLINEAGE_URL", TEXT),
        /// When the monthly report runs: 5-field cron, UTC (checked by `validate_for_serving`).
        report_schedule: String = "0 9 1 * *".into()
            => env("POSTMORTEM_REPORT_SCHEDULE", TEXT),
        /// How often families are recomputed when incidents changed, in seconds (0: never on a timer).
        families_interval_secs: u64 = 3600
            => env("POSTMORTEM_FAMILIES_INTERVAL_SECS", SECONDS),
        /// Folder of user templates overriding the built-in ones (`postmortem.md.tera`, `postmortem.html.tera`).
        templates_dir: Option<PathBuf> = None
            => env("POSTMORTEM_TEMPLATES_DIR", "a path"),
        /// How often idle workers look for due jobs, in milliseconds.
        job_poll_millis: u64 = 500
            => file_only("a whole number of milliseconds"),
        /// How long a claimed job is leased before another worker may take it over, in seconds.
        job_lease_secs: u64 = 120
            => file_only(SECONDS),
        /// Jobs one process runs at once (drafts, model drafts, Slack back-fills): a slow model
        /// holds one of them, not the queue.
        job_workers: u64 = 4
            => file_only("a whole number between 1 and 64")
                .check(Check::Between(1.0, 64.0)),
        /// How long a client may take to send a request's headers, in seconds; a connection that
        /// has not finished them by then is closed.
        header_read_timeout_secs: u64 = 10
            => file_only("a whole number of seconds between 1 and 600")
                .check(Check::Between(1.0, 600.0)),
        /// Connections served at once; the next waits in the kernel's backlog until one closes.
        max_connections: u64 = 1024
            => file_only("a whole number between 1 and 100000")
                .check(Check::Between(1.0, 100000.0)),
        /// On SIGTERM, how long requests in flight may finish before their connections are
        /// dropped, in seconds.
        shutdown_grace_secs: u64 = 30
            => file_only("a whole number of seconds between 0 and 3600")
                .check(Check::Between(0.0, 3600.0)),
        /// The request header a trusted reverse proxy sets to the signed-in user (`X-Forwarded-User`);
        /// the web pages believe it only when this is set.
        auth_proxy_header: Option<String> = None
            => env("POSTMORTEM_AUTH_PROXY_HEADER", "an HTTP header name")
                .check(Check::HeaderName),
        /// How long a web sign-in lasts, in hours.
        session_ttl_hours: u64 = 12
            => env("POSTMORTEM_SESSION_TTL_HOURS", "a whole number of hours between 1 and 2160")
                .check(Check::Between(1.0, 2160.0)),
        drafting: DraftingConfig = DraftingConfig::default() => TABLE,
        llm: LlmConfig = LlmConfig::default() => TABLE,
        metrics: MetricsConfig = MetricsConfig::default() => TABLE,
        /// PagerDuty priorities by name (case-insensitive) or id, to the severity each means:
        /// `[pagerduty_priorities]` `"Critical" = "sev1"`, `PIJ90N7 = "sev2"`. Unmapped names are
        /// read by their number (`P1`, `SEV-1`, `Sev 2 - High`); a priority neither mapped nor
        /// numbered is logged and the urgency decides.
        pagerduty_priorities: BTreeMap<String, Severity> = BTreeMap::new() => TABLE,
        /// The names each service goes by in other systems; the key is the canonical service id.
        services: BTreeMap<String, ServiceMapping> = BTreeMap::new() => TABLE,
    }
}

settings! {
    /// Targets and windows the drafter judges an incident against.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct DraftingConfig at "drafting." {
        /// How far before the first trigger changes count as candidates, in hours.
        lookback_hours: f64 = 24.0 => file_only("a number of hours"),
        /// Time to acknowledge that counts as good, in minutes.
        ack_target_minutes: f64 = 15.0 => file_only("a number of minutes"),
        /// Time to resolve that counts as good, in minutes.
        resolve_target_minutes: f64 = 60.0 => file_only("a number of minutes"),
        /// How many root-cause hypotheses to keep.
        max_hypotheses: usize = 5 => file_only("a whole number"),
    }
}

settings! {
    /// How the LLM drafter talks to its model and what it may send.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct LlmConfig at "llm." {
        /// Seconds one request to the model may take (each retry gets its own).
        timeout_secs: u64 = 60
            => env("POSTMORTEM_LLM_TIMEOUT_SECS", SECONDS),
        /// The prompt's size limit in tokens (about four characters each); the timeline is trimmed by
        /// priority to fit.
        token_budget: usize = 12_000
            => env("POSTMORTEM_LLM_TOKEN_BUDGET", "a whole number of tokens"),
        /// The most tokens the model may write.
        max_output_tokens: u32 = 4_000 => file_only("a whole number of tokens"),
        temperature: f32 = 0.2 => file_only("a number"),
        /// A human label prefixed to the prompt version (the version itself is a hash of the prompts).
        prompt_label: Option<String> = None
            => env("POSTMORTEM_PROMPT_LABEL", TEXT),
        /// Directory whose `system.md.tera` and `user.md.tera` replace the built-in prompts.
        prompts_dir: Option<PathBuf> = None
            => env("POSTMORTEM_PROMPTS_DIR", "a path"),
        /// Put the redacted values back into the stored draft (they never reach the model either way).
        restore_redacted: bool = false => file_only("true or false"),
        /// Extra regular expressions whose matches are redacted before any prompt (the environment
        /// variable's lines, one pattern each, are added to the file's).
        redact_patterns: Vec<String> = Vec::new()
            => env("POSTMORTEM_REDACT_PATTERNS", "a regular expression")
                .lines()
                .check(Check::Regex),
    }
}

settings! {
    /// Metrics evidence from Prometheus.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct MetricsConfig at "metrics." {
        /// Timeout of one `query_range` call, in seconds.
        timeout_secs: u64 = 10 => file_only(SECONDS),
        /// Default PromQL per query name; `{service}` becomes the service's Prometheus label value.
        /// The file's queries add to (or replace) these rather than dropping them all.
        queries: BTreeMap<String, String> = default_queries() => TABLE,
    }
}

pub(super) fn default_queries() -> BTreeMap<String, String> {
    let q = |name: &str, promql: &str| (name.to_string(), promql.to_string());
    BTreeMap::from([
        q(
            "error_ratio",
            r#"sum(rate(http_requests_total{service="{service}",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="{service}"}[5m]))"#,
        ),
        q(
            "latency_p95_seconds",
            r#"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{service}"}[5m])))"#,
        ),
        q(
            "latency_p99_seconds",
            r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{service}"}[5m])))"#,
        ),
        q(
            "saturation_cpu",
            r#"sum(rate(process_cpu_seconds_total{service="{service}"}[5m]))"#,
        ),
    ])
}

/// The names a service goes by in other systems. The map key is the canonical service id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceMapping {
    /// PagerDuty service ids (`PA2P440`) of this service.
    #[serde(default)]
    pub pagerduty: Vec<String>,
    /// PagerDuty Events API routing keys whose change events belong to this service.
    #[serde(default)]
    pub routing_keys: Vec<String>,
    /// GitHub repositories (`owner/name`) deploying this service.
    #[serde(default)]
    pub github_repos: Vec<String>,
    /// OpenLineage job names (`namespace/name` or `name`) that are this service.
    #[serde(default)]
    pub openlineage_jobs: Vec<String>,
    /// The value of the Prometheus label that names this service.
    #[serde(default)]
    pub prometheus: Option<String>,
    /// Other names (any system) that mean this service.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Services this one calls: a change on one of them is an upstream cause candidate.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// PromQL overriding the default of the same name for this service (an empty string drops it).
    #[serde(default)]
    pub queries: BTreeMap<String, String>,
}

/// The address to listen on: an IP address and port, or a host name and port resolved once when
/// the configuration is read (IPv4 first: `localhost:8080` is `127.0.0.1:8080`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddr(pub SocketAddr);

impl std::ops::Deref for ListenAddr {
    type Target = SocketAddr;
    fn deref(&self) -> &SocketAddr {
        &self.0
    }
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        use std::net::ToSocketAddrs;
        let s = s.trim();
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(Self(addr));
        }
        let addrs: Vec<SocketAddr> = s
            .to_socket_addrs()
            .map_err(|e| format!("{s:?} is not an address and port: {e}"))?
            .collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .map(Self)
            .ok_or_else(|| format!("{s:?} resolves to no address"))
    }
}

impl<'de> Deserialize<'de> for ListenAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
