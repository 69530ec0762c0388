//! The nouns of the service: plain data that validates when built, so the rest of the code never
//! re-checks it. Nothing here imports another room of the crate; every other room may import this.

pub mod action_item;
pub mod change;
pub mod family;
pub mod history;
pub mod incident;
pub mod incident_event;
pub mod job;
pub mod lineage;
pub mod postmortem;
pub mod report;
pub mod search;
pub mod series;

pub use action_item::{ActionItem, ActionItemChange, TrackedActionItem};
pub use change::{Change, LineageLink};
pub use family::{Computed, Family, Previous, TermVector};
pub use history::{HistoryRecord, ImportSummary, Imported};
pub use incident::{Incident, TimelineEntry, Transition, merge};
pub use incident_event::{IncidentEvent, IncidentSnapshot, PagerDutyWebhook};
pub use job::{DraftPlan, JobKind};
pub use lineage::{DatasetRef, Lineage, RunEvent};
pub use postmortem::{Postmortem, RevisionHeader};
pub use search::SearchDoc;
pub use series::FrozenSeries;

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Error for a value that is not what its type allows; the message names the problem.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// An incident id: `[A-Za-z0-9._-]{1,64}` (a PagerDuty id such as `PGR0VU2`, or an imported one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct IncidentId(String);

