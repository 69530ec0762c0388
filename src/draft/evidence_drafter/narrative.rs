//! The narrative sections: hypotheses in words, anomalies, the summary, the impact and the
//! response, each sentence citing what it rests on.

use crate::config::DraftingConfig;
use crate::domain::TimelineEntry;
use crate::domain::fmt_minutes;
use crate::domain::fmt_time;
use crate::domain::postmortem::*;
use crate::draft::chart::{self, Mark};
use crate::draft::rank::reading::reports_mitigation;
use crate::draft::rank::{Candidate, Cause};
use crate::evidence::{Bundle, is_human};
use std::collections::BTreeSet;

use super::*;

/// What kind of cause a non-change hypothesis is, in words.
fn claim_noun(kind: HypothesisKind) -> &'static str {
    match kind {
        HypothesisKind::External => "an outage at a provider the service depends on",
        HypothesisKind::Load => "a surge of load beyond what the service could take",
        HypothesisKind::Expiry => {
            "something that expired or ran out (a certificate, a credential, a quota or a disk)"
        }
        HypothesisKind::Infrastructure => "failing infrastructure (a host, a disk or the network)",
        HypothesisKind::Unknown => "unknown",
        HypothesisKind::Change | HypothesisKind::UpstreamChange => "a change",
    }
}

/// A ranked cause in words.
pub(super) fn cause_text(c: &Cause, service: &str) -> String {
    if let Some(ch) = &c.change {
        return hypothesis_text(ch, service);
    }
    match (&c.quote, c.kind) {
        (_, HypothesisKind::Unknown) => {
            "No change stands out as the cause, and the responders name no other.".into()
        }
        (Some(q), kind) => {
            let noun = claim_noun(kind);
            let mut noun = noun.to_string();
            if let Some(first) = noun.get(..1) {
                noun.replace_range(..1, &first.to_uppercase());
            }
            format!(
                "{noun}, not a change: a responder reports \"{}\".",
                clip(q, 200)
            )
        }
        (None, kind) => format!("{}.", claim_noun(kind)),
    }
}

pub(super) fn hypothesis_text(c: &Candidate, service: &str) -> String {
    let ch = c.change;
    let version = ch
        .version
        .as_deref()
        .map(|v| format!(" ({v})"))
        .unwrap_or_default();
    let place = match &ch.lineage {
        Some(l) if l.hops == 0 => format!("in {service}'s own runs"),
        Some(l) => format!(
            "upstream of {service} through lineage ({} hop{})",
            l.hops,
            if l.hops == 1 { "" } else { "s" }
        ),
        None if c.same_service => format!("on {service}"),
        None if !c.upstream_by.is_empty() => {
            format!(
                "on {}, which the responders found failing under {service}",
                ch.service
            )
        }
        None => format!("on {} (another service)", ch.service),
    };
    let mut s = format!(
        "The {} \"{}\"{version} {place}, {} before the start, caused the incident",
        ch.kind.noun(),
        ch.summary,
        fmt_minutes(c.minutes_before)
    );
    match (
        c.named_by.is_empty(),
        c.rolled_back_by.is_empty(),
        c.remedied_by.first(),
    ) {
        (_, false, _) => s.push_str("; responders rolled it back"),
        (_, true, Some(fix)) => s.push_str(&format!("; {fix} undid or fixed it")),
        (false, true, None) => s.push_str("; a responder names it"),
        _ => {}
    }
    s.push('.');
    s
}

pub(super) fn anomalies(b: &Bundle, top: &[&Candidate]) -> Vec<AnomalyItem> {
    let inc = &b.incident;
    b.anomalies()
        .into_iter()
        .map(|f| {
            let d = &f.detected;
            let mut marks: Vec<Mark> = b
                .changes
                .iter()
                .filter(|c| c.service == inc.service || top.iter().any(|t| t.change.id == c.id))
                .map(|c| Mark {
                    at: c.at,
                    label: format!("{} {}: {}", c.evidence_id(), c.kind.as_str(), c.summary),
                    color: "#b35c00",
                })
                .collect();
            marks.push(Mark {
                at: inc.triggered_at,
                label: "first trigger".into(),
                color: "#c0392b",
            });
            marks.push(Mark {
                at: d.onset,
                label: "onset".into(),
                color: "#7a3db8",
            });
            let name = f.series.name.clone();
            let chart_svg = chart::line_chart(
                &format!("{name} around {}", inc.id),
                &f.series.points,
                f.series.start,
                f.series.end,
                &marks,
                |v| crate::evidence::format_value(&name, v),
            );
            AnomalyItem {
                evidence_id: f.series.evidence_id(),
                name: f.series.name.clone(),
                query: f.series.query.clone(),
                step_secs: f.series.step_secs,
                direction: format!("{:?}", d.direction).to_lowercase(),
                baseline: d.baseline,
                peak: d.peak,
                peak_at: fmt_time(d.peak_at),
                onset: fmt_time(d.onset),
                recovered_at: d.recovered_at.map(fmt_time),
                minutes_before_trigger: round1((inc.triggered_at - d.onset) as f64 / 60_000.0),
                text: crate::evidence::anomaly_sentence(f.series, d),
                evidence_ids: vec![f.series.evidence_id()],
                chart_svg,
            }
        })
        .collect()
}

