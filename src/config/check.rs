//! Extraction and checks, made once on the merged settings whatever their source, and the errors
//! that name a bad setting after where its value came from: its environment variable
//! (`POSTMORTEM_LISTEN is invalid: …`) or its key in the TOML file (`listen is invalid: …`).

use figment::Figment;
use figment::value::{Num, Value};

use super::ConfigError;
use super::model::Config;
use super::sources::{ENVIRONMENT, SECRET_FILE};
use super::table::{self, Check, Setting, setting_at};

/// The configuration the merged sources make, once every setting has parsed and passed its check.
pub(super) fn extract(figment: &Figment, toml_path: Option<&str>) -> Result<Config, ConfigError> {
    // Lossy: numbers may be spelled as text, as the environment spells everything.
    let config: Config = figment
        .extract_lossy()
        .map_err(|e| from_figment(figment, e, toml_path))?;
    for setting in table::all() {
        if let Some(check) = setting.spec.check {
            run_check(figment, setting, check)?;
        }
    }
    Ok(config)
}

fn run_check(
    figment: &Figment,
    setting: &'static Setting,
    check: Check,
) -> Result<(), ConfigError> {
    let Ok(value) = figment.find_value(setting.key) else {
        return Ok(()); // the default
    };
    let items = match &value {
        Value::Array(_, items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    for item in items {
        if let Err(detail) = passes(check, item) {
            return Err(invalid(figment, setting, item, detail));
        }
    }
    Ok(())
}

/// Does `value` pass `check`? If not, what is wrong beyond "not {expect}", if anything.
fn passes(check: Check, value: &Value) -> Result<(), Option<String>> {
    match check {
        Check::Between(low, high) => match value.to_num_lossy().and_then(as_f64) {
            Some(n) if (low..=high).contains(&n) => Ok(()),
            _ => Err(None),
        },
        Check::HeaderName => match value.as_str() {
            Some(h) if axum::http::HeaderName::from_bytes(h.trim().as_bytes()).is_ok() => Ok(()),
            _ => Err(None),
        },
        Check::Regex => match value.as_str() {
            Some(p) => regex::Regex::new(p)
                .map(drop)
                .map_err(|e| Some(e.to_string())),
            None => Err(None),
        },
    }
}

fn as_f64(n: Num) -> Option<f64> {
    n.to_f64()
        .or_else(|| n.to_u128().map(|u| u as f64))
        .or_else(|| n.to_i128().map(|i| i as f64))
}

/// A figment error as a `ConfigError`: a setting that does not parse names itself after its
/// source; anything else (an unknown key, a malformed service table) is the TOML file's.
fn from_figment(figment: &Figment, e: figment::Error, toml_path: Option<&str>) -> ConfigError {
    if let Some((setting, index)) = setting_at(&e.path)
        && let Ok(value) = figment.find_value(setting.key)
    {
        let item = match (&value, index) {
            (Value::Array(_, items), Some(i)) => items.get(i),
            _ => None,
        };
        return invalid(figment, setting, item.unwrap_or(&value), None);
    }
    let path = e
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .and_then(|s| s.file_path())
        .map(|p| p.display().to_string())
        .or_else(|| toml_path.map(str::to_string))
        .unwrap_or_default();
    let mut message = e.kind.to_string();
    if !e.path.is_empty() {
        message.push_str(&format!(" for key `{}`", e.path.join(".")));
    }
    ConfigError::Toml { path, message }
}

/// `{name} is invalid: {value} is not {expect}[: detail]`, where the name is the environment
/// variable when the value came from the environment (or a secret file), else the TOML key.
fn invalid(
    figment: &Figment,
    setting: &'static Setting,
    value: &Value,
    detail: Option<String>,
) -> ConfigError {
    let source = figment.get_metadata(value.tag()).map(|m| m.name.as_ref());
    let name = match (source, setting.spec.env) {
        (Some(ENVIRONMENT | SECRET_FILE), Some(env)) => env,
        _ => setting.key,
    };
    let shown = if setting.is_secret() {
        "the value".to_string()
    } else {
        shown(value)
    };
    let mut message = format!("{shown} is not {}", setting.spec.expect);
    if let Some(detail) = detail {
        message.push_str(": ");
        message.push_str(&detail);
    }
    ConfigError::Invalid { name, message }
}

/// A value as the user wrote it, quoted the same whether it was TOML or environment text.
fn shown(value: &Value) -> String {
    match value {
        Value::String(_, s) => format!("{s:?}"),
        Value::Num(_, n) => {
            let text = match (n.to_u128(), n.to_i128(), n.to_f64()) {
                (Some(u), _, _) => u.to_string(),
                (_, Some(i), _) => i.to_string(),
                (_, _, Some(f)) => f.to_string(),
                _ => String::new(),
            };
            format!("{text:?}")
        }
        Value::Bool(_, b) => format!("\"{b}\""),
        Value::Char(_, c) => format!("{:?}", c.to_string()),
        Value::Array(..) => "a list".into(),
        Value::Dict(..) => "a table".into(),
        Value::Empty(..) => "nothing".into(),
    }
}
