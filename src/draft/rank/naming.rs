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

    /// Messages that name the change among `others` (the other changes in question): as
    /// [`MessageIndex::naming`], or by two words of its summary that no other change's summary has
    /// ("the SG change from PR 4821 dropped egress" names "terraform PR #4821: tighten security
    /// group egress rules").
    pub fn naming_among(&self, c: &Change, others: &[&Change]) -> BTreeSet<u32> {
        let mut out = self.naming(c);
        let service: BTreeSet<String> = fine_tokens(&c.service.replace('-', " "))
            .into_iter()
            .collect();
        let theirs: BTreeSet<String> = others
            .iter()
            .filter(|o| o.id != c.id)
            .flat_map(|o| fine_tokens(&o.summary))
            .collect();
        let distinct: BTreeSet<String> = fine_tokens(&c.summary)
            .into_iter()
            .filter(|w| {
                let digits = w.chars().all(|ch| ch.is_ascii_digit());
                (if digits { w.len() >= 3 } else { w.len() >= 4 })
                    && !service.contains(w)
                    && !theirs.contains(w)
                    && !GENERIC.contains(&w.as_str())
            })
            .collect();
        let mut hits: HashMap<u32, usize> = HashMap::new();
        for w in &distinct {
            for &i in self.posting(w) {
                *hits.entry(i).or_default() += 1;
            }
        }
        out.extend(hits.into_iter().filter(|&(_, n)| n >= 2).map(|(i, _)| i));
        out
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
        // The service's own name is not a key of the change ("tax-calc 4.4.0 …").
        let service = c.service.to_lowercase();
        for key in key_words(&c.summary).into_iter().filter(|k| *k != service) {
            out.extend(self.phrase(&key, |t| t.contains(&key)));
        }
        // Its landing time, as responders quote it when they speak of a change: "changed the
        // default at 11:25" (UTC).
        for t in landing_times(c) {
            out.extend(self.phrase(&t, |text| CHANGE_WORDS.is_match(text)));
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

/// Words of changing something, which a quoted time must come with to name a change.
static CHANGE_WORDS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"\b(deploy\w*|ship\w*|releas\w*|went (out|on|live)|rolled out|rollout|pushed|merged|chang\w*|flipped|enabled|turned on|applied|migrat\w*|flag|config\w*|updat\w*|upgrad\w*|bump\w*|promot\w*|launch\w*|rotat\w*|install\w*|switch\w*|moved|pr|commit\w*)\b",
    )
    .expect("a valid built-in pattern")
});