pub(super) fn summary(
    b: &Bundle,
    leading: Option<&Cause>,
    anomalies: &[AnomalyItem],
    trigger: Option<&TimelineEntry>,
    resolve: Option<&TimelineEntry>,
) -> (String, Vec<String>) {
    let inc = &b.incident;
    let sev = inc.severity.map(|s| format!(" ({s})")).unwrap_or_default();
    let lifecycle = ids(&[trigger, resolve]);
    // What the metrics show comes first, as in most postmortems.
    let lead = anomalies
        .first()
        .map(|a| format!("{}{} ", a.text, cite(&a.evidence_ids)))
        .unwrap_or_default();
    let mut s = lead.clone();
    s += &match inc.resolved_at {
        Some(end) => format!(
            "\"{}\" on {}{sev} ran from {} to {} UTC ({}){}.",
            inc.title,
            inc.service,
            fmt_time(inc.triggered_at),
            fmt_time(end),
            fmt_minutes((end - inc.triggered_at) as f64 / 60_000.0),
            cite(&lifecycle)
        ),
        None => format!(
            "\"{}\" on {}{sev} started at {} UTC and is not resolved{}.",
            inc.title,
            inc.service,
            fmt_time(inc.triggered_at),
            cite(&lifecycle)
        ),
    };
    let mut all: Vec<String> = anomalies
        .first()
        .map(|a| a.evidence_ids.clone())
        .unwrap_or_default();
    all.extend(lifecycle);
    match leading.and_then(|c| c.change.as_ref().map(|ch| (c, ch))) {
        Some((_, c)) if c.confidence >= 0.4 => {
            let cids = c.evidence_ids();
            s.push_str(&format!(
                " The leading hypothesis (confidence {:.2}) is the {} \"{}\" on {}, {} before the start{}.",
                c.confidence,
                c.change.kind.noun(),
                c.change.summary,
                c.change.service,
                fmt_minutes(c.minutes_before),
                cite(&cids)
            ));
            all.extend(cids);
        }
        Some((_, c)) => {
            s.push_str(&format!(
                " No change stands out as the cause; the best candidate, the {} \"{}\", has confidence {:.2}{}.",
                c.change.kind.noun(),
                c.change.summary,
                c.confidence,
                cite(&[c.change.evidence_id()])
            ));
            all.push(c.change.evidence_id());
        }
        None => match leading {
            Some(c) if c.kind != HypothesisKind::Unknown => {
                let cids = c.evidence_ids();
                s.push_str(&format!(
                    " No change caused it, by the responders' account: the leading hypothesis (confidence {:.2}) is {}{}.",
                    c.confidence,
                    claim_noun(c.kind),
                    cite(&cids)
                ));
                all.extend(cids);
            }
            _ if b.changes.is_empty() => s.push_str(&format!(
                " No change was recorded in the {} h before the start, and the responders name no other cause.",
                b.lookback_hours
            )),
            _ => s.push_str(" No change stands out as the cause, and the responders name no other."),
        },
    }
    dedup(&mut all);
    (s, all)
}

