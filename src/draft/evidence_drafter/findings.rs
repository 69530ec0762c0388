//! What responders found and what follows: their diagnoses quoted, contributing factors and
//! action items.

use crate::config::DraftingConfig;
use crate::domain::TimelineEntry;
use crate::domain::fmt_minutes;
use crate::domain::postmortem::*;
use crate::domain::{ActionItem, Change, ChangeKind};
use crate::draft::rank::Candidate;
use crate::evidence::{Bundle, is_human};
use std::collections::BTreeSet;

use super::*;

/// How many responder messages a section quotes at most (a channel may hold thousands).
pub(super) const MAX_QUOTES: usize = 8;

/// The responder messages that read most like a diagnosis: notes before chat, more diagnostic words
/// first, then time order.
pub(super) fn diagnoses(b: &Bundle) -> Vec<&TimelineEntry> {
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

pub(super) fn contributing_factors(b: &Bundle, start: i64, top: &[&Candidate]) -> Vec<Finding> {
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

/// What would have stopped a change of this kind from causing the incident.
fn remedy(change: &Change) -> String {
    let s = &change.summary;
    let svc = &change.service;
    match change.kind {
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
            let path = change
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
    }
}

pub(super) fn action_items(
    b: &Bundle,
    cfg: &DraftingConfig,
    top: &[&Candidate],
    ack: Option<&TimelineEntry>,
) -> Vec<ActionItem> {
    let inc = &b.incident;
    let mut out = Vec::new();
    let item = ActionItem::new;
    let mut kinds_done = BTreeSet::new();
    for c in top.iter().filter(|c| c.confidence >= 0.5).take(2) {
        if !kinds_done.insert(c.change.kind) {
            continue;
        }
        out.push(item(remedy(c.change), vec![c.change.evidence_id()]));
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
