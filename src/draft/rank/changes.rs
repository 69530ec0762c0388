//! Changes as causes: which responders name, undo or rule out, and how close each sits to the
//! incident (its service, its time, its kind). A change scores a prior (where and when it landed,
//! what kind it is) plus the evidence the responders' words give for or against it.

use std::collections::{BTreeSet, HashMap};

use super::naming::{MessageIndex, loosely_names, mentions_kind, names, remedies};
use super::reading;
use crate::domain::postmortem::HypothesisKind;
use crate::domain::{Change, ChangeKind, Millis, TimelineEntry, fmt_minutes};

/// The prior's parts: where, when and what kind (their sum over a perfect candidate is 0.62).
const W_PLACE: f64 = 0.30;
const W_RECENCY: f64 = 0.20;
const W_KIND: f64 = 0.12;
/// The evidence's parts.
const W_UNDONE: f64 = 0.45;
const W_NAMED: f64 = 0.30;
const W_DISMISSED: f64 = 0.45;
/// A later change undoes or fixes it (a revert event, a hotfix of its version).
const W_REMEDIED: f64 = 0.30;
/// What remains of that evidence when the responders stated another cause after it.
const SUPERSEDED: f64 = 0.3;
/// Recency decays with this time constant: 30 min before → 0.85, 3 h → 0.37, 12 h → 0.02.
const RECENCY_TAU_MIN: f64 = 180.0;

#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub change: &'a Change,
    /// `change` on the incident's service, `upstream_change` elsewhere.
    pub kind: HypothesisKind,
    pub score: f64,
    pub confidence: f64,
    pub minutes_before: f64,
    pub same_service: bool,
    /// Human messages that name this change.
    pub named_by: Vec<String>,
    /// Human messages that report rolling it back.
    pub rolled_back_by: Vec<String>,
    /// Changes made after the start that undo or fix it (a revert, a hotfix of its version).
    pub remedied_by: Vec<String>,
    /// The responders stated another cause after everything said or done about this change
    /// ("rolled back 1.42, still 0 deliveries … found it: ENOSPC"), so that counts for less.
    pub superseded: bool,
    /// Human messages that say its service was failing (for a change on another service).
    pub upstream_by: Vec<String>,
    /// One of them says that service undid something.
    pub upstream_undone: bool,
    pub routine: bool,
    pub reasons: Vec<String>,
}

impl Candidate<'_> {
    /// Evidence ids: the change, then the messages that name it.
    pub fn evidence_ids(&self) -> Vec<String> {
        let mut ids = vec![self.change.evidence_id()];
        for id in self
            .rolled_back_by
            .iter()
            .chain(&self.remedied_by)
            .chain(&self.named_by)
            .chain(&self.upstream_by)
        {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids
    }
}

/// How risky a kind of change is as a cause.
pub fn kind_weight(kind: ChangeKind) -> f64 {
    match kind {
        ChangeKind::Config | ChangeKind::FeatureFlag | ChangeKind::Migration => 1.0,
        ChangeKind::Deploy => 0.9,
        ChangeKind::Data | ChangeKind::Model | ChangeKind::Prompt => 0.85,
        ChangeKind::Infra => 0.6,
    }
}

/// Words that mark a change as routine (docs, typos, dashboards…), whatever its kind.
const ROUTINE: &[&str] = &[
    "readme",
    "docs",
    "documentation",
    "typo",
    "comment",
    "changelog",
    "dashboard",
    "runbook",
    "lint",
    "formatting",
    "chore",
    "copy edit",
    "test-only",
    "tests only",
    "license",
];

pub fn is_routine(summary: &str) -> bool {
    let s = summary.to_lowercase();
    ROUTINE.iter().any(|w| s.contains(w))
}

