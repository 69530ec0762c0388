//! The evidence drafter: writes every section from evidence alone. Each bullet cites the evidence
//! ids it rests on, or says plainly that there is no evidence for it. It never invents.

use std::collections::BTreeSet;

use super::chart::{self, Mark};
use super::rank::{Candidate, mentions_rollback, rank};
use crate::config::DraftingConfig;
use crate::domain::TimelineEntry;
use crate::domain::fmt_minutes;
use crate::domain::postmortem::*;
use crate::domain::{ChangeKind, fmt_time};
use crate::evidence::{Bundle, is_human};

/// Words in a responder's message that mark it as a diagnosis worth carrying into the postmortem.
const DIAGNOSTIC: &[&str] = &[
    "exhaust",
    "saturat",
    "timeout",
    "timed out",
    "leak",
    "overload",
    "spike",
    "lock",
    "contention",
    "backlog",
    "queue",
    "out of memory",
    "oom",
    "cpu",
    "disk",
    "because",
    "caused",
    "due to",
    "root cause",
    "found",
    "invent",
    "hallucinat",
    "stale",
    "corrupt",
    "staging",
    "locked",
];
const FOLLOW_UP: &[&str] = &[
    "follow up",
    "follow-up",
    "action item",
    "todo",
    "we should",
    "need to add",
    "should add",
];

fn contains_any(text: &str, words: &[&str]) -> bool {
    let t = text.to_lowercase();
    words.iter().any(|w| t.contains(w))
}

fn cite(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(" [{}]", ids.join(", "))
    }
}

fn clip(text: &str, max: usize) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() <= max {
        t
    } else {
        format!("{}…", t.chars().take(max).collect::<String>().trim_end())
    }
}

fn first_of<'a>(b: &'a Bundle, kind: &str) -> Option<&'a TimelineEntry> {
    b.timeline.iter().find(|e| e.kind == kind)
}

fn last_of<'a>(b: &'a Bundle, kind: &str) -> Option<&'a TimelineEntry> {
    b.timeline.iter().rev().find(|e| e.kind == kind)
}

fn ids(entries: &[Option<&TimelineEntry>]) -> Vec<String> {
    entries
        .iter()
        .flatten()
        .map(|e| e.evidence_id.clone())
        .collect()
}

/// Drafts a postmortem from the bundle. `start` is the incident's impact start (the first
/// trigger, or an earlier anomaly onset when metrics show one).
pub fn draft(b: &Bundle, cfg: &DraftingConfig, start: i64) -> Postmortem {
    let inc = &b.incident;
    let candidates = rank(&inc.service, start, &b.changes, &b.timeline);
    let top: Vec<&Candidate> = candidates.iter().take(cfg.max_hypotheses).collect();
    let trigger = first_of(b, "triggered");
    let ack = first_of(b, "acknowledged");
    let resolve = last_of(b, "resolved");

    let hypotheses: Vec<Hypothesis> = top
        .iter()
        .enumerate()
        .map(|(i, c)| Hypothesis {
            rank: i + 1,
            hypothesis: hypothesis_text(c, &inc.service),
            confidence: c.confidence,
            evidence_ids: c.evidence_ids(),
            supported: true,
            reasons: c.reasons.clone(),
        })
        .collect();

    let cited_changes: Vec<&str> = top.iter().map(|c| c.change.id.as_str()).collect();
    let timeline = b.merged_timeline(&cited_changes);

    let changes = b
        .changes_before()
        .into_iter()
        .rev()
        .map(|c| ChangeItem {
            evidence_id: c.evidence_id(),
            service: c.service.clone(),
            kind: c.kind.as_str().into(),
            summary: c.summary.clone(),
            at: fmt_time(c.at),
            version: c.version.clone(),
            author: c.author.clone(),
            url: c.url.clone(),
            minutes_before_trigger: round1((inc.triggered_at - c.at) as f64 / 60_000.0),
            lineage_path: c.lineage.as_ref().map(|l| l.path.clone()),
        })
        .collect();

    let anomalies = anomalies(b, &top);
    let (summary, summary_ids) = summary(b, &top, &anomalies, trigger, resolve);
    let impact = impact(b, start, &anomalies, trigger, ack, resolve);
    let (well, poorly) = response(b, cfg, trigger, ack, resolve);
    let factors = contributing_factors(b, start, &top);
    let actions = action_items(b, cfg, &top, ack);

    Postmortem {
        incident_id: inc.id.clone(),
        revision: 0,
        status: "draft".into(),
        drafter: "evidence".into(),
        model: None,
        prompt_version: None,
        generated_at: String::new(),
        evidence_hash: String::new(),
        trace_id: String::new(),
        title: inc.title.clone(),
        service: inc.service.clone(),
        severity: inc.severity.map(|s| s.to_string()),
        summary,
        summary_evidence_ids: summary_ids,
        impact,
        timeline,
        anomalies,
        metrics_missing: b.metrics_missing.clone(),
        changes,
        root_cause_hypotheses: hypotheses,
        contributing_factors: factors,
        what_went_well: well,
        what_went_poorly: poorly,
        action_items: actions,
        // Filled by the drafter from the similarity search.
        similar_incidents: Vec::new(),
        missing_evidence: b
            .metrics_missing
            .iter()
            .chain(&b.missing)
            .cloned()
            .collect(),
        provenance: Provenance {
            drafter: "evidence".into(),
            model: None,
            prompt_version: None,
            evidence_hash: String::new(),
            trace_id: String::new(),
            evidence_count: b.evidence_ids().len(),
            lineage_paths: top
                .iter()
                .filter_map(|c| {
                    let l = c.change.lineage.as_ref()?;
                    Some(format!("{}: {}", c.change.evidence_id(), l.path))
                })
                .collect(),
            lookback_hours: b.lookback_hours,
            ..Provenance::default()
        },
        markdown: String::new(),
    }
}

