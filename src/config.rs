//! Configuration: defaults, then an optional TOML file (`POSTMORTEM_CONFIG`), then the environment.
//! Any secret may be given as a file path in `<NAME>_FILE`. Secrets are `SecretString`s, so they
//! never show up in `Debug` output or logs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::canonical_service;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Toml { path: String, message: String },
    #[error("{name} is invalid: {message}")]
    Invalid { name: &'static str, message: String },
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
    /// PromQL overriding the default of the same name for this service (an empty string drops it).
    #[serde(default)]
    pub queries: BTreeMap<String, String>,
}

/// Metrics evidence from Prometheus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Timeout of one `query_range` call, in seconds.
    pub timeout_secs: u64,
    /// Default PromQL per query name; `{service}` becomes the service's Prometheus label value.
    pub queries: BTreeMap<String, String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        let q = |name: &str, promql: &str| (name.to_string(), promql.to_string());
        Self {
            timeout_secs: 10,
            queries: BTreeMap::from([
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
            ]),
        }
    }
}

/// Targets and windows the drafter judges an incident against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DraftingConfig {
    /// How far before the first trigger changes count as candidates, in hours.
    pub lookback_hours: f64,
    /// Time to acknowledge that counts as good, in minutes.
    pub ack_target_minutes: f64,
    /// Time to resolve that counts as good, in minutes.
    pub resolve_target_minutes: f64,
    /// How many root-cause hypotheses to keep.
    pub max_hypotheses: usize,
}

impl Default for DraftingConfig {
    fn default() -> Self {
        Self {
            lookback_hours: 24.0,
            ack_target_minutes: 15.0,
            resolve_target_minutes: 60.0,
            max_hypotheses: 5,
        }
    }
}

/// How the LLM drafter talks to its model and what it may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Seconds one request to the model may take (each retry gets its own).
    pub timeout_secs: u64,
    /// The prompt's size limit in tokens (about four characters each); the timeline is trimmed by
    /// priority to fit.
    pub token_budget: usize,
    /// The most tokens the model may write.
    pub max_output_tokens: u32,
    pub temperature: f32,
    /// A human label prefixed to the prompt version (the version itself is a hash of the prompts).
    pub prompt_label: Option<String>,
    /// Directory whose `system.md.tera` and `user.md.tera` replace the built-in prompts.
    pub prompts_dir: Option<PathBuf>,
    /// Put the redacted values back into the stored draft (they never reach the model either way).
    pub restore_redacted: bool,
    /// Extra regular expressions whose matches are redacted before any prompt.
    pub redact_patterns: Vec<String>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            timeout_secs: 60,
            token_budget: 12_000,
            max_output_tokens: 4_000,
            temperature: 0.2,
            prompt_label: None,
            prompts_dir: None,
            restore_redacted: false,
            redact_patterns: Vec::new(),
        }
    }
}