/// What is known around the incident when its changes are scored.
pub struct Context<'r> {
    pub service: &'r str,
    /// The incident's start (its first trigger or an earlier anomaly onset), ms.
    pub start: Millis,
    /// The responders' messages, in time order.
    pub human: &'r [&'r TimelineEntry],
    /// Other services the responders say are failing: the messages, and whether one says the
    /// service undid a change.
    pub upstream: &'r HashMap<String, Upstream>,
    /// Services the incident's service depends on (configuration).
    pub depends_on: &'r [String],
    /// A cause that is not a change has strong support, so a change nobody points at weighs less.
    pub explained_otherwise: bool,
    /// A responder said no change of ours caused it: a change nobody points at weighs less still.
    pub no_change_stated: bool,
    /// When the responders last stated a cause that is not a change (strongly enough to explain
    /// the incident), ms: what was said of a change before that is superseded.
    pub other_cause_stated_at: Option<Millis>,
}

/// What the responders say about another service.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub evidence: Vec<String>,
    pub undone: bool,
}

/// Scores the changes that landed before the start, in no particular order. Changes after the
/// start cannot have started the incident and are left out, as are non-production deployments.
pub fn score<'a>(cx: &Context<'_>, changes: &'a [Change]) -> Vec<Candidate<'a>> {
    let index = MessageIndex::new(cx.human.iter().map(|e| e.text.as_str()));
    let before: Vec<&Change> = changes
        .iter()
        .filter(|c| c.at <= cx.start && c.production)
        .collect();
    let named: Vec<BTreeSet<u32>> = before
        .iter()
        .map(|c| index.naming_among(c, &before))
        .collect();
    let said = Said::read(cx.human, &named, &before);
    let after: Vec<&Change> = changes.iter().filter(|c| c.at > cx.start).collect();
    before
        .iter()
        .zip(&named)
        .map(|(c, by)| {
            let mut w = words_about(cx, c, &before, &said, by);
            let fixes: Vec<&&Change> = after.iter().filter(|r| remedies(r, c, &before)).collect();
            w.remedied_by = fixes.iter().map(|r| r.evidence_id()).collect();
            w.remedied_at = fixes.iter().map(|r| r.at).max();
            candidate(cx, c, &w)
        })
        .collect()
}

/// What one responder message says, read once for every change it may be about.
struct Said {
    dismisses: bool,
    /// Reports undoing something (not ruled out, not asked or guessed).
    undoes: bool,
    hedged: bool,
    refers_back: bool,
    /// Names one of the changes.
    names_a_change: bool,
    /// The last message naming a change among the three before it.
    last_named: Option<u32>,
    /// Undoes, and it or the next two messages say nothing got better.
    undone_in_vain: bool,
    /// Owns up to a change ("my bad").
    admits: bool,
    /// Its clauses that rule out or clear something, each with the changes (indices into the
    /// changes before the start) it names or loosely points at.
    ruling_out: Vec<(String, BTreeSet<usize>)>,
}

impl Said {
    fn read(human: &[&TimelineEntry], named: &[BTreeSet<u32>], before: &[&Change]) -> Vec<Said> {
        let names = |i: u32| named.iter().any(|n| n.contains(&i));
        let no_better: Vec<bool> = human.iter().map(|e| reading::no_better(&e.text)).collect();
        human
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let dismisses = reading::dismisses(&e.text) || reading::exonerates(&e.text);
                let hedged = reading::hedged(&e.text);
                let undoes = reading::undoes(&e.text) && !dismisses && !hedged;
                Said {
                    dismisses,
                    undoes,
                    hedged,
                    refers_back: reading::refers_back(&e.text),
                    names_a_change: names(i as u32),
                    last_named: (0..i as u32).rev().take(3).find(|&j| names(j)),
                    undone_in_vain: undoes && no_better[i..].iter().take(3).any(|b| *b),
                    admits: reading::admits_fault(&e.text),
                    ruling_out: if dismisses {
                        ruling_out(&e.text, before)
                    } else {
                        vec![]
                    },
                }
            })
            .collect()
    }
}

/// The clauses of `text` that rule out or clear something, each with the changes of `before` it
/// names or loosely points at (read once per message, not once per change).
fn ruling_out(text: &str, before: &[&Change]) -> Vec<(String, BTreeSet<usize>)> {
    reading::clauses(text)
        .into_iter()
        .filter(|cl| reading::dismisses(cl) || reading::exonerates(cl))
        .map(|cl| {
            let about = before
                .iter()
                .enumerate()
                .filter(|(_, o)| names(cl, o) || loosely_names(cl, o, before, true))
                .map(|(i, _)| i)
                .collect();
            (cl.to_string(), about)
        })
        .collect()
}

