//! The monthly leadership report: how many incidents and how that moved, how fast they were
//! acknowledged and resolved (with a six-month trend), where they happened, which families they
//! belong to (new and growing ones called out), how many followed a change on their service, when
//! they happen, which recur, and whether action items were closed — and families that came back
//! after theirs were.
//!
//! Reports assign an incident to the UTC month of its first trigger; p90 is nearest-rank and the
//! median the middle value (the mean of the two middle values for an even count).

pub mod charts;
pub mod schedule;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Millis, fmt_time, from_millis, now_millis};
use crate::store::reports::ReportIncident;
use crate::store::{Store, StoreError};

/// Months of the trend, ending with the report's month.
pub const TREND_MONTHS: usize = 6;
/// An incident recurs when its family and service saw another incident this many days before.
pub const RECURRENCE_DAYS: i64 = 30;

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

fn round2(v: f64) -> f64 {
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
    pub charts: Option<charts::Charts>,
}

/// The severity order of the report.
const SEVERITIES: [&str; 6] = ["sev1", "sev2", "sev3", "sev4", "sev5", "unknown"];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn minutes(from: Millis, to: Millis) -> f64 {
    (to - from) as f64 / 60_000.0
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 10.0
    }
}

/// What a report is computed from (read once from the store).
pub struct Inputs {
    pub incidents: Vec<ReportIncident>,
    /// (service, kind, at)
    pub changes: Vec<(String, String, Millis)>,
    /// incident id → family id
    pub membership: HashMap<String, String>,
    /// family id → (label, typical causes)
    pub families: BTreeMap<String, (String, Vec<String>)>,
}

impl Inputs {
    pub async fn load(
        store: &Store,
        month: Month,
        lookback_hours: f64,
    ) -> Result<Self, StoreError> {
        let incidents = store.report_incidents(month.end()).await?;
        let lookback = (lookback_hours * 3_600_000.0) as i64;
        let changes = store
            .changes_between(month.start() - lookback, month.end() - 1)
            .await?
            .into_iter()
            .map(|c| (c.service, c.kind.as_str().to_string(), c.at))
            .collect();
        let mut membership = HashMap::new();
        let mut families = BTreeMap::new();
        for f in store.families(true).await? {
            for id in &f.incident_ids {
                membership.insert(id.clone(), f.id.clone());
            }
            families.insert(f.id.clone(), (f.label.clone(), f.typical_causes.clone()));
        }
        Ok(Self {
            incidents,
            changes,
            membership,
            families,
        })
    }
}

/// Builds the report for `month` from the store.
pub async fn build(
    store: &Store,
    month: Month,
    lookback_hours: f64,
    base_url: &str,
) -> Result<Report, StoreError> {
    let inputs = Inputs::load(store, month, lookback_hours).await?;
    Ok(compute(
        &inputs,
        month,
        lookback_hours,
        base_url,
        now_millis(),
    ))
}