/// Everything the service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub base_url: String,
    pub api_token: Option<SecretString>,
    pub ingest_token: Option<SecretString>,
    pub draft_delay_secs: u64,
    pub pagerduty_webhook_secrets: Vec<SecretString>,
    pub pagerduty_api_token: Option<SecretString>,
    pub pagerduty_api_url: String,
    pub slack_signing_secret: Option<SecretString>,
    pub slack_bot_token: Option<SecretString>,
    pub slack_api_url: String,
    pub slack_report_channel: Option<String>,
    /// Channel names that link themselves to incidents: `inc-{number}` (PagerDuty's incident
    /// number) or `inc-{id}`.
    pub slack_channel_pattern: Option<String>,
    pub github_webhook_secret: Option<SecretString>,
    pub openai_api_key: Option<SecretString>,
    pub openai_base_url: Option<String>,
    pub llm_model: Option<String>,
    pub embedding_model: Option<String>,
    /// The share of a similarity score that comes from embeddings (when a model is set).
    pub embedding_weight: f32,
    pub prometheus_url: Option<String>,
    pub openlineage_url: Option<String>,
    pub report_schedule: String,
    /// How often families are recomputed when incidents changed, in seconds (0: never on a timer).
    pub families_interval_secs: u64,
    /// Folder of user templates overriding the built-in ones (`postmortem.md.tera`, `postmortem.html.tera`).
    pub templates_dir: Option<PathBuf>,
    /// How often idle workers look for due jobs, in milliseconds.
    pub job_poll_millis: u64,
    /// How long a claimed job is leased before another worker may take it over, in seconds.
    pub job_lease_secs: u64,
    /// The request header a trusted reverse proxy sets to the signed-in user (`X-Forwarded-User`);
    /// the web pages believe it only when this is set.
    pub auth_proxy_header: Option<String>,
    /// How long a web sign-in lasts, in hours.
    pub session_ttl_hours: u64,
    pub drafting: DraftingConfig,
    pub llm: LlmConfig,
    pub metrics: MetricsConfig,
    pub services: BTreeMap<String, ServiceMapping>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://postmortem.db".into(),
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            base_url: "http://127.0.0.1:8080".into(),
            api_token: None,
            ingest_token: None,
            draft_delay_secs: 120,
            pagerduty_webhook_secrets: Vec::new(),
            pagerduty_api_token: None,
            pagerduty_api_url: "https://api.pagerduty.com".into(),
            slack_signing_secret: None,
            slack_bot_token: None,
            slack_api_url: "https://slack.com/api".into(),
            slack_report_channel: None,
            slack_channel_pattern: None,
            github_webhook_secret: None,
            openai_api_key: None,
            openai_base_url: None,
            llm_model: None,
            embedding_model: None,
            embedding_weight: 0.4,
            prometheus_url: None,
            openlineage_url: None,
            report_schedule: "0 9 1 * *".into(),
            families_interval_secs: 3600,
            templates_dir: None,
            job_poll_millis: 500,
            job_lease_secs: 120,
            auth_proxy_header: None,
            session_ttl_hours: 12,
            drafting: DraftingConfig::default(),
            llm: LlmConfig::default(),
            metrics: MetricsConfig::default(),
            services: BTreeMap::new(),
        }
    }
}

/// The TOML file: every key optional, named like the environment variable without its prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<String>,
    base_url: Option<String>,
    api_token: Option<String>,
    ingest_token: Option<String>,
    draft_delay_secs: Option<u64>,
    pagerduty_webhook_secrets: Option<Vec<String>>,
    pagerduty_api_token: Option<String>,
    pagerduty_api_url: Option<String>,
    slack_signing_secret: Option<String>,
    slack_bot_token: Option<String>,
    slack_api_url: Option<String>,
    slack_report_channel: Option<String>,
    slack_channel_pattern: Option<String>,
    github_webhook_secret: Option<String>,
    openai_api_key: Option<String>,
    openai_base_url: Option<String>,
    llm_model: Option<String>,
    embedding_model: Option<String>,
    embedding_weight: Option<f32>,
    prometheus_url: Option<String>,
    openlineage_url: Option<String>,
    report_schedule: Option<String>,
    families_interval_secs: Option<u64>,
    templates_dir: Option<PathBuf>,
    job_poll_millis: Option<u64>,
    job_lease_secs: Option<u64>,
    auth_proxy_header: Option<String>,
    session_ttl_hours: Option<u64>,
    #[serde(default)]
    drafting: Option<DraftingConfig>,
    #[serde(default)]
    llm: Option<LlmConfig>,
    #[serde(default)]
    metrics: Option<MetricsConfig>,
    #[serde(default)]
    services: BTreeMap<String, ServiceMapping>,
}

