//! How responders name a change: its id, its version (with or without the `v`), a key-like word of
//! its summary (a flag key, a setting), most of its summary, or loosely, a word or two of it; and
//! the words they use for each kind of change ("reverted the prompt"). Messages are indexed by
//! token, so naming costs the postings of a change's tokens, not a pass over every message.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::domain::{Change, ChangeKind};

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
            // "rolled back to v1.41.3" names v1.41.3 as the target, not the culprit; "5.2.0"
            // names v5.2.0.
            for v in [v.clone(), v.trim_start_matches('v').to_string()] {
                if v.len() < 3 || !v.contains(|c: char| c.is_ascii_digit()) {
                    continue;
                }
                let target = format!("to {v}");
                let targeted = format!("to v{v}");
                out.extend(self.phrase(&v, |t| {
                    t.contains(&v) && !t.contains(&target) && !t.contains(&targeted)
                }));
            }
        }
        // A key-like word of the summary (a flag key, a setting): `semantic-rerank-v2`,
        // `allkeys-lru`, `max_batch_tokens`.
        for key in key_words(&c.summary) {
            out.extend(self.phrase(&key, |t| t.contains(&key)));
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

/// The words of a summary that read as keys: joined by `-`, `_` or `.`, with letters, at least
/// six characters, and not a version.
fn key_words(summary: &str) -> Vec<String> {
    whole_tokens(summary)
        .filter(|t| {
            t.len() >= 6
                && t.contains(['-', '_', '.'])
                && t.chars().filter(|c| c.is_alphabetic()).count() >= 3
                && !(t.starts_with('v') && t[1..].starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect()
}

/// Does the message loosely point at the change: two words of its summary, or (when `one_will_do`)
/// one word no other change's summary has? Loose pointing only counts when the message rules out
/// (one word will do: ruling out is cheap) or undoes (two words needed).
pub(super) fn loosely_names(text: &str, c: &Change, others: &[&Change], one_will_do: bool) -> bool {
    let words: BTreeSet<String> = fine_tokens(text).into_iter().collect();
    let own: BTreeSet<String> = fine_tokens(&c.summary)
        .into_iter()
        .filter(|w| w.len() >= 4 && !w.chars().all(|ch| ch.is_ascii_digit()))
        .collect();
    let shared: Vec<&String> = own.intersection(&words).collect();
    shared.len() >= 2
        || one_will_do
            && shared.iter().any(|w| {
                w.len() >= 5
                    && others
                        .iter()
                        .filter(|o| o.id != c.id)
                        .all(|o| !fine_tokens(&o.summary).contains(w))
            })
}

/// Words for each kind of change, as responders say them ("reverted the prompt").
fn kind_words(kind: ChangeKind) -> &'static [&'static str] {
    match kind {
        ChangeKind::Deploy => &["deploy", "release", "build", "version"],
        ChangeKind::Config => &["config", "setting", "configuration"],
        ChangeKind::FeatureFlag => &["flag", "feature flag", "toggle", "rollout"],
        ChangeKind::Migration => &["migration", "schema", "index"],
        ChangeKind::Infra => &["infra", "terraform", "instance type", "node pool"],
        ChangeKind::Data => &["data", "dataset", "backfill"],
        ChangeKind::Model => &["model"],
        ChangeKind::Prompt => &["prompt", "system prompt"],
    }
}

pub(super) fn mentions_kind(text: &str, kind: ChangeKind) -> bool {
    let t = text.to_lowercase();
    kind_words(kind).iter().any(|w| {
        t.match_indices(w).any(|(i, _)| {
            let before = t[..i].chars().next_back();
            let after = t[i + w.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphabetic)
                || after == Some('s')
        })
    })
}

/// Does `text` name the change: its id, its version, or most of its summary?
pub fn names(text: &str, c: &Change) -> bool {
    !MessageIndex::new([text]).naming(c).is_empty()
}
