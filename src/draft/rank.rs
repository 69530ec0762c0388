//! Root-cause ranking. A candidate is a change that landed before the incident's start (the first
//! trigger, or an earlier anomaly onset). It scores on four things, strongest first:
//! a responder's message that names it or its rollback, being on the incident's own service, how
//! shortly before the start it landed, and how risky its kind is.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::domain::TimelineEntry;
use crate::domain::{Change, fmt_minutes};
use crate::domain::{ChangeKind, Millis};
use crate::evidence::is_human;

/// Weights of the score's parts (their sum over a perfect candidate is about 1.15).
const W_NAMED: f64 = 0.45;
/// Taken off a change a responder ruled out.
const W_DISMISSED: f64 = 0.10;
const W_SERVICE: f64 = 0.30;
const W_RECENCY: f64 = 0.25;
const W_KIND: f64 = 0.15;
/// Recency decays with this time constant: 30 min before → 0.85, 3 h → 0.37, 12 h → 0.02.
const RECENCY_TAU_MIN: f64 = 180.0;

#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub change: &'a Change,
    pub score: f64,
    pub confidence: f64,
    pub minutes_before: f64,
    pub same_service: bool,
    /// Human messages that name this change.
    pub named_by: Vec<String>,
    /// Human messages that report rolling it back.
    pub rolled_back_by: Vec<String>,
    pub routine: bool,
    pub reasons: Vec<String>,
}

impl Candidate<'_> {
    /// Evidence ids: the change, then the messages that name it.
    pub fn evidence_ids(&self) -> Vec<String> {
        let mut ids = vec![self.change.evidence_id()];
        for id in self.named_by.iter().chain(&self.rolled_back_by) {
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

const ROLLBACK: &[&str] = &[
    "roll back",
    "rolled back",
    "rolling back",
    "rollback",
    "revert",
    "reverted",
    "reverting",
    "undo",
];

/// Words with which a responder rules a change out ("don't think so: that went out after…").
const DISMISS: &[&str] = &[
    "don't think",
    "dont think",
    "do not think",
    "not it",
    "not the cause",
    "not the culprit",
    "ruled out",
    "rule out",
    "ruling out",
    "unrelated",
    "not related",
    "red herring",
    "isn't the",
    "wasn't the",
    "can't be",
    "cannot be",
];

pub fn dismisses(text: &str) -> bool {
    let s = text.to_lowercase();
    DISMISS.iter().any(|w| s.contains(w))
}

const STOP: &[&str] = &[
    "the", "and", "for", "from", "with", "into", "to", "on", "in", "of", "a", "an", "by", "at",
    "is", "was", "new", "add", "update", "change", "set",
];

/// Whole tokens keep `._-:@/` (`deploy-4821`, `v1.42.0`, `fees_corpus@commit:abc`); fine tokens split
/// those too, except `.` and `_` (`fees_corpus`, `4821`). Both lower-cased.
fn whole_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || "._-:@/".contains(c)))
        .map(|t| t.trim_matches(|c: char| ".:-/@".contains(c)))
        .filter(|t| t.len() >= 2)
        .map(str::to_lowercase)
}

fn fine_tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.len() >= 2 && !STOP.contains(t))
        .map(str::to_string)
        .collect()
}

/// Responder messages indexed by token, so finding the messages that name a change costs the
/// postings of that change's tokens, not a pass over every message.
pub struct MessageIndex {
    lower: Vec<String>,
    postings: HashMap<String, Vec<u32>>,
}

impl MessageIndex {
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut lower = Vec::new();
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, text) in texts.into_iter().enumerate() {
            let mut seen = HashSet::new();
            for t in whole_tokens(text).chain(fine_tokens(text)) {
                if seen.insert(t.clone()) {
                    postings.entry(t).or_default().push(i as u32);
                }
            }
            lower.push(text.to_lowercase());
        }
        Self { lower, postings }
    }

    fn posting(&self, token: &str) -> &[u32] {
        self.postings.get(token).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Messages holding every whole token of `phrase`, confirmed by `check` on the text.
    fn phrase(&self, phrase: &str, check: impl Fn(&str) -> bool) -> Vec<u32> {
        let toks: Vec<String> = whole_tokens(phrase).collect();
        let Some(first) = toks.first() else {
            return vec![];
        };
        self.posting(first)
            .iter()
            .copied()
            .filter(|&i| {
                toks[1..]
                    .iter()
                    .all(|t| self.posting(t).binary_search(&i).is_ok())
            })
            .filter(|&i| check(&self.lower[i as usize]))
            .collect()
    }

    /// Messages that name the change: its id, its version, or most of its summary.
    pub fn naming(&self, c: &Change) -> BTreeSet<u32> {
        let mut out = BTreeSet::new();
        let id = c.id.to_lowercase();
        if id.len() >= 4 {
            out.extend(self.phrase(&id, |t| t.contains(&id)));
        }
        if let Some(v) = c
            .version
            .as_deref()
            .map(str::to_lowercase)
            .filter(|v| v.len() >= 3)
        {
            // "rolled back to v1.41.3" names v1.41.3 as the target, not the culprit.
            let target = format!("to {v}");
            out.extend(self.phrase(&v, |t| t.contains(&v) && !t.contains(&target)));
        }
        let summary = c.summary.to_lowercase();
        out.extend(self.phrase(&summary, |t| t.contains(&summary)));
        let want: BTreeSet<String> = fine_tokens(&c.summary).into_iter().collect();
        if want.len() >= 2 {
            let mut hits: HashMap<u32, usize> = HashMap::new();
            for w in &want {
                for &i in self.posting(w) {
                    *hits.entry(i).or_default() += 1;
                }
            }
            out.extend(
                hits.into_iter()
                    .filter(|&(_, n)| n >= 3 && n as f64 / want.len() as f64 >= 0.6)
                    .map(|(i, _)| i),
            );
        }
        out
    }
}

