//! The settings table. `settings!` declares a configuration struct field by field: its doc, name,
//! type, default, and how it is read (environment variable, what a valid value is, its check), so
//! each setting is written down once. The struct, its `Default` and one [`Setting`] row per field
//! come out of that one declaration; the sources, the checks and the error messages all read the
//! rows.

use super::model::{Config, DraftingConfig, LlmConfig, MetricsConfig};

/// How an environment variable spells a setting, and how its value is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Plain text (numbers and addresses too); trimmed.
    Text,
    /// A secret: may come from the file named by `<NAME>_FILE`; never trimmed nor shown.
    Secret,
    /// Secrets, comma-separated in the environment (or its `<NAME>_FILE`).
    Secrets,
    /// Text items, one a line in the environment, added to the TOML file's list.
    Lines,
    /// A nested table (TOML only): not a setting of its own.
    Table,
}

/// A check of a value beyond its type, made on the merged configuration whatever the source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Check {
    /// A number in this closed range.
    Between(f64, f64),
    /// An HTTP header name.
    HeaderName,
    /// A regular expression (each item of a list).
    Regex,
}

/// How a setting is read: built with [`env`], [`file_only`] or [`TABLE`] and the methods below.
#[derive(Clone, Copy, Debug)]
pub(super) struct Spec {
    pub env: Option<&'static str>,
    pub kind: Kind,
    /// What a valid value is, for error messages: `"x" is not {expect}`.
    pub expect: &'static str,
    pub check: Option<Check>,
}

/// A setting the environment variable `name` may also set.
pub(super) const fn env(name: &'static str, expect: &'static str) -> Spec {
    Spec {
        env: Some(name),
        kind: Kind::Text,
        expect,
        check: None,
    }
}

/// A setting only the TOML file sets.
pub(super) const fn file_only(expect: &'static str) -> Spec {
    Spec {
        env: None,
        kind: Kind::Text,
        expect,
        check: None,
    }
}

/// A nested table of the TOML file.
pub(super) const TABLE: Spec = Spec {
    env: None,
    kind: Kind::Table,
    expect: "a table",
    check: None,
};

impl Spec {
    pub(super) const fn secret(self) -> Self {
        Self {
            kind: Kind::Secret,
            ..self
        }
    }

    pub(super) const fn secrets(self) -> Self {
        Self {
            kind: Kind::Secrets,
            ..self
        }
    }

    pub(super) const fn lines(self) -> Self {
        Self {
            kind: Kind::Lines,
            ..self
        }
    }

    pub(super) const fn check(self, check: Check) -> Self {
        Self {
            check: Some(check),
            ..self
        }
    }
}

/// One setting: its key in the TOML file (dotted below a table, the path of its field in
/// [`Config`]) and how it is read.
#[derive(Clone, Copy, Debug)]
pub(super) struct Setting {
    pub key: &'static str,
    pub spec: Spec,
}

impl Setting {
    pub(super) fn is_secret(&self) -> bool {
        matches!(self.spec.kind, Kind::Secret | Kind::Secrets)
    }

    pub(super) fn is_list(&self) -> bool {
        matches!(self.spec.kind, Kind::Secrets | Kind::Lines)
    }
}

/// Every setting (nested tables left out), in declaration order.
pub(super) fn all() -> impl Iterator<Item = &'static Setting> {
    Config::SETTINGS
        .iter()
        .chain(DraftingConfig::SETTINGS)
        .chain(LlmConfig::SETTINGS)
        .chain(MetricsConfig::SETTINGS)
        .filter(|s| s.spec.kind != Kind::Table)
}

/// The setting at a value's path (`["llm", "timeout_secs"]`), with the index when the path goes
/// into an item of a list (`["llm", "redact_patterns", "2"]`).
pub(super) fn setting_at(path: &[String]) -> Option<(&'static Setting, Option<usize>)> {
    let joined = path.join(".");
    all().find_map(|s| {
        let rest = joined.strip_prefix(s.key)?;
        if rest.is_empty() {
            return Some((s, None));
        }
        let index = rest.strip_prefix('.')?.parse().ok()?;
        s.is_list().then_some((s, Some(index)))
    })
}

/// Declares a configuration struct and its settings table; see the module doc. Each field reads
///
/// ```text
/// /// doc
/// name: Type = default => spec,
/// ```
///
/// and the struct is `pub struct Name at "prefix." { … }`, where the prefix is the key of its
/// table in the TOML file ("" for the top level).
macro_rules! settings {
    (
        $(#[$attr:meta])*
        pub struct $name:ident at $prefix:literal {
            $(
                $(#[doc = $doc:literal])*
                $field:ident: $ty:ty = $default:expr => $spec:expr,
            )*
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// One row per field, in declaration order.
            pub(in crate::config) const SETTINGS: &'static [$crate::config::table::Setting] = &[
                $( $crate::config::table::Setting {
                    key: concat!($prefix, stringify!($field)),
                    spec: $spec,
                }, )*
            ];
        }
    };
}

pub(super) use settings;