impl IncidentId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(Invalid(format!(
                "incident id {s:?} must match [A-Za-z0-9._-]{{1,64}}"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Severity `sev1` … `sev5`; `SEV2`, `SEV-2`, `Sev 2`, `P2` and `2` all parse as `sev2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Severity(u8);

impl Severity {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let t = s.trim().to_ascii_lowercase();
        // Custom PagerDuty priority names write it `SEV-1`, `Sev 1`, `P-1`.
        let digits = t
            .strip_prefix("sev")
            .or_else(|| t.strip_prefix('p'))
            .unwrap_or(&t)
            .trim_start_matches(['-', '_', ' ']);
        // A label after the number ("SEV1 - Critical", "P1 (Highest)") is the account's wording.
        let number: String = digits.chars().take_while(char::is_ascii_digit).collect();
        let rest = &digits[number.len()..];
        let digits = if rest.is_empty() || rest.starts_with([' ', '-', '(', ':', '/']) {
            number.as_str()
        } else {
            digits
        };
        match digits.parse::<u8>() {
            Ok(n @ 1..=5) => Ok(Self(n)),
            _ => Err(Invalid(format!(
                "severity {s:?} is not one of sev1..sev5 (SEV2, P2 and 2 are accepted too)"
            ))),
        }
    }
    /// From PagerDuty's urgency, for an incident whose priority says nothing: `high` → sev2,
    /// `low` → sev4.
    pub fn from_urgency(urgency: Option<&str>) -> Option<Self> {
        match urgency {
            Some("high") => Some(Self(2)),
            Some("low") => Some(Self(4)),
            _ => None,
        }
    }
    pub fn level(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sev{}", self.0)
    }
}

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let s = match &v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(serde::de::Error::custom(
                    "severity must be a string or number",
                ));
            }
        };
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What kind of change a change event describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Deploy,
    Config,
    FeatureFlag,
    Migration,
    Infra,
    Data,
    Model,
    Prompt,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 8] = [
        Self::Deploy,
        Self::Config,
        Self::FeatureFlag,
        Self::Migration,
        Self::Infra,
        Self::Data,
        Self::Model,
        Self::Prompt,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Config => "config",
            Self::FeatureFlag => "feature_flag",
            Self::Migration => "migration",
            Self::Infra => "infra",
            Self::Data => "data",
            Self::Model => "model",
            Self::Prompt => "prompt",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == t || (t == "flag" && *k == Self::FeatureFlag))
            .ok_or_else(|| {
                Invalid(format!(
                    "kind {s:?} is not one of deploy, config, feature_flag, migration, infra, data, model, prompt"
                ))
            })
    }
    /// Human words for the kind, for prose.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Config => "config change",
            Self::FeatureFlag => "feature-flag change",
            Self::Migration => "migration",
            Self::Infra => "infrastructure change",
            Self::Data => "data change",
            Self::Model => "model change",
            Self::Prompt => "prompt change",
        }
    }
}

/// Incident status as PagerDuty reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Triggered,
    Acknowledged,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "triggered" => Ok(Self::Triggered),
            "acknowledged" => Ok(Self::Acknowledged),
            "resolved" => Ok(Self::Resolved),
            _ => Err(Invalid(format!(
                "status {s:?} is not one of triggered, acknowledged, resolved"
            ))),
        }
    }
}

/// Milliseconds since the Unix epoch: how times are stored (portable across SQLite and PostgreSQL).
pub type Millis = i64;

pub fn to_millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

pub fn from_millis(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Parses RFC 3339, and also PagerDuty's `+0000` offsets (`2020-07-17T08:42:58.315+0000`).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, Invalid> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Invalid(format!("time {s:?} is not RFC 3339")))
}

/// RFC 3339 in UTC with a `Z`, seconds precision unless there are milliseconds.
pub fn fmt_time(ms: Millis) -> String {
    let t = from_millis(ms);
    if ms % 1000 == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// Serde helpers for `Millis` fields shown as RFC 3339.
pub mod rfc3339 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&fmt_time(*ms))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        let s = String::deserialize(d)?;
        parse_time(&s)
            .map(to_millis)
            .map_err(serde::de::Error::custom)
    }
    pub mod option {
        use super::*;
        pub fn serialize<S: serde::Serializer>(
            ms: &Option<Millis>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match ms {
                Some(ms) => s.serialize_str(&fmt_time(*ms)),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Millis>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                parse_time(&s)
                    .map(to_millis)
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// Canonical service id: lower-case, trimmed.
pub fn canonical_service(name: &str) -> String {
    name.trim().to_lowercase()
}

/// "45 min", "2 h 5 min", "3 d 4 h".
pub fn fmt_minutes(m: f64) -> String {
    let m = m.abs().round() as i64;
    if m < 60 {
        format!("{m} min")
    } else if m < 24 * 60 {
        match m % 60 {
            0 => format!("{} h", m / 60),
            r => format!("{} h {r} min", m / 60),
        }
    } else {
        match (m / 60) % 24 {
            0 => format!("{} d", m / 1440),
            h => format!("{} d {h} h", m / 1440),
        }
    }
}

pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_priority_names_read_as_their_severity() {
        for (raw, level) in [
            ("SEV-1", 1),
            ("Sev 2", 2),
            ("P-3", 3),
            ("sev_4", 4),
            ("P1", 1),
        ] {
            assert_eq!(Severity::parse(raw).unwrap().level(), level, "{raw}");
        }
        assert!(Severity::parse("SEV-9").is_err());
        assert!(Severity::parse("P1x").is_err());
    }

    #[test]
    fn severity_accepts_the_spellings_people_use() {
        for s in ["sev2", "SEV2", "P2", "p2", "2", " Sev2 "] {
            assert_eq!(Severity::parse(s).unwrap().to_string(), "sev2", "{s}");
        }
        assert!(Severity::parse("sev6").is_err());
        assert!(Severity::parse("high").is_err());
        assert_eq!(Severity::from_urgency(Some("high")).unwrap().level(), 2);
        assert_eq!(Severity::from_urgency(Some("low")).unwrap().level(), 4);
        assert!(Severity::from_urgency(None).is_none());
    }

    #[test]
    fn incident_ids_are_restricted_to_the_contract_alphabet() {
        assert!(IncidentId::parse("PGR0VU2").is_ok());
        assert!(IncidentId::parse("inc-2026.10_01").is_ok());
        assert!(IncidentId::parse("").is_err());
        assert!(IncidentId::parse("a/b").is_err());
        assert!(IncidentId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn pagerduty_plus_0000_offsets_parse() {
        let t = parse_time("2020-07-17T08:42:58.315+0000").unwrap();
        assert_eq!(fmt_time(to_millis(t)), "2020-07-17T08:42:58.315Z");
        assert!(parse_time("yesterday").is_err());
    }
}