/// Does `text` name the change: its id, its version, or most of its summary?
pub fn names(text: &str, c: &Change) -> bool {
    !MessageIndex::new([text]).naming(c).is_empty()
}

pub fn mentions_rollback(text: &str) -> bool {
    let s = text.to_lowercase();
    ROLLBACK.iter().any(|w| s.contains(w))
}

/// Ranks the changes that landed before `start` (the first trigger or an earlier anomaly onset),
/// best first. Changes after `start` cannot have started the incident and are left out.
pub fn rank<'a>(
    service: &str,
    start: Millis,
    changes: &'a [Change],
    timeline: &[TimelineEntry],
) -> Vec<Candidate<'a>> {
    let human: Vec<(&TimelineEntry, bool)> = timeline
        .iter()
        .filter(|e| is_human(&e.kind))
        .map(|e| (e, mentions_rollback(&e.text)))
        .collect();
    let index = MessageIndex::new(human.iter().map(|(e, _)| e.text.as_str()));
    let mut out: Vec<Candidate<'a>> = changes
        .iter()
        .filter(|c| c.at <= start)
        .map(|c| {
            let minutes_before = (start - c.at) as f64 / 60_000.0;
            let same_service = c.service == service;
            let mut named_by = Vec::new();
            let mut rolled_back_by = Vec::new();
            let mut dismissed_by = Vec::new();
            for i in index.naming(c) {
                let (e, rollback) = human[i as usize];
                if rollback {
                    rolled_back_by.push(e.evidence_id.clone());
                } else if dismisses(&e.text) {
                    dismissed_by.push(e.evidence_id.clone());
                } else {
                    named_by.push(e.evidence_id.clone());
                }
            }
            let routine = is_routine(&c.summary);
            // A change a responder ruled out (and nobody rolled back) is not "named".
            let dismissed = !dismissed_by.is_empty() && rolled_back_by.is_empty();
            if dismissed {
                named_by.clear();
            }
            let named = !named_by.is_empty() || !rolled_back_by.is_empty();
            let recency = (-minutes_before / RECENCY_TAU_MIN).exp();
            let kind = kind_weight(c.kind) * if routine { 0.3 } else { 1.0 };
            // Being on the service, or upstream of it through lineage, ties a change to the
            // incident; other services' changes only weakly.
            let proximity = match &c.lineage {
                Some(l) => match l.hops {
                    0 | 1 => 1.0,
                    2 => 0.75,
                    _ => 0.55,
                },
                None if same_service => 1.0,
                None => 0.15,
            };
            let score = W_NAMED * f64::from(u8::from(named))
                - W_DISMISSED * f64::from(u8::from(dismissed))
                + W_SERVICE * proximity
                + W_RECENCY * recency
                + W_KIND * kind;
            let mut reasons = vec![format!(
                "landed {} before the start",
                fmt_minutes(minutes_before)
            )];
            reasons.push(match &c.lineage {
                Some(l) if l.hops == 0 => format!("seen in {service}'s own runs: {}", l.path),
                Some(l) => format!(
                    "upstream of {service} through lineage ({} hop(s)): {}",
                    l.hops, l.path
                ),
                None if same_service => format!("on the incident's service ({service})"),
                None => format!("on another service ({})", c.service),
            });
            if !rolled_back_by.is_empty() {
                reasons.push(format!(
                    "a responder reports rolling it back ({})",
                    rolled_back_by.join(", ")
                ));
            }
            if !named_by.is_empty() {
                reasons.push(format!("a responder names it ({})", named_by.join(", ")));
            }
            if dismissed {
                reasons.push(format!(
                    "a responder ruled it out ({})",
                    dismissed_by.join(", ")
                ));
            }
            reasons.push(if routine {
                format!("routine {} (its summary reads as low-risk)", c.kind.noun())
            } else {
                format!("{} (a risky kind of change)", c.kind.noun())
            });
            Candidate {
                change: c,
                score,
                confidence: ((score / 1.15).clamp(0.05, 0.95) * 100.0).round() / 100.0,
                minutes_before,
                same_service,
                named_by,
                rolled_back_by,
                routine,
                reasons,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.minutes_before.total_cmp(&b.minutes_before))
            .then_with(|| a.change.id.cmp(&b.change.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
            id: id.into(),
            service: service.into(),
            kind,
            summary: summary.into(),
            at: T0 - minutes_before * MIN,
            version: Some(format!("v-{id}")),
            author: None,
            url: None,
            source: "api".into(),
            lineage: None,
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
        }
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
