//! Features: each incident's weighted terms as a sublinear TF-IDF vector over terms shared by
//! enough incidents (the service and change-kind terms left out: a family is a cause, not a team).

use std::collections::{BTreeMap, HashMap};

use crate::domain::SearchDoc;
use crate::patterns::similar::text::stem;

/// The weighted terms a family sees of one incident: words and word pairs of its text. A draft's
/// prose is a template ("… min before the start, caused the incident"), so of a drafted summary or
/// cause only what it quotes (the change or run it names) counts, beside the title.
pub(super) fn family_terms(doc: &SearchDoc) -> BTreeMap<String, f32> {
    let quoted = |t: &Option<String>| -> Option<String> {
        let parts: Vec<&str> = t.as_deref()?.split('"').skip(1).step_by(2).collect();
        (!parts.is_empty()).then(|| parts.join(". "))
    };
    let stripped;
    let doc = if doc.drafted {
        stripped = SearchDoc {
            summary: None,
            root_cause: quoted(&doc.root_cause),
            ..doc.clone()
        };
        &stripped
    } else {
        doc
    };
    doc.weighted_terms()
        .into_iter()
        .filter(|(t, _)| {
            // Not the team, and not times, versions or host numbers ("02t14", "v1", "db7"): they
            // name an occurrence, not a cause.
            !t.starts_with("service:")
                && !t.starts_with("kind:")
                && !t.bytes().any(|b| b.is_ascii_digit())
        })
        .collect()
}

/// Normalised sparse TF-IDF rows over a sorted vocabulary.
pub(super) struct Tfidf {
    pub(super) vocabulary: Vec<String>,
    pub(super) rows: Vec<Vec<(u32, f32)>>,
    /// Mean weight of each term over all incidents (for distinguishing terms).
    pub(super) mean: Vec<f32>,
    /// A readable form of each stem (its most frequent surface word).
    pub(super) names: HashMap<String, String>,
}

impl Tfidf {
    pub(super) fn build(docs: &[&SearchDoc]) -> Self {
        let n = docs.len();
        let per_doc: Vec<BTreeMap<String, f32>> = docs.iter().map(|d| family_terms(d)).collect();
        let mut df: BTreeMap<&str, u32> = BTreeMap::new();
        for terms in &per_doc {
            for t in terms.keys() {
                *df.entry(t.as_str()).or_default() += 1;
            }
        }
        // Terms in one incident only cannot group anything; terms in most say nothing.
        let min_df = if n >= 20 { 2 } else { 1 };
        let max_df = if n >= 20 { n as u32 / 2 } else { n as u32 };
        let vocabulary: Vec<String> = df
            .iter()
            .filter(|&(_, &d)| d >= min_df && d <= max_df)
            .map(|(t, _)| t.to_string())
            .collect();
        let index: HashMap<&str, u32> = vocabulary
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let idf: Vec<f32> = vocabulary
            .iter()
            .map(|t| ((1.0 + n as f32) / (1.0 + df[t.as_str()] as f32)).ln() + 1.0)
            .collect();
        let mut mean = vec![0f32; vocabulary.len()];
        let rows: Vec<Vec<(u32, f32)>> = per_doc
            .iter()
            .map(|terms| {
                let mut row: Vec<(u32, f32)> = terms
                    .iter()
                    .filter_map(|(t, &tf)| {
                        index
                            .get(t.as_str())
                            .map(|&i| (i, (1.0 + tf).ln() * idf[i as usize]))
                    })
                    .collect();
                let norm = row.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
                if norm > 0.0 {
                    for (i, w) in &mut row {
                        *w /= norm;
                        mean[*i as usize] += *w / n as f32;
                    }
                }
                row
            })
            .collect();
        Self {
            vocabulary,
            rows,
            mean,
            names: surface_names(docs),
        }
    }

    /// A term as people write it: stems back to words, bigrams with a space.
    pub(super) fn readable(&self, term: &str) -> String {
        term.split('_')
            .map(|s| self.names.get(s).cloned().unwrap_or_else(|| s.to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The most frequent surface word of each stem (ties: the shorter, then the first in order).
pub(super) fn surface_names(docs: &[&SearchDoc]) -> HashMap<String, String> {
    let mut counts: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for d in docs {
        for text in [Some(&d.title), d.summary.as_ref(), d.root_cause.as_ref()]
            .into_iter()
            .flatten()
        {
            for w in text
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| w.len() >= 2)
            {
                let lower = w.to_lowercase();
                *counts
                    .entry(stem(&lower))
                    .or_default()
                    .entry(lower)
                    .or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .filter_map(|(stem, words)| {
            words
                .into_iter()
                .max_by(|a, b| {
                    a.1.cmp(&b.1)
                        .then_with(|| b.0.len().cmp(&a.0.len()))
                        .then_with(|| b.0.cmp(&a.0))
                })
                .map(|(w, _)| (stem, w))
        })
        .collect()
}
