//! The monthly leadership report (its JSON is the API's): how many incidents and how that moved,
//! how fast they were acknowledged and resolved, where, which families, which recur, and whether
//! action items were closed. Computed in `patterns::report`.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{Millis, from_millis};

/// A calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("month {s:?} is not YYYY-MM (for example 2026-10)");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    pub fn of(ms: Millis) -> Self {
        let t = from_millis(ms);
        Self {
            year: t.year(),
            month: t.month(),
        }
    }

    pub fn start(self) -> Millis {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t).timestamp_millis())
            .unwrap_or_default()
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn end(self) -> Millis {
        self.next().start()
    }

    /// The `n` months ending with this one, oldest first.
    pub fn trailing(self, n: usize) -> Vec<Month> {
        let mut out = vec![self];
        for _ in 1..n {
            let p = out[0].previous();
            out.insert(0, p);
        }
        out
    }

    pub fn contains(self, ms: Millis) -> bool {
        ms >= self.start() && ms < self.end()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Durations {
    pub median: Option<f64>,
    pub p90: Option<f64>,
    /// How many incidents the figures are over.
    pub count: usize,
}

impl Durations {
    pub fn of(mut minutes: Vec<f64>) -> Self {
        minutes.sort_by(f64::total_cmp);
        let n = minutes.len();
        if n == 0 {
            return Self::default();
        }
        let median = if n % 2 == 1 {
            minutes[n / 2]
        } else {
            (minutes[n / 2 - 1] + minutes[n / 2]) / 2.0
        };
        // Nearest rank: the smallest value with at least 90% of values at or below it.
        let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
        Self {
            median: Some(round2(median)),
            p90: Some(round2(minutes[rank - 1])),
            count: n,
        }
    }
}

pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PreviousMonth {
    pub month: String,
    pub incidents: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeverityCount {
    pub severity: String,
    pub incidents: usize,
    pub previous: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrendPoint {
    pub month: String,
    pub incidents: usize,
    pub mtta_minutes: Durations,
    pub mttr_minutes: Durations,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceCount {
    pub service: String,
    pub incidents: usize,
    pub previous: usize,
    pub mttr_minutes: Durations,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FamilyCount {
    pub id: String,
    pub label: String,
    pub incidents: usize,
    /// Incidents per month over the trend's months.
    pub by_month: BTreeMap<String, usize>,
    /// First seen this month.
    pub new: bool,
    /// More than the month before and more than its average over the earlier trend months.
    pub growing: bool,
    /// This month's incidents of the family (up to three).
    pub examples: Vec<String>,
    pub typical_causes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KindShare {
    pub kind: String,
    pub incidents: usize,
    /// Of the month's incidents, in percent.
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangeShare {
    pub lookback_hours: f64,
    pub incidents_preceded: usize,
    /// Of the month's incidents, in percent.
    pub percent: f64,
    pub by_kind: Vec<KindShare>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Heatmap {
    /// Monday first.
    pub weekdays: Vec<String>,
    /// counts[weekday][hour], UTC.
    pub counts: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recurrence {
    pub family_id: String,
    pub label: String,
    pub service: String,
    /// This month's incidents that recurred, each with the one before it, oldest first.
    pub incidents: Vec<String>,
    pub previous: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActionItems {
    /// Items of this month's incidents.
    pub opened: usize,
    /// Items closed this month (of any incident).
    pub closed: usize,
    /// Of the items opened this month, those still open.
    pub still_open: usize,
    /// Items open at the end of the month, over all incidents.
    pub open_total: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecurredAfterFix {
    pub family_id: String,
    pub label: String,
    /// This month's incidents of the family that came after one of its action items was closed.
    pub incidents: Vec<String>,
    /// The latest item closed before the first of them, and its incident.
    pub fixed_incident: String,
    pub action_item: String,
    pub closed_at: String,
}

/// The report (its JSON is the API's).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub month: String,
    pub generated_at: String,
    pub base_url: String,
    pub incidents: usize,
    pub previous_month: PreviousMonth,
    /// Change against the previous month in percent (none when it had no incidents).
    pub change_percent: Option<f64>,
    pub severity: Vec<SeverityCount>,
    pub mtta_minutes: Durations,
    pub mttr_minutes: Durations,
    pub trend: Vec<TrendPoint>,
    pub by_service: Vec<ServiceCount>,
    pub families: Vec<FamilyCount>,
    /// Incidents of the month in no family yet (families are computed after imports and on a
    /// schedule).
    pub unassigned: usize,
    pub changes: ChangeShare,
    pub heatmap: Heatmap,
    pub recurring: Vec<Recurrence>,
    pub action_items: ActionItems,
    pub recurred_after_fix: Vec<RecurredAfterFix>,
    /// Inline SVG charts (HTML only; not part of the JSON).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub charts: Option<Charts>,
}

/// Inline SVG charts of a report (HTML only).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Charts {
    pub resolve_trend: String,
    pub families_per_month: String,
    pub heatmap: String,
}

impl Report {
    /// A one-paragraph summary for Slack.
    pub fn summary(&self) -> String {
        let change = match self.change_percent {
            Some(p) if p > 0.0 => format!("up {p:.0}% from {}", self.previous_month.incidents),
            Some(p) if p < 0.0 => format!("down {:.0}% from {}", -p, self.previous_month.incidents),
            Some(_) => "as many as the month before".into(),
            None => "none the month before".into(),
        };
        let fmt = |d: &Durations| {
            d.median
                .map(|m| format!("{m:.0} min (p90 {:.0})", d.p90.unwrap_or(m)))
                .unwrap_or_else(|| "n/a".into())
        };
        let mut s = format!(
            "{} incidents in {} ({change}). Time to resolve: median {}. Time to acknowledge: median {}.",
            self.incidents,
            self.month,
            fmt(&self.mttr_minutes),
            fmt(&self.mtta_minutes)
        );
        if let Some(f) = self.families.first() {
            s.push_str(&format!(
                " Largest family: {} ({} incidents).",
                f.label, f.incidents
            ));
        }
        let new: Vec<&str> = self
            .families
            .iter()
            .filter(|f| f.new || f.growing)
            .map(|f| f.label.as_str())
            .take(3)
            .collect();
        if !new.is_empty() {
            s.push_str(&format!(" New or growing: {}.", new.join("; ")));
        }
        if !self.recurred_after_fix.is_empty() {
            s.push_str(&format!(
                " {} families came back after their action items were closed.",
                self.recurred_after_fix.len()
            ));
        }
        s
    }

    /// Where the report is on the web.
    pub fn link(&self) -> String {
        format!("{}/reports/{}", self.base_url, self.month)
    }
}