/// The messages that undo, name or rule out one change: those naming it; those that rule out
/// or undo something they loosely point at; those that point back ("that", "it", "the
/// migration") at a message naming it just before; and an undo of "the prompt" (its kind) when it
/// is the latest of its kind on the incident's service.
fn words_about(
    cx: &Context<'_>,
    c: &Change,
    before: &[&Change],
    said: &[Said],
    by: &BTreeSet<u32>,
) -> Words {
    let mut w = Words::default();
    let latest_of_kind = c.service == cx.service
        && before
            .iter()
            .filter(|o| o.service == cx.service && o.kind == c.kind)
            .all(|o| o.at <= c.at);
    let artifact = artifact(c);
    let latest_of_artifact = before
        .iter()
        .filter(|o| self::artifact(o) == artifact)
        .all(|o| o.at <= c.at);
    // This change's place among `before`, as the ruling-out clauses name changes.
    let own = before
        .iter()
        .position(|o| o.id == c.id)
        .unwrap_or(usize::MAX);
    for (i, (e, m)) in cx.human.iter().zip(said).enumerate() {
        let i = i as u32;
        let text = &e.text;
        let names_it = by.contains(&i);
        let other = !m.names_a_change;
        // "that"/"it" point at the message just before; "the migration" at one of the last three;
        // a bare "reverting" undoes what was named last, in the three messages before.
        let pointed_back = other
            && (i > 0 && by.contains(&(i - 1)) && m.refers_back
                || (0..i).rev().take(3).any(|j| by.contains(&j)) && mentions_kind(text, c.kind)
                || m.undoes && m.last_named.is_some_and(|j| by.contains(&j)));
        // Ruling out spreads by a loose word only when nothing named just before is its subject.
        let loose = other
            && (m.dismisses && m.last_named.is_none() || m.undoes)
            && loosely_names(text, c, before, m.dismisses);
        // "my bad" owns the change named just before.
        let admitted = other && m.admits && m.last_named.is_some_and(|j| by.contains(&j));
        // "their release" of another service is not this service's release.
        let about_other_service = cx
            .upstream
            .iter()
            .any(|(s, u)| *s != c.service && u.evidence.contains(&e.evidence_id));
        let of_kind = other
            && !about_other_service
            && m.undoes
            && latest_of_kind
            && mentions_kind(text, c.kind);
        // "rolling back to recs-ranker@v41" undoes the recs-ranker change before it.
        let of_artifact = m.undoes
            && latest_of_artifact
            && artifact
                .as_ref()
                .is_some_and(|a| text.to_lowercase().contains(a));
        if !(names_it || pointed_back || loose || of_kind || of_artifact || admitted) {
            continue;
        }
        let id = e.evidence_id.clone();
        // "2.2.0 went out 7:08 but this is dns": named only before a "but" that says what it is
        // instead, it is set aside.
        let set_aside = names_it && !m.undoes && {
            let lower = text.to_lowercase();
            lower
                .split_once(" but ")
                .is_some_and(|(before_but, after_but)| {
                    names(before_but, c) && !names(after_but, c) && reading::says_instead(after_but)
                })
        };
        // A message that names the change rules it out only in a clause that names it ("the
        // outage was the LB; bnpl + fraud deploy not involved" rules out only those two).
        // A ruling-out clause that names no change is about the message's subject.
        let dismisses = set_aside
            || m.ruling_out.iter().any(|(cl, about)| {
                about.contains(&own)
                    || about.iter().all(|&o| o == own)
                        && (names_it
                            || loose
                            || reading::refers_back(cl)
                            || mentions_kind(cl, c.kind)
                            || !(pointed_back || of_kind || of_artifact))
            });
        if dismisses || m.undone_in_vain {
            w.dismissed_by.push(id);
        } else if m.undoes && !m.hedged {
            w.rolled_back_by.push(id);
        } else if (names_it || admitted) && !m.hedged {
            w.named_by.push(id);
        }
    }
    w
}