pub(super) fn dedup(v: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

pub(super) fn impact(
    b: &Bundle,
    start: i64,
    anomalies: &[AnomalyItem],
    trigger: Option<&TimelineEntry>,
    ack: Option<&TimelineEntry>,
    resolve: Option<&TimelineEntry>,
) -> Impact {
    let inc = &b.incident;
    let mut statements = Vec::new();
    match anomalies.iter().find(|a| a.minutes_before_trigger > 0.0) {
        Some(a) if start < inc.triggered_at => statements.push(Finding::new(
            format!(
                "{} was affected from {} UTC, when {} left its baseline, {} before the first trigger.",
                inc.service,
                fmt_time(start),
                a.name,
                fmt_minutes(a.minutes_before_trigger)
            ),
            [a.evidence_ids.clone(), ids(&[trigger])].concat(),
        )),
        _ => statements.push(Finding::new(
            format!(
                "{} was affected from {} UTC (first trigger).",
                inc.service,
                fmt_time(inc.triggered_at)
            ),
            ids(&[trigger]),
        )),
    }
    for a in anomalies {
        statements.push(Finding::new(a.text.clone(), a.evidence_ids.clone()));
    }
    match inc.resolved_at {
        Some(end) => statements.push(Finding::new(
            format!(
                "Resolved at {} UTC, {} after the first trigger.",
                fmt_time(end),
                fmt_minutes((end - inc.triggered_at) as f64 / 60_000.0)
            ),
            ids(&[resolve]),
        )),
        None => statements.push(Finding::new(
            "Not resolved when this draft was made.",
            vec![],
        )),
    }
    match inc.time_to_acknowledge_minutes {
        Some(m) => statements.push(Finding::new(
            format!("Acknowledged after {}.", fmt_minutes(m)),
            ids(&[ack]),
        )),
        None => statements.push(Finding::new(
            "No acknowledgement was recorded, so time to acknowledge is unknown.",
            ids(&[trigger]),
        )),
    }
    for e in b
        .timeline
        .iter()
        .filter(|e| e.kind == "status_update")
        .take(MAX_QUOTES)
    {
        statements.push(Finding::new(
            format!("Status update: \"{}\"", clip(&e.text, 280)),
            vec![e.evidence_id.clone()],
        ));
    }
    Impact {
        service: inc.service.clone(),
        severity: inc.severity.map(|s| s.to_string()),
        start: fmt_time(start),
        end: inc.resolved_at.map(fmt_time),
        duration_minutes: inc
            .resolved_at
            .map(|e| round1((e - start) as f64 / 60_000.0)),
        time_to_acknowledge_minutes: inc.time_to_acknowledge_minutes.map(round1),
        time_to_resolve_minutes: inc.time_to_resolve_minutes.map(round1),
        statements,
    }
}

pub(super) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The evidence ids of the timeline entries `keep` picks, in time order.
fn entries(b: &Bundle, keep: impl Fn(&TimelineEntry) -> bool) -> Vec<String> {
    b.timeline
        .iter()
        .filter(|e| keep(e))
        .map(|e| e.evidence_id.clone())
        .collect()
}

pub(super) fn response(
    b: &Bundle,
    cfg: &DraftingConfig,
    trigger: Option<&TimelineEntry>,
    ack: Option<&TimelineEntry>,
    resolve: Option<&TimelineEntry>,
) -> (Vec<Finding>, Vec<Finding>) {
    let inc = &b.incident;
    let (mut well, mut poorly) = (Vec::new(), Vec::new());
    match inc.time_to_acknowledge_minutes {
        Some(m) if m <= cfg.ack_target_minutes => well.push(Finding::new(
            format!(
                "Acknowledged in {}, within the {}-minute target.",
                fmt_minutes(m),
                cfg.ack_target_minutes
            ),
            ids(&[trigger, ack]),
        )),
        Some(m) => poorly.push(Finding::new(
            format!(
                "Acknowledgement took {}, over the {}-minute target.",
                fmt_minutes(m),
                cfg.ack_target_minutes
            ),
            ids(&[trigger, ack]),
        )),
        None => poorly.push(Finding::new(
            "Nobody acknowledged the page.",
            ids(&[trigger]),
        )),
    }
    if let Some(m) = inc.time_to_resolve_minutes {
        let f = |word: &str| {
            format!(
                "Resolved in {}, {word} the {}-minute target.",
                fmt_minutes(m),
                cfg.resolve_target_minutes
            )
        };
        if m <= cfg.resolve_target_minutes {
            well.push(Finding::new(f("within"), ids(&[trigger, resolve])));
        } else {
            poorly.push(Finding::new(f("over"), ids(&[trigger, resolve])));
        }
    }
    let mut rollbacks = entries(b, |e| is_human(&e.kind) && reports_mitigation(&e.text));
    rollbacks.truncate(MAX_QUOTES);
    if !rollbacks.is_empty() {
        well.push(Finding::new(
            "Responders mitigated by rolling back the suspect change.",
            rollbacks,
        ));
    }
    let updates = entries(b, |e| e.kind == "status_update");
    if !updates.is_empty() {
        well.push(Finding::new(
            match updates.len() {
                1 => "Stakeholders were kept informed with a status update.".to_string(),
                n => format!("Stakeholders were kept informed with {n} status updates."),
            },
            updates,
        ));
    }
    let reopens = entries(b, |e| e.kind == "reopened");
    if !reopens.is_empty() {
        poorly.push(Finding::new(
            format!(
                "The incident was resolved too early and reopened {}.",
                times(reopens.len())
            ),
            reopens,
        ));
    }
    let escalations = entries(b, |e| e.kind == "escalated");
    if !escalations.is_empty() {
        poorly.push(Finding::new(
            format!("The page escalated {}.", times(escalations.len())),
            escalations,
        ));
    }
    (well, poorly)
}

/// "once", "twice", "3 times".
fn times(n: usize) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}