/// The report's numbers from its inputs (`now` is when it was generated).
pub fn compute(
    inputs: &Inputs,
    month: Month,
    lookback_hours: f64,
    base_url: &str,
    now: Millis,
) -> Report {
    let trend_months = month.trailing(TREND_MONTHS);
    let in_month = |m: Month| -> Vec<&ReportIncident> {
        inputs
            .incidents
            .iter()
            .filter(|i| m.contains(i.triggered_at))
            .collect()
    };
    let this = in_month(month);
    let prev = in_month(month.previous());
    let mtta = |set: &[&ReportIncident]| {
        Durations::of(
            set.iter()
                .filter_map(|i| i.acknowledged_at.map(|a| minutes(i.triggered_at, a)))
                .collect(),
        )
    };
    let mttr = |set: &[&ReportIncident]| {
        Durations::of(
            set.iter()
                .filter_map(|i| i.resolved_at.map(|r| minutes(i.triggered_at, r)))
                .collect(),
        )
    };
    let severity_of = |i: &ReportIncident| {
        i.severity
            .clone()
            .filter(|s| SEVERITIES.contains(&s.as_str()))
            .unwrap_or_else(|| "unknown".into())
    };
    let severity = SEVERITIES
        .iter()
        .map(|s| SeverityCount {
            severity: s.to_string(),
            incidents: this.iter().filter(|i| severity_of(i) == *s).count(),
            previous: prev.iter().filter(|i| severity_of(i) == *s).count(),
        })
        .filter(|c| c.incidents > 0 || c.previous > 0)
        .collect();
    let trend = trend_months
        .iter()
        .map(|&m| {
            let set = in_month(m);
            TrendPoint {
                month: m.to_string(),
                incidents: set.len(),
                mtta_minutes: mtta(&set),
                mttr_minutes: mttr(&set),
            }
        })
        .collect();

    // Services.
    let mut services: BTreeMap<&str, (Vec<&ReportIncident>, usize)> = BTreeMap::new();
    for i in &this {
        services.entry(i.service.as_str()).or_default().0.push(i);
    }
    for i in &prev {
        if let Some(s) = services.get_mut(i.service.as_str()) {
            s.1 += 1;
        }
    }
    let mut by_service: Vec<ServiceCount> = services
        .into_iter()
        .map(|(service, (set, previous))| ServiceCount {
            service: service.to_string(),
            incidents: set.len(),
            previous,
            mttr_minutes: mttr(&set),
        })
        .collect();
    by_service.sort_by(|a, b| {
        b.incidents
            .cmp(&a.incidents)
            .then_with(|| a.service.cmp(&b.service))
    });

    // Families.
    let family_of = |i: &ReportIncident| inputs.membership.get(&i.id);
    let mut first_seen: HashMap<&str, Millis> = HashMap::new();
    for i in &inputs.incidents {
        if let Some(f) = family_of(i) {
            first_seen.entry(f.as_str()).or_insert(i.triggered_at);
        }
    }
    let mut families: Vec<FamilyCount> = Vec::new();
    let mut unassigned = 0;
    let mut per_family: BTreeMap<&str, Vec<&ReportIncident>> = BTreeMap::new();
    for i in &this {
        match family_of(i) {
            Some(f) => per_family.entry(f.as_str()).or_default().push(i),
            None => unassigned += 1,
        }
    }
    for (id, set) in &per_family {
        let by_month: BTreeMap<String, usize> = trend_months
            .iter()
            .map(|&m| {
                let n = inputs
                    .incidents
                    .iter()
                    .filter(|i| {
                        m.contains(i.triggered_at) && family_of(i).map(String::as_str) == Some(*id)
                    })
                    .count();
                (m.to_string(), n)
            })
            .collect();
        let counts: Vec<usize> = trend_months
            .iter()
            .map(|m| by_month[&m.to_string()])
            .collect();
        let now_n = counts[counts.len() - 1];
        let before = counts[counts.len() - 2];
        let earlier = &counts[..counts.len() - 1];
        let average = earlier.iter().sum::<usize>() as f64 / earlier.len().max(1) as f64;
        let new = first_seen.get(id).is_some_and(|&t| month.contains(t));
        let (label, causes) = inputs.families.get(*id).cloned().unwrap_or_default();
        families.push(FamilyCount {
            id: id.to_string(),
            label,
            incidents: set.len(),
            by_month,
            new,
            growing: !new && now_n >= 2 && now_n > before && now_n as f64 > average,
            examples: set.iter().take(3).map(|i| i.id.clone()).collect(),
            typical_causes: causes,
        });
    }
    families.sort_by(|a, b| b.incidents.cmp(&a.incidents).then_with(|| a.id.cmp(&b.id)));

    // Changes before incidents on their service.
    let lookback = (lookback_hours * 3_600_000.0) as i64;
    let mut by_service_changes: HashMap<&str, Vec<(&str, Millis)>> = HashMap::new();
    for (service, kind, at) in &inputs.changes {
        by_service_changes
            .entry(service.as_str())
            .or_default()
            .push((kind.as_str(), *at));
    }
    let mut preceded = 0;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &this {
        let before: BTreeSet<&str> = by_service_changes
            .get(i.service.as_str())
            .into_iter()
            .flatten()
            .filter(|(_, at)| *at <= i.triggered_at && *at >= i.triggered_at - lookback)
            .map(|(k, _)| *k)
            .collect();
        if !before.is_empty() {
            preceded += 1;
        }
        for k in before {
            *kinds.entry(k).or_default() += 1;
        }
    }
    let mut by_kind: Vec<KindShare> = kinds
        .into_iter()
        .map(|(kind, n)| KindShare {
            kind: kind.to_string(),
            incidents: n,
            percent: percent(n, this.len()),
        })
        .collect();
    by_kind.sort_by(|a, b| {
        b.incidents
            .cmp(&a.incidents)
            .then_with(|| a.kind.cmp(&b.kind))
    });

    // When.
    let mut counts = vec![vec![0usize; 24]; 7];
    for i in &this {
        let t = from_millis(i.triggered_at);
        counts[t.weekday().num_days_from_monday() as usize][t.hour() as usize] += 1;
    }

    // Recurrence: same family and service within 30 days before.
    let window = Duration::days(RECURRENCE_DAYS).num_milliseconds();
    let mut recurring: BTreeMap<(String, String), Recurrence> = BTreeMap::new();
    let mut last_seen: HashMap<(&str, &str), &ReportIncident> = HashMap::new();
    for i in &inputs.incidents {
        let Some(f) = family_of(i) else { continue };
        let key = (f.as_str(), i.service.as_str());
        if month.contains(i.triggered_at)
            && let Some(before) = last_seen.get(&key)
            && i.triggered_at - before.triggered_at <= window
        {
            let r = recurring
                .entry((f.clone(), i.service.clone()))
                .or_insert_with(|| Recurrence {
                    family_id: f.clone(),
                    label: inputs
                        .families
                        .get(f)
                        .map(|x| x.0.clone())
                        .unwrap_or_default(),
                    service: i.service.clone(),
                    incidents: Vec::new(),
                    previous: Vec::new(),
                });
            r.incidents.push(i.id.clone());
            r.previous.push(before.id.clone());
        }
        last_seen.insert(key, i);
    }
    let mut recurring: Vec<Recurrence> = recurring.into_values().collect();
    recurring.sort_by(|a, b| {
        b.incidents
            .len()
            .cmp(&a.incidents.len())
            .then_with(|| (&a.family_id, &a.service).cmp(&(&b.family_id, &b.service)))
    });

    // Action items.
    let opened = this.iter().map(|i| i.action_items.len()).sum();
    let still_open = this
        .iter()
        .flat_map(|i| &i.action_items)
        .filter(|a| !a.done || a.closed_at.is_some_and(|c| c >= month.end()))
        .count();
    let closed = inputs
        .incidents
        .iter()
        .flat_map(|i| &i.action_items)
        .filter(|a| a.done && a.closed_at.is_some_and(|c| month.contains(c)))
        .count();
    let open_total = inputs
        .incidents
        .iter()
        .flat_map(|i| &i.action_items)
        .filter(|a| !a.done || a.closed_at.is_some_and(|c| c >= month.end()))
        .count();

    // Families back after their action items were closed.
    let mut recurred_after_fix = Vec::new();
    // Per family, the items closed so far: (closed at, incident, item).
    let mut fixes: HashMap<&str, Vec<(Millis, &ReportIncident, &str)>> = HashMap::new();
    for i in &inputs.incidents {
        let Some(f) = family_of(i) else { continue };
        if month.contains(i.triggered_at)
            && let Some((closed_at, fixed, item)) = fixes
                .get(f.as_str())
                .into_iter()
                .flatten()
                .filter(|(c, _, _)| *c < i.triggered_at)
                .max_by_key(|(c, _, _)| *c)
        {
            match recurred_after_fix
                .iter_mut()
                .find(|r: &&mut RecurredAfterFix| &r.family_id == f)
            {
                Some(r) => r.incidents.push(i.id.clone()),
                None => recurred_after_fix.push(RecurredAfterFix {
                    family_id: f.clone(),
                    label: inputs
                        .families
                        .get(f)
                        .map(|x| x.0.clone())
                        .unwrap_or_default(),
                    incidents: vec![i.id.clone()],
                    fixed_incident: fixed.id.clone(),
                    action_item: item.to_string(),
                    closed_at: fmt_time(*closed_at),
                }),
            }
        }
        for a in &i.action_items {
            if let Some(c) = a.closed_at.filter(|_| a.done) {
                fixes
                    .entry(f.as_str())
                    .or_default()
                    .push((c, i, a.text.as_str()));
            }
        }
    }

    recurred_after_fix.sort_by(|a, b| {
        b.incidents
            .len()
            .cmp(&a.incidents.len())
            .then_with(|| a.family_id.cmp(&b.family_id))
    });
    let previous_month = PreviousMonth {
        month: month.previous().to_string(),
        incidents: prev.len(),
    };
    Report {
        month: month.to_string(),
        generated_at: fmt_time(now),
        base_url: base_url.trim_end_matches('/').to_string(),
        incidents: this.len(),
        change_percent: (!prev.is_empty())
            .then(|| round2((this.len() as f64 - prev.len() as f64) / prev.len() as f64 * 100.0)),
        previous_month,
        severity,
        mtta_minutes: mtta(&this),
        mttr_minutes: mttr(&this),
        trend,
        by_service,
        families,
        unassigned,
        changes: ChangeShare {
            lookback_hours,
            incidents_preceded: preceded,
            percent: percent(preceded, this.len()),
            by_kind,
        },
        heatmap: Heatmap {
            weekdays: WEEKDAYS.iter().map(|s| s.to_string()).collect(),
            counts,
        },
        recurring,
        action_items: ActionItems {
            opened,
            closed,
            still_open,
            open_total,
        },
        recurred_after_fix,
        charts: None,
    }
}