/// What a version names apart from its number: `recs-ranker` of `recs-ranker@v42`.
fn artifact(c: &Change) -> Option<String> {
    let v = c.version.as_deref()?.to_lowercase();
    let (name, _) = v.split_once(['@', ':'])?;
    (name.len() >= 4).then(|| name.to_string())
}

#[derive(Default)]
struct Words {
    named_by: Vec<String>,
    rolled_back_by: Vec<String>,
    dismissed_by: Vec<String>,
    remedied_by: Vec<String>,
    remedied_at: Option<Millis>,
}

fn candidate<'a>(cx: &Context<'_>, c: &'a Change, w: &Words) -> Candidate<'a> {
    let service = cx.service;
    let minutes_before = (cx.start - c.at) as f64 / 60_000.0;
    let same_service = c.service == service;
    let routine = is_routine(&c.summary);
    // A change a responder ruled out (and nobody undid or named again after) is not "named".
    // An undo ruled out after it ("rolled back, still failing. not the deploy") counts for nothing;
    // ruling out followed by an undo or a naming is overturned.
    let last_dismissal = w.dismissed_by.last().map(|d| position(cx, d));
    let after_dismissal = |ids: &[String]| {
        ids.iter()
            .any(|n| last_dismissal.is_some_and(|d| position(cx, n) > d))
    };
    let dismissed = last_dismissal.is_some()
        && !after_dismissal(&w.rolled_back_by)
        && !after_dismissal(&w.named_by);
    let named_by = if dismissed {
        vec![]
    } else {
        w.named_by.clone()
    };
    let undone = !w.rolled_back_by.is_empty() && !dismissed;
    let up = cx.upstream.get(&c.service).filter(|_| !same_service);
    let upstream_evidence = up.map_or(0.0, |u| {
        0.2 + 0.1 * (u.evidence.len().min(3) as f64 - 1.0) + if u.undone { 0.2 } else { 0.0 }
    });
    // Being on the service, upstream of it (lineage, configuration, the responders' words) ties
    // a change to the incident; other services' changes only weakly.
    let upstream_known = up.is_some() || cx.depends_on.contains(&c.service);
    let place = match &c.lineage {
        Some(l) => match l.hops {
            0 | 1 => 1.0,
            2 => 0.75,
            _ => 0.55,
        },
        None if same_service => 1.0,
        None if upstream_known => 0.6,
        None => 0.15,
    };
    let recency = (-minutes_before / RECENCY_TAU_MIN).exp();
    let kind = kind_weight(c.kind) * if routine { 0.3 } else { 1.0 };
    let mut prior = W_PLACE * place + W_RECENCY * recency + W_KIND * kind;
    let remedied = !w.remedied_by.is_empty() && !dismissed;
    // When the messages `ids` were sent: the first and the last.
    let times = |ids: &[String]| -> Vec<Millis> {
        cx.human
            .iter()
            .filter(|e| ids.contains(&e.evidence_id))
            .map(|e| e.at)
            .collect()
    };
    let said_at = |ids: &[String]| times(ids).into_iter().max();
    let first_said_at = |ids: &[String]| times(ids).into_iter().min();
    let upstream_said: Vec<String> = cx
        .upstream
        .get(&c.service)
        .filter(|_| c.service != cx.service)
        .map(|u| u.evidence.clone())
        .unwrap_or_default();
    let first_support = [
        first_said_at(&w.rolled_back_by),
        first_said_at(&named_by),
        first_said_at(&upstream_said),
        w.remedied_at.filter(|_| remedied),
    ]
    .into_iter()
    .flatten()
    .min();
    // Another cause stated after the change first came up supersedes it, unless a responder
    // undid the change after that statement (then the statement was the dead end).
    let superseded = match (first_support, cx.other_cause_stated_at) {
        (Some(s), Some(o)) => o > s && said_at(&w.rolled_back_by).is_none_or(|u| u < o),
        _ => false,
    };
    let direct =
        (undone || remedied || !named_by.is_empty() || upstream_evidence > 0.0) && !superseded;
    if cx.no_change_stated && !direct {
        prior *= 0.4;
    } else if cx.explained_otherwise && !direct {
        prior *= 0.6;
    }
    let evidence = if undone {
        W_UNDONE
    } else if !named_by.is_empty() {
        W_NAMED + 0.05 * (named_by.len().min(3) - 1) as f64
    } else {
        0.0
    } + if remedied { W_REMEDIED } else { 0.0 };
    // Its service failing under ours counts for less too once another cause was stated after,
    // unless that service undid something.
    let upstream_evidence = if superseded && !up.is_some_and(|u| u.undone) {
        upstream_evidence * SUPERSEDED
    } else {
        upstream_evidence
    };
    let evidence = if superseded {
        evidence * SUPERSEDED
    } else {
        evidence
    } - if dismissed { W_DISMISSED } else { 0.0 }
        + upstream_evidence;
    let score = prior + evidence;
    let upstream_by = up.map(|u| u.evidence.clone()).unwrap_or_default();
    let reasons = reasons(
        cx,
        c,
        minutes_before,
        same_service,
        routine,
        w,
        dismissed,
        superseded,
        &upstream_by,
    );
    let kind = match &c.lineage {
        Some(l) if l.hops > 0 => HypothesisKind::UpstreamChange,
        None if !same_service => HypothesisKind::UpstreamChange,
        _ => HypothesisKind::Change,
    };
    Candidate {
        change: c,
        kind,
        score,
        confidence: 0.0,
        minutes_before,
        same_service,
        named_by,
        rolled_back_by: w.rolled_back_by.clone(),
        remedied_by: w.remedied_by.clone(),
        superseded,
        upstream_undone: up.is_some_and(|u| u.undone),
        upstream_by,
        routine,
        reasons,
    }
}

