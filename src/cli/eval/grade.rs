//! Grading one draft's root-cause hypotheses against what really caused the incident, the way
//! incident tools grade them, and the plain baseline beside it.
//!
//! `expected.json` maps an incident id to either a list of culprit evidence ids (`change:<id>`:
//! a change caused it) or `{"kind", "culprits", "service"}` with `kind` one of CONTRACT's
//! hypothesis kinds (`culprits` empty for a cause that is not a change).
//!
//! - top-1 is right when the first hypothesis cites a culprit; for a cause that is not a change,
//!   when it has the expected kind and no change is blamed with confidence ≥ 0.5.
//! - graded: 100 right cause; 65 one hop short (the right service but another of its changes, or
//!   another cause that is not a change); 35 right area (the cause within the first three, or
//!   "unknown" without blaming a change when no change caused it); 0 wrong area.
//! - the baseline is "the latest change on the service before the trigger", graded alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::postmortem::{Hypothesis, HypothesisKind};
use crate::domain::{Change, HistoryRecord};

/// What really caused an incident.
#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    /// `None` for a plain list of culprits (a change, here or upstream).
    pub kind: Option<HypothesisKind>,
    pub culprits: Vec<String>,
    /// Where the cause lies (the culprit's service).
    pub service: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ExpectedInput {
    Culprits(Vec<String>),
    Full {
        kind: HypothesisKind,
        #[serde(default)]
        culprits: Vec<String>,
        #[serde(default)]
        service: Option<String>,
    },
}

/// Reads `expected.json`.
pub fn parse_expected(text: &str) -> Result<BTreeMap<String, Expected>, serde_json::Error> {
    let raw: BTreeMap<String, ExpectedInput> = serde_json::from_str(text)?;
    Ok(raw
        .into_iter()
        .map(|(id, e)| {
            let e = match e {
                ExpectedInput::Culprits(culprits) => Expected {
                    kind: None,
                    culprits,
                    service: None,
                },
                ExpectedInput::Full {
                    kind,
                    culprits,
                    service,
                } => Expected {
                    kind: Some(kind),
                    culprits,
                    service,
                },
            };
            (id, e)
        })
        .collect())
}

impl Expected {
    /// The label a case is counted under: its kind, `change` for a plain list.
    pub fn label(&self) -> &'static str {
        self.kind.map_or("change", HypothesisKind::as_str)
    }

    fn is_change(&self) -> bool {
        !self.culprits.is_empty()
    }
}

/// How one hypothesis list did.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Grade {
    pub top1: bool,
    pub top3: bool,
    /// 100, 65, 35 or 0.
    pub graded: u8,
    /// The first hypothesis's confidence.
    pub confidence: f64,
}

fn cites_culprit(h: &Hypothesis, want: &Expected) -> bool {
    h.evidence_ids.iter().any(|i| want.culprits.contains(i))
}

/// Grades `hyps` (supported ones, best first) against `want`; `service_of` gives a cited
/// change's service.
pub fn grade(
    hyps: &[&Hypothesis],
    want: &Expected,
    service_of: impl Fn(&str) -> Option<String>,
) -> Grade {
    let confidence = hyps.first().map_or(0.0, |h| h.confidence);
    let blames_change = hyps
        .iter()
        .any(|h| h.kind.is_change() && h.confidence >= 0.5);
    let right = |h: &Hypothesis| {
        if want.is_change() {
            cites_culprit(h, want)
        } else {
            Some(h.kind) == want.kind && !blames_change
        }
    };
    let top1 = hyps.first().is_some_and(|h| right(h));
    let top3 = if want.is_change() {
        let cited: Vec<&String> = hyps.iter().take(3).flat_map(|h| &h.evidence_ids).collect();
        want.culprits.iter().all(|w| cited.contains(&w))
    } else {
        hyps.iter().take(3).any(|h| right(h))
    };
    let culprit_service = want
        .service
        .clone()
        .or_else(|| want.culprits.first().and_then(|c| service_of(c)));
    let hop_short = hyps.first().is_some_and(|h| {
        if want.is_change() {
            h.kind.is_change()
                && h.evidence_ids
                    .iter()
                    .filter(|i| i.starts_with("change:"))
                    .any(|i| service_of(i).is_some() && service_of(i) == culprit_service)
        } else {
            !h.kind.is_change() && h.kind != HypothesisKind::Unknown && !blames_change
        }
    });
    let area = top3
        || (!want.is_change()
            && !blames_change
            && hyps
                .first()
                .is_some_and(|h| h.kind == HypothesisKind::Unknown));
    Grade {
        top1,
        top3,
        graded: if top1 {
            100
        } else if hop_short {
            65
        } else if area {
            35
        } else {
            0
        },
        confidence,
    }
}