impl Report {
    /// The report with its charts, for the HTML template.
    pub fn with_charts(mut self) -> Self {
        self.charts = Some(charts::Charts::of(&self));
        self
    }

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

/// An empty report, for checking templates at start-up.
pub fn sample() -> Report {
    let inputs = Inputs {
        incidents: Vec::new(),
        changes: Vec::new(),
        membership: HashMap::new(),
        families: BTreeMap::new(),
    };
    compute(
        &inputs,
        Month {
            year: 2026,
            month: 10,
        },
        24.0,
        "http://127.0.0.1:8080",
        0,
    )
    .with_charts()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_step() {
        let m = Month::parse("2026-01").unwrap();
        assert_eq!(m.previous().to_string(), "2025-12");
        assert_eq!(m.next().to_string(), "2026-02");
        assert_eq!(
            m.trailing(3)
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>(),
            ["2025-11", "2025-12", "2026-01"]
        );
        assert_eq!(fmt_time(m.start()), "2026-01-01T00:00:00Z");
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", "", "2026-00"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_use_nearest_rank() {
        let d = Durations::of((1..=10).map(f64::from).collect());
        assert_eq!(d.median, Some(5.5));
        assert_eq!(d.p90, Some(9.0));
        let d = Durations::of(vec![4.0, 1.0, 7.0]);
        assert_eq!((d.median, d.p90, d.count), (Some(4.0), Some(7.0), 3));
        assert_eq!(Durations::of(Vec::new()).median, None);
    }
}
