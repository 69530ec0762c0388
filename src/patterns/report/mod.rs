//! The monthly leadership report: how many incidents and how that moved, how fast they were
//! acknowledged and resolved (with a six-month trend), where they happened, which families they
//! belong to (new and growing ones called out), how many followed a change on their service, when
//! they happen, which recur, and whether action items were closed — and families that came back
//! after theirs were.
//!
//! Reports assign an incident to the UTC month of its first trigger; p90 is nearest-rank and the
//! median the middle value (the mean of the two middle values for an even count).

mod causes;
pub mod charts;
mod follow_up;

use causes::{change_share, family_counts};
use follow_up::{action_items, recurred_after_fix, recurrences};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Duration, Timelike};

use crate::domain::report::*;
use crate::domain::{Millis, fmt_time, from_millis, now_millis};
use crate::store::reports::ReportIncident;
use crate::store::{Store, StoreError};

/// Months of the trend, ending with the report's month.
pub const TREND_MONTHS: usize = 6;
/// An incident recurs when its family and service saw another incident this many days before.
pub const RECURRENCE_DAYS: i64 = 30;

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
    let this = in_month(inputs, month);
    let prev = in_month(inputs, month.previous());
    let (families, unassigned) = family_counts(inputs, month, &this);
    Report {
        month: month.to_string(),
        generated_at: fmt_time(now),
        base_url: base_url.trim_end_matches('/').to_string(),
        incidents: this.len(),
        change_percent: (!prev.is_empty())
            .then(|| round2((this.len() as f64 - prev.len() as f64) / prev.len() as f64 * 100.0)),
        previous_month: PreviousMonth {
            month: month.previous().to_string(),
            incidents: prev.len(),
        },
        severity: severity_counts(&this, &prev),
        mtta_minutes: mtta(&this),
        mttr_minutes: mttr(&this),
        trend: trend(inputs, month),
        by_service: by_service(&this, &prev),
        families,
        unassigned,
        changes: change_share(inputs, &this, lookback_hours),
        heatmap: heatmap(&this),
        recurring: recurrences(inputs, month),
        action_items: action_items(inputs, month, &this),
        recurred_after_fix: recurred_after_fix(inputs, month),
        charts: None,
    }
}

/// The incidents first triggered in `m`.
fn in_month(inputs: &Inputs, m: Month) -> Vec<&ReportIncident> {
    inputs
        .incidents
        .iter()
        .filter(|i| m.contains(i.triggered_at))
        .collect()
}

/// Time to acknowledge, minutes.
fn mtta(set: &[&ReportIncident]) -> Durations {
    Durations::of(
        set.iter()
            .filter_map(|i| i.acknowledged_at.map(|a| minutes(i.triggered_at, a)))
            .collect(),
    )
}

/// Time to resolve, minutes.
fn mttr(set: &[&ReportIncident]) -> Durations {
    Durations::of(
        set.iter()
            .filter_map(|i| i.resolved_at.map(|r| minutes(i.triggered_at, r)))
            .collect(),
    )
}

fn severity_of(i: &ReportIncident) -> String {
    i.severity
        .clone()
        .filter(|s| SEVERITIES.contains(&s.as_str()))
        .unwrap_or_else(|| "unknown".into())
}

/// A family's label ("" when the family is unknown).
fn family_label(inputs: &Inputs, id: &str) -> String {
    inputs
        .families
        .get(id)
        .map(|x| x.0.clone())
        .unwrap_or_default()
}

fn family_of<'a>(inputs: &'a Inputs, i: &ReportIncident) -> Option<&'a String> {
    inputs.membership.get(&i.id)
}

fn severity_counts(this: &[&ReportIncident], prev: &[&ReportIncident]) -> Vec<SeverityCount> {
    SEVERITIES
        .iter()
        .map(|s| SeverityCount {
            severity: s.to_string(),
            incidents: this.iter().filter(|i| severity_of(i) == *s).count(),
            previous: prev.iter().filter(|i| severity_of(i) == *s).count(),
        })
        .filter(|c| c.incidents > 0 || c.previous > 0)
        .collect()
}

/// The six months ending with `month`.
fn trend(inputs: &Inputs, month: Month) -> Vec<TrendPoint> {
    month
        .trailing(TREND_MONTHS)
        .iter()
        .map(|&m| {
            let set = in_month(inputs, m);
            TrendPoint {
                month: m.to_string(),
                incidents: set.len(),
                mtta_minutes: mtta(&set),
                mttr_minutes: mttr(&set),
            }
        })
        .collect()
}

fn by_service(this: &[&ReportIncident], prev: &[&ReportIncident]) -> Vec<ServiceCount> {
    let mut services: BTreeMap<&str, (Vec<&ReportIncident>, usize)> = BTreeMap::new();
    for i in this {
        services.entry(i.service.as_str()).or_default().0.push(i);
    }
    for i in prev {
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
    by_service
}

/// Incidents by weekday and hour (UTC).
fn heatmap(this: &[&ReportIncident]) -> Heatmap {
    let mut counts = vec![vec![0usize; 24]; 7];
    for i in this {
        let t = from_millis(i.triggered_at);
        counts[t.weekday().num_days_from_monday() as usize][t.hour() as usize] += 1;
    }
    Heatmap {
        weekdays: WEEKDAYS.iter().map(|s| s.to_string()).collect(),
        counts,
    }
}

/// The report with its charts, for the HTML template.
pub fn with_charts(mut r: Report) -> Report {
    r.charts = Some(charts::of(&r));
    r
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

    /// The report templates are checked at start-up against `render/sample_report.json` (the render
    /// room cannot compute a report); it must stay what `compute` makes of no incidents.
    /// `UPDATE_SAMPLES=1` rewrites it.
    #[test]
    fn the_bundled_sample_report_is_what_compute_makes_of_nothing() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/render/sample_report.json");
        let mut made = serde_json::to_value(sample()).unwrap();
        made["generated_at"] = "2026-11-01T00:00:00Z".into();
        if std::env::var_os("UPDATE_SAMPLES").is_some() {
            let text = serde_json::to_string_pretty(&made).unwrap() + "\n";
            std::fs::write(path, text).unwrap();
        }
        let bundled: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(made, bundled, "run with UPDATE_SAMPLES=1 to refresh {path}");
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