/// Where a message stands among the responders' messages.
fn position(cx: &Context<'_>, evidence_id: &str) -> usize {
    cx.human
        .iter()
        .position(|e| e.evidence_id == evidence_id)
        .unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
fn reasons(
    cx: &Context<'_>,
    c: &Change,
    minutes_before: f64,
    same_service: bool,
    routine: bool,
    w: &Words,
    dismissed: bool,
    superseded: bool,
    upstream_by: &[String],
) -> Vec<String> {
    let service = cx.service;
    let mut reasons = vec![format!(
        "landed {} before the start",
        fmt_minutes(minutes_before)
    )];
    reasons.push(match &c.lineage {
        Some(l) if l.hops == 0 => format!("seen in {service}'s own runs: {}", l.path),
        Some(l) => format!(
            "upstream of {service} through lineage ({} hop{}): {}",
            l.hops,
            if l.hops == 1 { "" } else { "s" },
            l.path
        ),
        None if same_service => format!("on the incident's service ({service})"),
        None if cx.depends_on.contains(&c.service) => {
            format!("on {}, which {service} depends on", c.service)
        }
        None => format!("on another service ({})", c.service),
    });
    if !upstream_by.is_empty() {
        reasons.push(format!(
            "responders say {} was failing ({})",
            c.service,
            upstream_by.join(", ")
        ));
    }
    if !w.rolled_back_by.is_empty() {
        reasons.push(format!(
            "a responder reports undoing it ({})",
            w.rolled_back_by.join(", ")
        ));
    }
    if !w.remedied_by.is_empty() {
        reasons.push(format!(
            "a later change undoes or fixes it ({})",
            w.remedied_by.join(", ")
        ));
    }
    if !w.named_by.is_empty() && !dismissed {
        reasons.push(format!("a responder names it ({})", w.named_by.join(", ")));
    }
    if superseded {
        reasons.push("the responders stated another cause after it".into());
    }
    if dismissed {
        reasons.push(format!(
            "a responder ruled it out ({})",
            w.dismissed_by.join(", ")
        ));
    }
    reasons.push(if routine {
        format!("routine {} (its summary reads as low-risk)", c.kind.noun())
    } else {
        format!("{} (a risky kind of change)", c.kind.noun())
    });
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::rank::naming::names;

    const T0: Millis = 1_800_000_000_000;
    const MIN: Millis = 60_000;

    fn change(
        id: &str,
        service: &str,
        kind: ChangeKind,
        summary: &str,
        minutes_before: i64,
    ) -> Change {
        Change {
            version: Some(format!("v-{id}")),
            ..Change::new(id, service, kind, summary, T0 - minutes_before * MIN)
        }
    }

    fn note(id: &str, text: &str) -> TimelineEntry {
        TimelineEntry {
            incident_id: "P1".into(),
            evidence_id: format!("pagerduty:{id}"),
            at: T0 + 10 * MIN,
            source: "pagerduty".into(),
            kind: "note".into(),
            author: None,
            text: text.into(),
            thread: None,
            raw: None,
        }
    }

    fn rank<'a>(
        service: &'a str,
        start: Millis,
        changes: &'a [Change],
        timeline: &'a [TimelineEntry],
    ) -> Vec<Candidate<'a>> {
        super::super::rank(&super::super::Incident {
            service,
            start,
            changes,
            timeline,
            depends_on: &[],
        })
        .into_iter()
        .filter_map(|c| c.change)
        .collect()
    }

    fn top(changes: &[Change], timeline: &[TimelineEntry]) -> String {
        rank("svc", T0, changes, timeline)[0].change.id.clone()
    }

    #[test]
    fn a_recent_change_on_the_service_beats_an_older_one() {
        let cs = [
            change("old", "svc", ChangeKind::Deploy, "Add retry metrics", 600),
            change(
                "recent",
                "svc",
                ChangeKind::Deploy,
                "Bump client library",
                20,
            ),
        ];
        assert_eq!(top(&cs, &[]), "recent");
    }

    #[test]
    fn the_service_own_change_beats_a_closer_change_elsewhere() {
        let cs = [
            change("ours", "svc", ChangeKind::Deploy, "Bump client library", 40),
            change("theirs", "other", ChangeKind::Config, "Tune cache size", 3),
        ];
        assert_eq!(top(&cs, &[]), "ours");
    }

    #[test]
    fn changes_after_the_start_are_never_candidates() {
        let cs = [
            change(
                "before",
                "svc",
                ChangeKind::Deploy,
                "Bump client library",
                300,
            ),
            change("after", "svc", ChangeKind::Config, "Raise pool size", -5),
        ];
        let r = rank("svc", T0, &cs, &[]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].change.id, "before");
    }

    #[test]
    fn a_responder_naming_a_change_outranks_recency() {
        let cs = [
            change(
                "named",
                "svc",
                ChangeKind::Deploy,
                "Raise DB statement timeout",
                300,
            ),
            change("recent", "svc", ChangeKind::Config, "Tune cache size", 5),
        ];
        let notes = [note("n1", "Pool is exhausted; rolling back v-named now")];
        let r = rank("svc", T0, &cs, &notes);
        assert_eq!(r[0].change.id, "named");
        assert_eq!(r[0].rolled_back_by, vec!["pagerduty:n1"]);
        assert!(r[0].confidence > r[1].confidence);
        assert!(r[0].evidence_ids().contains(&"pagerduty:n1".to_string()));
    }

    #[test]
    fn a_risky_kind_beats_a_routine_change_at_a_similar_time() {
        let cs = [
            change("docs", "svc", ChangeKind::Deploy, "Fix typo in README", 10),
            change(
                "flag",
                "svc",
                ChangeKind::FeatureFlag,
                "Enable new checkout flow",
                25,
            ),
        ];
        assert_eq!(top(&cs, &[]), "flag");
    }

    #[test]
    fn naming_needs_the_id_version_or_most_of_the_summary() {
        let c = change(
            "deploy-4821",
            "svc",
            ChangeKind::Deploy,
            "Raise DB statement timeout 5s -> 30s",
            30,
        );
        assert!(names("rolling back deploy-4821", &c));
        assert!(names("v-deploy-4821 is bad", &c));
        assert!(names(
            "the raise of the db statement timeout to 30s looks wrong",
            &c
        ));
        assert!(!names("db is slow", &c));
        let v = Change {
            version: Some("v1.42".into()),
            ..c.clone()
        };
        assert!(names("rolled back v1.42.", &v));
        assert!(!names("rolled back v1.42.0", &v));
        assert!(
            !names("rolling back deploy-9 to v1.42", &v),
            "a rollback target is not the culprit"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_minutes(45.0), "45 min");
        assert_eq!(fmt_minutes(125.0), "2 h 5 min");
        assert_eq!(fmt_minutes(60.0 * 27.0), "1 d 3 h");
    }
}