/// A change's landing time as people write it, in UTC: `09:05`, and `9:05` before ten.
fn landing_times(c: &Change) -> Vec<String> {
    let Some(at) = chrono::DateTime::from_timestamp_millis(c.at) else {
        return vec![];
    };
    let hm = at.format("%H:%M").to_string();
    let mut out = vec![hm.clone()];
    if let Some(short) = hm.strip_prefix('0') {
        out.push(short.to_string());
    }
    out
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
    // A key's parts count too: "bnpl" of `checkout.bnpl_option`.
    let own: BTreeSet<String> = fine_tokens(&c.summary)
        .into_iter()
        .flat_map(|w| {
            let parts: Vec<String> = if w.contains(['.', '_']) {
                w.split(['.', '_']).map(str::to_string).collect()
            } else {
                vec![]
            };
            std::iter::once(w).chain(parts)
        })
        .filter(|w| w.len() >= 4 && !w.chars().all(|ch| ch.is_ascii_digit()))
        .collect();
    let shared: Vec<&String> = own.intersection(&words).collect();
    shared.len() >= 2
        || one_will_do
            && shared.iter().any(|w| {
                w.len() >= 4
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

/// Does `remedy`, a change made after the incident started, undo or fix `c`? It does when it
/// names `c` (its id or version, "hotfix" versions of it: `2026.11.1-hotfix1` of `2026.11.1`), when
/// it says it undoes something on `c`'s service and `c` is the latest change there of a kind it
/// names or of any kind ("rollback inventory-svc to 4.19.3"), or when it shares with `c`'s summary
/// two words, or one key-like word (`nlb-pay-2`, `new_variant_resolver`), that `others` (the other
/// changes before the start) do not have.
pub fn remedies(remedy: &Change, c: &Change, others: &[&Change]) -> bool {
    if remedy.at <= c.at || remedy.id == c.id {
        return false;
    }
    let text = format!(
        "{} {} {}",
        remedy.summary,
        remedy.version.as_deref().unwrap_or(""),
        remedy.id
    )
    .to_lowercase();
    let id = c.id.to_lowercase();
    if id.len() >= 4 && text.contains(&id) {
        return true;
    }
    if let Some(v) = c.version.as_deref().map(str::to_lowercase)
        && v.len() >= 3
        && v.contains(|ch: char| ch.is_ascii_digit())
        && remedy.service == c.service
        && remedy
            .version
            .as_deref()
            .map(str::to_lowercase)
            .is_some_and(|rv| {
                rv != v
                    && rv.starts_with(&v)
                    && !rv[v.len()..].starts_with(|ch: char| ch.is_ascii_digit())
            })
    {
        return true;
    }
    let same_service_before: Vec<&&Change> = others
        .iter()
        .filter(|o| o.service == c.service && o.id != c.id && o.at <= remedy.at)
        .collect();
    if remedy.service == c.service && super::reading::undoes(&remedy.summary) {
        let latest = same_service_before.iter().all(|o| o.at <= c.at);
        let latest_of_kind = same_service_before
            .iter()
            .filter(|o| o.kind == c.kind)
            .all(|o| o.at <= c.at);
        if latest_of_kind && mentions_kind(&remedy.summary, c.kind)
            || latest && c.kind == remedy.kind
        {
            return true;
        }
    }
    let service_words: BTreeSet<String> = fine_tokens(&c.service.replace('-', " "))
        .into_iter()
        .collect();
    let theirs: BTreeSet<String> = fine_tokens(&remedy.summary)
        .into_iter()
        .filter(|w| !service_words.contains(w))
        .collect();
    let own: BTreeSet<String> = fine_tokens(&c.summary)
        .into_iter()
        .filter(|w| w.len() >= 3 && !service_words.contains(w) && !GENERIC.contains(&w.as_str()))
        .collect();
    let distinctive = |w: &String| {
        others
            .iter()
            .filter(|o| o.id != c.id)
            .all(|o| !fine_tokens(&o.summary).contains(w))
    };
    let shared: Vec<&String> = own
        .intersection(&theirs)
        .filter(|w| distinctive(w))
        .collect();
    shared.len() >= 2 && REMEDY.is_match(&text)
        || shared
            .iter()
            .any(|w| w.len() >= 6 && w.contains(['_', '.']))
        || key_words(&c.summary).iter().any(|k| {
            text.contains(k.as_str())
                && distinctive(k)
                && *k != c.service.to_lowercase()
                && *k != remedy.service.to_lowercase()
        })
}

/// Words of a change that undoes or fixes another ("revert push batch to 500", "hotfix", "point
/// the alias back").
static REMEDY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::RegexBuilder::new(
        r"\b(revert\w*|roll ?back\w*|rolled back|undo|restor\w*|back to|hotfix\w*|fix(es|ed)?|disabl\w*|turn(ed)? off|-> ?0%|to 0%|previous|downgrad\w*|pin(ned|ning|s)?|remov\w*|drop(ped)?|cancel\w*|re-?enabl\w*)\b",
    )
    .case_insensitive(true)
    .build()
    .expect("a valid built-in pattern")
});

/// Words too common in change summaries to tie two changes together.
const GENERIC: &[&str] = &[
    "deploy", "release", "config", "enable", "disable", "bump", "raise", "lower", "increase",
    "decrease", "default", "fix", "revert", "rollback", "back", "move", "switch", "v1", "v2",
];

/// Does `text` name the change: its id, its version, or most of its summary?
pub fn names(text: &str, c: &Change) -> bool {
    !MessageIndex::new([text]).naming(c).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;
    const MIN: i64 = 60_000;

    fn change(id: &str, service: &str, kind: ChangeKind, summary: &str, at_min: i64) -> Change {
        Change::new(id, service, kind, summary, T0 + at_min * MIN)
    }

    #[test]
    fn a_later_change_remedies_what_it_reverts_hotfixes_or_shares_a_key_with() {
        let culprit = change(
            "cfg-4203",
            "push",
            ChangeKind::Config,
            "APNs batch size 500 -> 5000, connections 8 -> 32",
            -20,
        );
        let decoy = change(
            "rel-1",
            "push",
            ChangeKind::Deploy,
            "template engine bump",
            -40,
        );
        let others = [&culprit, &decoy];
        let revert = change(
            "cfg-4204",
            "push",
            ChangeKind::Config,
            "revert push batch/connections to 500/8",
            20,
        );
        assert!(remedies(&revert, &culprit, &others));
        assert!(!remedies(&revert, &decoy, &others));

        let mut release = change(
            "rel-2903",
            "web",
            ChangeKind::Deploy,
            "security headers",
            -30,
        );
        release.version = Some("2026.11.1".into());
        let mut hotfix = change(
            "rel-2905",
            "web",
            ChangeKind::Deploy,
            "allow widget origin",
            15,
        );
        hotfix.version = Some("2026.11.1-hotfix1".into());
        assert!(remedies(&hotfix, &release, &[&release]));

        let lb = change(
            "infra-6300",
            "payments",
            ChangeKind::Infra,
            "move payments behind internal LB nlb-pay-2",
            -10,
        );
        let timeout = change(
            "infra-6301",
            "payments",
            ChangeKind::Infra,
            "nlb-pay-2 idle timeout 60s -> 350s",
            30,
        );
        assert!(remedies(&timeout, &lb, &[&lb]));

        let rollback = change(
            "rel-1291",
            "inventory",
            ChangeKind::Deploy,
            "rollback inventory to 4.19.3",
            25,
        );
        let release = change("rel-1290", "inventory", ChangeKind::Deploy, "4.20.0", -15);
        assert!(remedies(&rollback, &release, &[&release]));
        // A change before the other cannot remedy it.
        assert!(!remedies(&decoy, &culprit, &others));
    }
}