fn hypothesis_text(c: &Candidate, service: &str) -> String {
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
        None => format!("on {} (another service)", ch.service),
    };
    let mut s = format!(
        "The {} \"{}\"{version} {place}, {} before the start, caused the incident",
        ch.kind.noun(),
        ch.summary,
        fmt_minutes(c.minutes_before)
    );
    match (c.named_by.is_empty(), c.rolled_back_by.is_empty()) {
        (_, false) => s.push_str("; responders rolled it back"),
        (false, true) => s.push_str("; a responder names it"),
        _ => {}
    }
    s.push('.');
    s
}

fn anomalies(b: &Bundle, top: &[&Candidate]) -> Vec<AnomalyItem> {
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

fn summary(
    b: &Bundle,
    top: &[&Candidate],
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
    match top.first() {
        Some(c) if c.confidence >= 0.4 => {
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
        Some(c) => {
            s.push_str(&format!(
                " No change stands out as the cause; the best candidate, the {} \"{}\", has confidence {:.2}{}.",
                c.change.kind.noun(),
                c.change.summary,
                c.confidence,
                cite(&[c.change.evidence_id()])
            ));
            all.push(c.change.evidence_id());
        }
        None => s.push_str(&format!(
            " No change was recorded in the {} h before the start, so no cause could be ranked.",
            b.lookback_hours
        )),
    }
    dedup(&mut all);
    (s, all)
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

fn impact(
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

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn response(
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
    let rollbacks: Vec<String> = b
        .timeline
        .iter()
        .filter(|e| is_human(&e.kind) && mentions_rollback(&e.text))
        .take(MAX_QUOTES)
        .map(|e| e.evidence_id.clone())
        .collect();
    if !rollbacks.is_empty() {
        well.push(Finding::new(
            "Responders mitigated by rolling back the suspect change.",
            rollbacks,
        ));
    }
    let updates: Vec<String> = b
        .timeline
        .iter()
        .filter(|e| e.kind == "status_update")
        .map(|e| e.evidence_id.clone())
        .collect();
    if !updates.is_empty() {
        well.push(Finding::new(
            format!(
                "Stakeholders were kept informed with {} status update(s).",
                updates.len()
            ),
            updates,
        ));
    }
    let reopens: Vec<String> = b
        .timeline
        .iter()
        .filter(|e| e.kind == "reopened")
        .map(|e| e.evidence_id.clone())
        .collect();
    if !reopens.is_empty() {
        poorly.push(Finding::new(
            format!(
                "The incident was resolved too early and reopened {} time(s).",
                reopens.len()
            ),
            reopens,
        ));
    }
    let escalations: Vec<String> = b
        .timeline
        .iter()
        .filter(|e| e.kind == "escalated")
        .map(|e| e.evidence_id.clone())
        .collect();
    if !escalations.is_empty() {
        poorly.push(Finding::new(
            format!("The page escalated {} time(s).", escalations.len()),
            escalations,
        ));
    }
    (well, poorly)
}

/// How many responder messages a section quotes at most (a channel may hold thousands).
const MAX_QUOTES: usize = 8;

/// The responder messages that read most like a diagnosis: notes before chat, more diagnostic words
/// first, then time order.
fn diagnoses(b: &Bundle) -> Vec<&TimelineEntry> {
    let mut scored: Vec<(usize, &TimelineEntry)> = b
        .timeline
        .iter()
        .filter(|e| is_human(&e.kind) && e.kind != "status_update")
        .filter_map(|e| {
            let t = e.text.to_lowercase();
            let hits = DIAGNOSTIC.iter().filter(|w| t.contains(*w)).count();
            (hits > 0).then_some((hits + if e.kind == "note" { 2 } else { 0 }, e))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.at.cmp(&b.1.at)));
    let mut chosen: Vec<&TimelineEntry> = scored
        .into_iter()
        .take(MAX_QUOTES)
        .map(|(_, e)| e)
        .collect();
    chosen.sort_by_key(|e| e.at);
    chosen
}

fn contributing_factors(b: &Bundle, start: i64, top: &[&Candidate]) -> Vec<Finding> {
    let mut out: Vec<Finding> = diagnoses(b)
        .into_iter()
        .map(|e| {
            let who = e
                .author
                .as_deref()
                .map(|a| format!("{a}: "))
                .unwrap_or_default();
            Finding::new(
                format!("{who}\"{}\"", clip(&e.text, 240)),
                vec![e.evidence_id.clone()],
            )
        })
        .collect();
    let hour_before: Vec<String> = b
        .changes
        .iter()
        .filter(|c| c.service == b.incident.service && c.at <= start && start - c.at <= 3_600_000)
        .map(|c| c.evidence_id())
        .collect();
    if hour_before.len() >= 2 {
        out.push(Finding::new(
            format!(
                "{} changes landed on {} in the hour before the start, which makes the cause harder to isolate.",
                hour_before.len(),
                b.incident.service
            ),
            hour_before,
        ));
    }
    if let Some(c) = top
        .first()
        .filter(|c| c.confidence >= 0.4 && !c.same_service)
    {
        out.push(Finding::new(
            format!("The suspect change was made on another service ({}), outside the incident team's view.", c.change.service),
            vec![c.change.evidence_id()],
        ));
    }
    out
}

fn action_items(
    b: &Bundle,
    cfg: &DraftingConfig,
    top: &[&Candidate],
    ack: Option<&TimelineEntry>,
) -> Vec<ActionItem> {
    let inc = &b.incident;
    let mut out = Vec::new();
    let item = |text: String, evidence_ids: Vec<String>| ActionItem {
        text,
        owner: None,
        status: "open".into(),
        evidence_ids,
    };
    let mut kinds_done = BTreeSet::new();
    for c in top.iter().filter(|c| c.confidence >= 0.5).take(2) {
        if !kinds_done.insert(c.change.kind) {
            continue;
        }
        let s = &c.change.summary;
        let svc = &c.change.service;
        let text = match c.change.kind {
            ChangeKind::Config => format!(
                "Validate config changes like \"{s}\" before rollout (limits and schema checks in CI) and roll them out to {svc} through a canary with automatic rollback."
            ),
            ChangeKind::Deploy => format!(
                "Gate {svc} deploys on a canary that compares error rate and latency with the baseline and rolls back automatically (cause: \"{s}\")."
            ),
            ChangeKind::FeatureFlag => format!(
                "Roll out flag changes like \"{s}\" progressively (1% → 10% → 100%) with an error-rate guardrail and a kill switch."
            ),
            ChangeKind::Migration => format!(
                "Rehearse migrations like \"{s}\" on a production-sized copy and run them with lock and statement timeouts."
            ),
            ChangeKind::Infra => format!(
                "Apply infrastructure changes like \"{s}\" one zone at a time, with health checks gating the rest."
            ),
            ChangeKind::Data => {
                // Say "staging" only when the evidence shows a staging source.
                let path = c
                    .change
                    .lineage
                    .as_ref()
                    .map(|l| l.path.as_str())
                    .unwrap_or("");
                let staging = if s.contains("staging") || path.contains("staging") {
                    " (this one was built from a staging source)"
                } else {
                    ""
                };
                format!(
                    "Validate data versions before {svc} reads them (\"{s}\"): check their provenance{staging} and pin readers to a reviewed version."
                )
            }
            ChangeKind::Model => format!(
                "Gate model promotions like \"{s}\" on an offline evaluation and a shadow deployment."
            ),
            ChangeKind::Prompt => format!(
                "Version prompt templates (a new version for every change, unlike \"{s}\") and gate them on an evaluation set."
            ),
        };
        out.push(item(text, vec![c.change.evidence_id()]));
    }
    let human: Vec<&TimelineEntry> = b.timeline.iter().filter(|e| is_human(&e.kind)).collect();
    if let Some(first) = human
        .iter()
        .find(|e| contains_any(&e.text, &["exhaust", "saturat"]))
    {
        out.push(item(
            format!(
                "Alert on saturation before exhaustion (the responders found: \"{}\").",
                clip(&first.text, 160)
            ),
            vec![first.evidence_id.clone()],
        ));
    }
    for e in human
        .into_iter()
        .filter(|e| contains_any(&e.text, FOLLOW_UP))
        .take(MAX_QUOTES)
    {
        out.push(item(
            format!("Follow up: \"{}\".", clip(&e.text, 200)),
            vec![e.evidence_id.clone()],
        ));
    }
    if let Some(m) = inc
        .time_to_acknowledge_minutes
        .filter(|m| *m > cfg.ack_target_minutes)
    {
        out.push(item(
            format!(
                "Review paging and escalation for {}: acknowledgement took {} against a {}-minute target.",
                inc.service,
                fmt_minutes(m),
                cfg.ack_target_minutes
            ),
            ids(&[ack]),
        ));
    }
    if let Some(r) = b.timeline.iter().find(|e| e.kind == "reopened") {
        out.push(item(
            "Add a verification step (metrics back to baseline) before resolving; the incident reopened.".into(),
            vec![r.evidence_id.clone()],
        ));
    }
    out
}
