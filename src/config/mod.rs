//! Configuration: defaults, then an optional TOML file (`POSTMORTEM_CONFIG`), then the environment.
//! Any secret may be given as a file path in `<NAME>_FILE`. Secrets are `SecretString`s, so they
//! never show up in `Debug` output or logs.
//!
//! Each setting is declared once, in `model` (doc, field, type, default, environment variable,
//! check); `sources` turns the file, the secret files and the environment into figment providers;
//! `check` extracts the merged result and checks it once, whatever the source.

use std::collections::BTreeMap;

mod check;
mod model;
mod services;
mod sources;
mod summary;
mod table;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_sources;

pub use model::{Config, DraftingConfig, ListenAddr, LlmConfig, MetricsConfig, ServiceMapping};
pub use summary::redact_url;

use crate::domain::canonical_service;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read {variable} (the secret file {path}): {source}")]
    ReadSecret {
        variable: String,
        path: String,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Toml { path: String, message: String },
    #[error("{name} is invalid: {message}")]
    Invalid { name: &'static str, message: String },
}

/// Where settings come from: a function from variable name to value (the process environment in
/// production, a map in tests). Values are returned as they are; an empty or whitespace-only one
/// counts as unset (see `sources`).
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Config {
    /// Reads the process environment and the file it names.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env(&ProcessEnv)
    }

    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let (figment, toml_path) = sources::figment(env)?;
        let mut config = check::extract(&figment, toml_path.as_deref())?;
        config.services = std::mem::take(&mut config.services)
            .into_iter()
            .map(|(k, v)| (canonical_service(&k), v))
            .collect();
        Ok(config)
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
}

/// A commented example configuration, printed by `postmortem print-config`.
pub const EXAMPLE: &str = include_str!("../config_example.toml");