/// The baseline's answer: the latest change on the incident's service before its trigger.
pub fn latest_change_on_service(r: &HistoryRecord) -> Option<&Change> {
    r.changes
        .iter()
        .filter(|c| c.service == r.service && c.at <= r.triggered_at)
        .max_by_key(|c| (c.at, c.id.clone()))
}

/// Grades the baseline like a drafter whose one hypothesis blames that change at confidence 1.
pub fn grade_baseline(r: &HistoryRecord, want: &Expected) -> Grade {
    let hyp = latest_change_on_service(r).map(|c| Hypothesis {
        rank: 1,
        kind: HypothesisKind::Change,
        hypothesis: c.summary.clone(),
        confidence: 1.0,
        evidence_ids: vec![c.evidence_id()],
        supported: true,
        reasons: vec![],
    });
    let unknown = Hypothesis {
        rank: 1,
        kind: HypothesisKind::Unknown,
        hypothesis: String::new(),
        confidence: 0.0,
        evidence_ids: vec![],
        supported: true,
        reasons: vec![],
    };
    let h = hyp.as_ref().unwrap_or(&unknown);
    grade(&[h], want, |id| {
        r.changes
            .iter()
            .find(|c| c.evidence_id() == id)
            .map(|c| c.service.clone())
    })
}

/// Expected calibration error over (confidence, right) pairs: ten equal-width bins, each
/// weighted by its share of cases.
pub fn calibration_error(points: &[(f64, bool)]) -> f64 {
    if points.is_empty() {
        return 0.0;
    }
    let mut bins = [(0usize, 0.0f64, 0usize); 10];
    for &(c, right) in points {
        let b = ((c * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += c;
        bins[b].2 += usize::from(right);
    }
    let n = points.len() as f64;
    bins.iter()
        .filter(|b| b.0 > 0)
        .map(|&(k, conf, right)| {
            let k = k as f64;
            (k / n) * (right as f64 / k - conf / k).abs()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyp(kind: HypothesisKind, conf: f64, ids: &[&str]) -> Hypothesis {
        Hypothesis {
            rank: 1,
            kind,
            hypothesis: String::new(),
            confidence: conf,
            evidence_ids: ids.iter().map(|s| s.to_string()).collect(),
            supported: true,
            reasons: vec![],
        }
    }

    #[test]
    fn expected_reads_lists_and_objects() {
        let e = parse_expected(
            r#"{"A": ["change:x"], "B": {"kind": "load", "culprits": [], "service": "web"}}"#,
        )
        .unwrap();
        assert_eq!(e["A"].label(), "change");
        assert_eq!(e["B"].kind, Some(HypothesisKind::Load));
    }

    #[test]
    fn grades_follow_the_incident_tools_scale() {
        use HypothesisKind::*;
        let svc = |id: &str| match id {
            "change:a" | "change:b" => Some("api".to_string()),
            _ => Some("db".to_string()),
        };
        let want = Expected {
            kind: Some(Change),
            culprits: vec!["change:a".into()],
            service: None,
        };
        let right = hyp(Change, 0.8, &["change:a"]);
        let sibling = hyp(Change, 0.8, &["change:b"]);
        let elsewhere = hyp(UpstreamChange, 0.6, &["change:c"]);
        assert_eq!(grade(&[&right], &want, svc).graded, 100);
        assert_eq!(grade(&[&sibling], &want, svc).graded, 65);
        assert_eq!(grade(&[&elsewhere, &right], &want, svc).graded, 35);
        assert_eq!(grade(&[&elsewhere], &want, svc).graded, 0);
        let load = Expected {
            kind: Some(Load),
            culprits: vec![],
            service: None,
        };
        let said = hyp(Load, 0.7, &["slack:1"]);
        let blamed = hyp(Change, 0.55, &["change:a"]);
        assert_eq!(grade(&[&said], &load, svc).graded, 100);
        assert!(
            !grade(&[&said, &blamed], &load, svc).top1,
            "a change blamed at 0.55"
        );
        assert_eq!(grade(&[&hyp(External, 0.6, &[])], &load, svc).graded, 65);
        assert_eq!(grade(&[&hyp(Unknown, 0.3, &[])], &load, svc).graded, 35);
    }

    #[test]
    fn calibration_error_is_zero_when_confidence_matches_accuracy() {
        let pts: Vec<(f64, bool)> = (0..10).map(|i| (0.85, i < 8)).collect();
        assert!((calibration_error(&pts) - 0.05).abs() < 1e-9);
        assert_eq!(calibration_error(&[(1.0, true)]), 0.0);
    }
}