/// Where settings come from: a function from variable name to value (the process environment in
/// production, a map in tests).
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Reads the process environment and the file it names.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env(&ProcessEnv)
    }

    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let file = match env.var("POSTMORTEM_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Toml {
                    path,
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let mut c = Config::default();
        c.apply_file(file)?;
        c.apply_env(env)?;
        Ok(c)
    }

    fn apply_file(&mut self, f: FileConfig) -> Result<(), ConfigError> {
        let secret = |v: Option<String>| v.map(SecretString::from);
        set(&mut self.database_url, f.database_url);
        if let Some(l) = f.listen {
            self.listen = parse_addr("listen", &l)?;
        }
        set(&mut self.base_url, f.base_url);
        or_set(&mut self.api_token, secret(f.api_token));
        or_set(&mut self.ingest_token, secret(f.ingest_token));
        set(&mut self.draft_delay_secs, f.draft_delay_secs);
        if let Some(s) = f.pagerduty_webhook_secrets {
            self.pagerduty_webhook_secrets = s.into_iter().map(SecretString::from).collect();
        }
        or_set(&mut self.pagerduty_api_token, secret(f.pagerduty_api_token));
        set(&mut self.pagerduty_api_url, f.pagerduty_api_url);
        or_set(
            &mut self.slack_signing_secret,
            secret(f.slack_signing_secret),
        );
        or_set(&mut self.slack_bot_token, secret(f.slack_bot_token));
        set(&mut self.slack_api_url, f.slack_api_url);
        or_set(&mut self.slack_report_channel, f.slack_report_channel);
        or_set(&mut self.slack_channel_pattern, f.slack_channel_pattern);
        or_set(
            &mut self.github_webhook_secret,
            secret(f.github_webhook_secret),
        );
        or_set(&mut self.openai_api_key, secret(f.openai_api_key));
        or_set(&mut self.openai_base_url, f.openai_base_url);
        or_set(&mut self.llm_model, f.llm_model);
        or_set(&mut self.embedding_model, f.embedding_model);
        set(&mut self.embedding_weight, f.embedding_weight);
        or_set(&mut self.prometheus_url, f.prometheus_url);
        or_set(&mut self.openlineage_url, f.openlineage_url);
        set(&mut self.report_schedule, f.report_schedule);
        set(&mut self.families_interval_secs, f.families_interval_secs);
        or_set(&mut self.templates_dir, f.templates_dir);
        set(&mut self.job_poll_millis, f.job_poll_millis);
        set(&mut self.job_lease_secs, f.job_lease_secs);
        or_set(&mut self.auth_proxy_header, f.auth_proxy_header);
        set(&mut self.session_ttl_hours, f.session_ttl_hours);
        set(&mut self.drafting, f.drafting);
        set(&mut self.llm, f.llm);
        if let Some(m) = f.metrics {
            // Named queries add to (or replace) the defaults rather than dropping them all.
            self.metrics.timeout_secs = m.timeout_secs;
            self.metrics.queries.extend(m.queries);
        }
        self.services = f
            .services
            .into_iter()
            .map(|(k, v)| (canonical_service(&k), v))
            .collect();
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Env) -> Result<(), ConfigError> {
        let secret = |name: &'static str| -> Result<Option<SecretString>, ConfigError> {
            read_secret(env, name)
        };
        set(&mut self.database_url, env.var("DATABASE_URL"));
        if let Some(l) = env.var("POSTMORTEM_LISTEN") {
            self.listen = parse_addr("POSTMORTEM_LISTEN", &l)?;
        }
        set(&mut self.base_url, env.var("POSTMORTEM_BASE_URL"));
        or_set(&mut self.api_token, secret("POSTMORTEM_API_TOKEN")?);
        or_set(&mut self.ingest_token, secret("POSTMORTEM_INGEST_TOKEN")?);
        if let Some(v) = env.var("POSTMORTEM_DRAFT_DELAY_SECS") {
            self.draft_delay_secs = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "POSTMORTEM_DRAFT_DELAY_SECS",
                message: format!("{v:?} is not a whole number of seconds"),
            })?;
        }
        if let Some(s) = secret("PAGERDUTY_WEBHOOK_SECRETS")? {
            self.pagerduty_webhook_secrets = s
                .expose_secret()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_string()))
                .collect();
        }
        or_set(
            &mut self.pagerduty_api_token,
            secret("PAGERDUTY_API_TOKEN")?,
        );
        set(&mut self.pagerduty_api_url, env.var("PAGERDUTY_API_URL"));
        or_set(
            &mut self.slack_signing_secret,
            secret("SLACK_SIGNING_SECRET")?,
        );
        or_set(&mut self.slack_bot_token, secret("SLACK_BOT_TOKEN")?);
        set(&mut self.slack_api_url, env.var("SLACK_API_URL"));
        or_set(
            &mut self.slack_report_channel,
            env.var("SLACK_REPORT_CHANNEL"),
        );
        or_set(
            &mut self.slack_channel_pattern,
            env.var("POSTMORTEM_SLACK_CHANNEL_PATTERN"),
        );
        or_set(
            &mut self.github_webhook_secret,
            secret("GITHUB_WEBHOOK_SECRET")?,
        );
        or_set(&mut self.openai_api_key, secret("OPENAI_API_KEY")?);
        or_set(&mut self.openai_base_url, env.var("OPENAI_BASE_URL"));
        or_set(&mut self.llm_model, env.var("POSTMORTEM_LLM_MODEL"));
        if let Some(v) = env.var("POSTMORTEM_LLM_TIMEOUT_SECS") {
            self.llm.timeout_secs = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "POSTMORTEM_LLM_TIMEOUT_SECS",
                message: format!("{v:?} is not a whole number of seconds"),
            })?;
        }
        if let Some(v) = env.var("POSTMORTEM_LLM_TOKEN_BUDGET") {
            self.llm.token_budget = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "POSTMORTEM_LLM_TOKEN_BUDGET",
                message: format!("{v:?} is not a whole number of tokens"),
            })?;
        }
        or_set(
            &mut self.llm.prompts_dir,
            env.var("POSTMORTEM_PROMPTS_DIR").map(PathBuf::from),
        );
        or_set(
            &mut self.llm.prompt_label,
            env.var("POSTMORTEM_PROMPT_LABEL"),
        );
        if let Some(v) = env.var("POSTMORTEM_REDACT_PATTERNS") {
            self.llm.redact_patterns.extend(
                v.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        }
        for p in &self.llm.redact_patterns {
            if let Err(e) = regex::Regex::new(p) {
                return Err(ConfigError::Invalid {
                    name: "POSTMORTEM_REDACT_PATTERNS",
                    message: format!("{p:?} is not a regular expression: {e}"),
                });
            }
        }
        or_set(
            &mut self.embedding_model,
            env.var("POSTMORTEM_EMBEDDING_MODEL"),
        );
        if let Some(v) = env.var("POSTMORTEM_EMBEDDING_WEIGHT") {
            self.embedding_weight = v
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|w| (0.0..=1.0).contains(w))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "POSTMORTEM_EMBEDDING_WEIGHT",
                    message: format!("{v:?} is not a number between 0 and 1"),
                })?;
        }
        or_set(&mut self.prometheus_url, env.var("PROMETHEUS_URL"));
        if let Some(v) = env.var("POSTMORTEM_FAMILIES_INTERVAL_SECS") {
            self.families_interval_secs = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "POSTMORTEM_FAMILIES_INTERVAL_SECS",
                message: format!("{v:?} is not a whole number of seconds"),
            })?;
        }
        or_set(&mut self.openlineage_url, env.var("OPENLINEAGE_URL"));
        set(
            &mut self.report_schedule,
            env.var("POSTMORTEM_REPORT_SCHEDULE"),
        );
        or_set(
            &mut self.templates_dir,
            env.var("POSTMORTEM_TEMPLATES_DIR").map(PathBuf::from),
        );
        or_set(
            &mut self.auth_proxy_header,
            env.var("POSTMORTEM_AUTH_PROXY_HEADER"),
        );
        if let Some(h) = &self.auth_proxy_header
            && axum::http::HeaderName::from_bytes(h.trim().as_bytes()).is_err()
        {
            return Err(ConfigError::Invalid {
                name: "POSTMORTEM_AUTH_PROXY_HEADER",
                message: format!("{h:?} is not an HTTP header name"),
            });
        }
        if let Some(v) = env.var("POSTMORTEM_SESSION_TTL_HOURS") {
            self.session_ttl_hours = v
                .trim()
                .parse()
                .ok()
                .filter(|h| (1..=24 * 90).contains(h))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "POSTMORTEM_SESSION_TTL_HOURS",
                    message: format!("{v:?} is not a whole number of hours between 1 and 2160"),
                })?;
        }
        Ok(())
    }

    /// Is the listen address loopback only? Without an API token the service refuses anything else.
    pub fn listens_on_loopback(&self) -> bool {
        self.listen.ip().is_loopback()
    }

    /// Refuses settings the service must not run with.
    pub fn validate_for_serving(&self) -> Result<(), ConfigError> {
        if let Err(e) = self.report_schedule.parse::<croner::Cron>() {
            return Err(ConfigError::Invalid {
                name: "POSTMORTEM_REPORT_SCHEDULE",
                message: format!(
                    "{:?} is not a 5-field cron expression (minute hour day month weekday, UTC): {e}",
                    self.report_schedule
                ),
            });
        }
        if self.api_token.is_none() && !self.listens_on_loopback() {
            return Err(ConfigError::Invalid {
                name: "POSTMORTEM_API_TOKEN",
                message: format!(
                    "is required to listen on {} (beyond loopback); set it, or listen on 127.0.0.1",
                    self.listen
                ),
            });
        }
        Ok(())
    }

    /// The canonical service for a PagerDuty service (its id mapped in configuration, else its
    /// summary lower-cased), so every source names a service the same way.
    pub fn service_for_pagerduty(&self, id: Option<&str>, summary: Option<&str>) -> String {
        if let Some(id) = id
            && let Some(name) = self.find_service(|m| m.pagerduty.iter().any(|p| p == id))
        {
            return name;
        }
        self.resolve_service_name(summary.unwrap_or(""))
    }

    /// A routing key's service, when configuration maps it.
    pub fn service_for_routing_key(&self, key: &str) -> Option<String> {
        self.find_service(|m| m.routing_keys.iter().any(|k| k == key))
    }

    /// A GitHub repository's service, when configuration maps it.
    pub fn service_for_github_repo(&self, repo: &str) -> Option<String> {
        self.find_service(|m| m.github_repos.iter().any(|r| r.eq_ignore_ascii_case(repo)))
    }

    /// The service an OpenLineage job is: mapped in configuration (`namespace/name` or `name`),
    /// else a job named like a service is that service.
    pub fn service_for_job(&self, namespace: &str, name: &str) -> String {
        let full = format!("{namespace}/{name}");
        self.find_service(|m| {
            m.openlineage_jobs
                .iter()
                .any(|j| j.eq_ignore_ascii_case(&full) || j.eq_ignore_ascii_case(name))
        })
        .unwrap_or_else(|| self.resolve_service_name(name))
    }

    /// Any name (alias, canonical, different case) to the canonical service id.
    pub fn resolve_service_name(&self, name: &str) -> String {
        let c = canonical_service(name);
        if self.services.contains_key(&c) {
            return c;
        }
        self.find_service(|m| m.aliases.iter().any(|a| canonical_service(a) == c))
            .unwrap_or(c)
    }

    /// The PromQL queries for a service: defaults with per-service overrides, `{service}` filled in.
    pub fn metric_queries(&self, service: &str) -> Vec<(String, String)> {
        let mapping = self.services.get(service);
        let label = mapping
            .and_then(|m| m.prometheus.clone())
            .unwrap_or_else(|| service.to_string());
        let mut queries = self.metrics.queries.clone();
        if let Some(m) = mapping {
            queries.extend(m.queries.clone());
        }
        queries
            .into_iter()
            .filter(|(_, q)| !q.trim().is_empty())
            .map(|(name, q)| (name, q.replace("{service}", &label)))
            .collect()
    }

    fn find_service(&self, pred: impl Fn(&ServiceMapping) -> bool) -> Option<String> {
        self.services
            .iter()
            .find(|(_, m)| pred(m))
            .map(|(k, _)| k.clone())
    }
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

