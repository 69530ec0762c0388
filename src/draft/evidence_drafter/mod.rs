//! The evidence drafter: writes every section from evidence alone. Each bullet cites the evidence
//! ids it rests on, or says plainly that there is no evidence for it. It never invents.

mod findings;
mod narrative;

use findings::*;
use narrative::*;

use crate::config::DraftingConfig;
use crate::domain::TimelineEntry;
use crate::domain::fmt_time;
use crate::domain::postmortem::*;
use crate::draft::rank::{self, Candidate, Cause};
use crate::evidence::Bundle;

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

/// The changes in the lookback window, latest first, as the document lists them.
fn change_items(b: &Bundle) -> Vec<ChangeItem> {
    let inc = &b.incident;
    b.changes_before()
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
            environment: c.environment.clone(),
            production: c.production,
        })
        .collect()
}

/// How the evidence drafter made this draft (the drafting service fills in hash, trace and time).
fn provenance(b: &Bundle, top: &[&Candidate]) -> Provenance {
    Provenance {
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
    }
}

/// Drafts a postmortem from the bundle. `start` is the incident's impact start (the first
/// trigger, or an earlier anomaly onset when metrics show one).
pub fn draft(b: &Bundle, cfg: &DraftingConfig, start: i64) -> Postmortem {
    let inc = &b.incident;
    let causes = rank::rank(&rank::Incident {
        service: &inc.service,
        start,
        changes: &b.changes,
        timeline: &b.timeline,
        depends_on: &b.depends_on,
    });
    let leading: Vec<&Cause> = causes.iter().take(cfg.max_hypotheses).collect();
    // The changes among the leading causes: what the sections about changes speak of.
    let top: Vec<&Candidate> = leading.iter().filter_map(|c| c.change.as_ref()).collect();
    let trigger = first_of(b, "triggered");
    let ack = first_of(b, "acknowledged");
    let resolve = last_of(b, "resolved");

    let hypotheses: Vec<Hypothesis> = leading
        .iter()
        .enumerate()
        .map(|(i, c)| Hypothesis {
            rank: i + 1,
            kind: c.kind,
            hypothesis: cause_text(c, &inc.service),
            confidence: c.confidence,
            evidence_ids: c.evidence_ids(),
            supported: !c.evidence_ids().is_empty(),
            reasons: c.reasons.clone(),
        })
        .collect();

    // Every change a leading hypothesis cites (the culprit, a later change that undid it, a
    // scale-up that says it was load) is in the timeline, so every citation resolves.
    let cited: Vec<&String> = hypotheses.iter().flat_map(|h| &h.evidence_ids).collect();
    let cited_changes: Vec<&str> = b
        .changes
        .iter()
        .filter(|c| cited.contains(&&c.evidence_id()))
        .map(|c| c.id.as_str())
        .collect();
    // The draft is read: Slack's raw text stays with the evidence (the timeline API), not here.
    let timeline: Vec<_> = b
        .merged_timeline(&cited_changes)
        .into_iter()
        .map(|e| TimelineEntry { raw: None, ..e })
        .collect();

    let changes = change_items(b);

    let anomalies = anomalies(b, &top);
    let (summary, summary_ids) = summary(b, leading.first().copied(), &anomalies, trigger, resolve);
    let impact = impact(b, start, &anomalies, trigger, ack, resolve);
    let (well, poorly) = response(b, cfg, trigger, ack, resolve);
    let factors = contributing_factors(b, start, &top);
    let actions = action_items(b, cfg, &top, ack);

    Postmortem {
        header: RevisionHeader::draft(inc.id.clone(), "evidence"),
        generated_at: String::new(),
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
        provenance: provenance(b, &top),
        markdown: String::new(),
    }
}
