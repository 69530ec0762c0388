//! Where settings come from, as figment providers, lowest first: the defaults (the structs'
//! `Default`, plus the default metric queries that the file's add to), the TOML file named by
//! `POSTMORTEM_CONFIG`, the files named by `<NAME>_FILE` for secrets, then the environment
//! variables. Every source goes through [`Unblank`], the one place where an empty or
//! whitespace-only value means "unset".

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Error, Figment, Metadata, Profile, Provider};

use super::table::{self, Kind, Setting};
use super::{ConfigError, Env};

/// The names figment's metadata gives the sources, so errors can say where a value came from.
pub(super) const ENVIRONMENT: &str = "environment variable";
pub(super) const SECRET_FILE: &str = "secret file";
const TOML_FILE: &str = "TOML file";

/// The merged sources, and the path of the TOML file when there is one.
pub(super) fn figment(env: &dyn Env) -> Result<(Figment, Option<String>), ConfigError> {
    let defaults = Serialized::default("metrics.queries", super::model::default_queries());
    let mut figment = Figment::from(defaults);
    let path = env.var("POSTMORTEM_CONFIG").filter(|p| !is_unset(p));
    if let Some(path) = &path {
        figment = figment.merge(Unblank(TomlFile::read(path)?));
    }
    let figment = figment
        .merge(Unblank(SecretFiles::read(env)?))
        .merge(Unblank(EnvVars::read(env, false)))
        // A list spelled one item a line (redact patterns) adds to the file's list.
        .admerge(Unblank(EnvVars::read(env, true)));
    Ok((figment, path))
}

/// Is this value no value at all? Empty or whitespace-only text is unset, whatever its source.
fn is_unset(text: &str) -> bool {
    text.trim().is_empty()
}

/// Applies [`is_unset`] to every setting of a source: unset text is dropped, as are unset items
/// of a list (and a list left with none); other text is trimmed, but secrets are kept as given.
/// Nested tables (services, metric queries) are left alone: there an empty string means something.
struct Unblank<P>(P);

impl<P: Provider> Provider for Unblank<P> {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut data = self.0.data()?;
        for dict in data.values_mut() {
            for setting in table::all() {
                unblank(dict, setting);
            }
        }
        Ok(data)
    }
}

fn unblank(dict: &mut Dict, setting: &Setting) {
    let mut keys = setting.key.split('.').peekable();
    let mut dict = dict;
    while let Some(key) = keys.next() {
        if keys.peek().is_none() {
            if let Some(value) = dict.remove(key)
                && let Some(value) = unblank_value(value, setting.is_secret())
            {
                dict.insert(key.to_string(), value);
            }
            return;
        }
        match dict.get_mut(key) {
            Some(Value::Dict(_, inner)) => dict = inner,
            _ => return,
        }
    }
}

fn unblank_value(value: Value, secret: bool) -> Option<Value> {
    match value {
        Value::String(_, s) if is_unset(&s) => None,
        Value::String(tag, s) if !secret => Some(Value::String(tag, s.trim().to_string())),
        Value::Array(tag, items) => {
            let items: Vec<Value> = items
                .into_iter()
                .filter(|v| !matches!(v, Value::String(_, s) if is_unset(s)))
                .collect();
            (!items.is_empty()).then_some(Value::Array(tag, items))
        }
        other => Some(other),
    }
}

/// The TOML file, read and parsed up front so that a missing or malformed file is its own error.
struct TomlFile {
    path: String,
    dict: Dict,
}

impl TomlFile {
    fn read(path: &str) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_string(),
            source,
        })?;
        let dict = Toml::from_str::<Dict>(&text).map_err(|e| ConfigError::Toml {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_string(),
            dict,
        })
    }
}

impl Provider for TomlFile {
    fn metadata(&self) -> Metadata {
        Metadata::from(TOML_FILE, std::path::Path::new(&self.path))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// Secrets given as a file path in `<NAME>_FILE` (the file's trailing newline is not part of the
/// secret). `NAME` itself, when set, wins and the file is not read.
struct SecretFiles(Dict);

impl SecretFiles {
    fn read(env: &dyn Env) -> Result<Self, ConfigError> {
        let mut dict = Dict::new();
        for setting in table::all().filter(|s| s.is_secret()) {
            let Some(name) = setting.spec.env else {
                continue;
            };
            if env.var(name).is_some_and(|v| !is_unset(&v)) {
                continue;
            }
            let Some(path) = env.var(&format!("{name}_FILE")).filter(|p| !is_unset(p)) else {
                continue;
            };
            let text =
                std::fs::read_to_string(&path).map_err(|source| ConfigError::ReadSecret {
                    variable: format!("{name}_FILE"),
                    path,
                    source,
                })?;
            let text = text.trim_end_matches(['\n', '\r']);
            insert(&mut dict, setting.key, from_text(setting.spec.kind, text));
        }
        Ok(Self(dict))
    }
}

impl Provider for SecretFiles {
    fn metadata(&self) -> Metadata {
        Metadata::named(SECRET_FILE)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

/// The environment variables of the settings table: those whose list adds to the file's
/// (`appending`), or all the others.
struct EnvVars(Dict);

impl EnvVars {
    fn read(env: &dyn Env, appending: bool) -> Self {
        let mut dict = Dict::new();
        for setting in table::all().filter(|s| (s.spec.kind == Kind::Lines) == appending) {
            if let Some(text) = setting.spec.env.and_then(|name| env.var(name)) {
                insert(&mut dict, setting.key, from_text(setting.spec.kind, &text));
            }
        }
        Self(dict)
    }
}

impl Provider for EnvVars {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENVIRONMENT).interpolater(|_, keys| {
            let key = keys.join(".");
            table::all()
                .find(|s| s.key == key)
                .and_then(|s| s.spec.env)
                .map_or(key, str::to_string)
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

/// A value spelled as text (an environment variable, a secret file): lists are split into items.
fn from_text(kind: Kind, text: &str) -> Value {
    match kind {
        Kind::Secrets => Value::from(text.split(',').map(str::trim).collect::<Vec<_>>()),
        Kind::Lines => Value::from(text.lines().map(str::trim).collect::<Vec<_>>()),
        Kind::Text | Kind::Secret | Kind::Table => Value::from(text),
    }
}

/// Puts `value` at the dotted `key` of `dict`.
fn insert(dict: &mut Dict, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            dict.insert(key.to_string(), value);
        }
        Some((table, rest)) => {
            let inner = dict
                .entry(table.to_string())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = inner {
                insert(inner, rest, value);
            }
        }
    }
}