fn or_set<T>(slot: &mut Option<T>, v: Option<T>) {
    if v.is_some() {
        *slot = v;
    }
}

fn parse_addr(name: &'static str, s: &str) -> Result<SocketAddr, ConfigError> {
    s.trim().parse().map_err(|_| ConfigError::Invalid {
        name,
        message: format!("{s:?} is not an address such as 127.0.0.1:8080"),
    })
}

/// `NAME`, else the contents of the file named by `NAME_FILE` (trailing newline trimmed).
fn read_secret(env: &dyn Env, name: &'static str) -> Result<Option<SecretString>, ConfigError> {
    if let Some(v) = env.var(name) {
        return Ok(Some(SecretString::from(v)));
    }
    let file_var = format!("{name}_FILE");
    match env.var(&file_var) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            Ok(Some(SecretString::from(
                text.trim_end_matches(['\n', '\r']).to_string(),
            )))
        }
        None => Ok(None),
    }
}

/// A commented example configuration, printed by `postmortem print-config`.
pub const EXAMPLE: &str = include_str!("config_example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_example_configuration_parses() {
        let f: FileConfig = toml::from_str(EXAMPLE).expect("example parses");
        assert!(f.services.contains_key("payments-api"));
    }

    #[test]
    fn environment_wins_over_the_file_and_secrets_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndraft_delay_secs = 5\n").unwrap();
        let secret = dir.path().join("s");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let c = Config::from_env(&env(&[
            ("POSTMORTEM_CONFIG", file.to_str().unwrap()),
            ("POSTMORTEM_DRAFT_DELAY_SECS", "7"),
            ("POSTMORTEM_API_TOKEN_FILE", secret.to_str().unwrap()),
            ("PAGERDUTY_WEBHOOK_SECRETS", "a, b"),
        ]))
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.draft_delay_secs, 7);
        assert_eq!(c.api_token.as_ref().unwrap().expose_secret(), "s3cret");
        assert_eq!(c.pagerduty_webhook_secrets.len(), 2);
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "secrets stay out of Debug"
        );
    }

    #[test]
    fn listening_beyond_loopback_needs_an_api_token() {
        let c = Config::from_env(&env(&[("POSTMORTEM_LISTEN", "0.0.0.0:8080")])).unwrap();
        assert!(c.validate_for_serving().is_err());
        let c = Config::from_env(&env(&[
            ("POSTMORTEM_LISTEN", "0.0.0.0:8080"),
            ("POSTMORTEM_API_TOKEN", "t"),
        ]))
        .unwrap();
        assert!(c.validate_for_serving().is_ok());
    }

    #[test]
    fn web_sign_in_settings_are_read_and_checked() {
        let c = Config::from_env(&env(&[
            ("POSTMORTEM_AUTH_PROXY_HEADER", "X-Forwarded-User"),
            ("POSTMORTEM_SESSION_TTL_HOURS", "8"),
        ]))
        .unwrap();
        assert_eq!(c.auth_proxy_header.as_deref(), Some("X-Forwarded-User"));
        assert_eq!(c.session_ttl_hours, 8);
        assert_eq!(Config::default().session_ttl_hours, 12);
        assert!(Config::default().auth_proxy_header.is_none());
        for (k, v) in [
            ("POSTMORTEM_AUTH_PROXY_HEADER", "X Forwarded User"),
            ("POSTMORTEM_SESSION_TTL_HOURS", "0"),
            ("POSTMORTEM_SESSION_TTL_HOURS", "soon"),
        ] {
            let e = Config::from_env(&env(&[(k, v)])).unwrap_err().to_string();
            assert!(e.contains(k), "{e}");
        }
    }

    #[test]
    fn services_resolve_through_the_mapping_or_by_name() {
        let mut c = Config::default();
        c.services.insert(
            "payments-api".into(),
            ServiceMapping {
                pagerduty: vec!["PXPAY01".into()],
                routing_keys: vec!["rk1".into()],
                aliases: vec!["Payments".into()],
                ..Default::default()
            },
        );
        assert_eq!(
            c.service_for_pagerduty(Some("PXPAY01"), Some("Whatever")),
            "payments-api"
        );
        assert_eq!(
            c.service_for_pagerduty(Some("PZZ"), Some(" Search-API ")),
            "search-api"
        );
        assert_eq!(c.resolve_service_name("PAYMENTS"), "payments-api");
        assert_eq!(
            c.service_for_routing_key("rk1").as_deref(),
            Some("payments-api")
        );
        assert_eq!(c.service_for_routing_key("nope"), None);
    }
}
