//! Queries over the index: a query vector from text or from an incident, pruned to a postings
//! budget, expanded by pseudo-relevance feedback, scored by cosine, with the terms that matched.

use std::collections::HashMap;

use super::{Hit, Index, norm, sublinear};
use crate::domain::SearchDoc;
use crate::patterns::similar::text::terms;

/// Pseudo-relevance feedback: the top documents of a first pass pull the query towards their
/// shared vocabulary (Rocchio), which is what matches differently worded reports of one cause.
const FEEDBACK_DOCS: usize = 5;
const FEEDBACK_WEIGHT: f32 = 0.7;
/// Query-term pruning: a query reads at most this many postings, rarest terms first. The common
/// terms left out have the longest postings (they cost most) and the lowest idf (they tell least);
/// a term found in no other incident is never read (it cannot change the ranking).
const POSTINGS_BUDGET: usize = 150_000;
/// Pseudo-relevance feedback adds at most this many terms to a query.
const MAX_EXPANSION_TERMS: usize = 60;

impl Index {
    /// `q` within the postings budget, rarest terms first (see `POSTINGS_BUDGET`), in term order.
    fn prune(&self, q: &[(u32, f32)]) -> Vec<(u32, f32)> {
        let mut v: Vec<(u32, f32)> = q.to_vec();
        v.sort_by_key(|&(t, _)| (self.df[t as usize], t));
        let mut read = 0usize;
        let mut kept = Vec::with_capacity(v.len());
        for (t, w) in v {
            let df = self.postings[t as usize].len();
            if df == 0 {
                continue;
            }
            if read + df > POSTINGS_BUDGET && !kept.is_empty() {
                break;
            }
            read += df;
            kept.push((t, w));
        }
        kept.sort_by_key(|&(t, _)| t);
        kept
    }

    /// A query vector (term → weight) from free text.
    pub fn text_query(&self, text: &str) -> Vec<(u32, f32)> {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for t in terms(text) {
            if let Some(&id) = self.term_ids.get(&t) {
                *tf.entry(id).or_default() += 1.0;
            }
            // Query words may name a service: match it too.
            if let Some(&id) = self.term_ids.get(&format!("service:{t}")) {
                *tf.entry(id).or_default() += 1.0;
            }
        }
        let mut q: Vec<(u32, f32)> = tf
            .into_iter()
            .map(|(t, w)| (t, sublinear(w) * self.idf(t)))
            .collect();
        q.sort_by_key(|&(t, _)| t);
        q
    }

    /// The query vector of a stored incident.
    pub fn doc_query(&self, slot: u32) -> Vec<(u32, f32)> {
        self.entries[slot as usize]
            .terms
            .iter()
            .map(|&(t, w)| (t, w * self.idf(t)))
            .collect()
    }

    /// The `k` incidents most like `query`, best first, leaving out `exclude` and any for which
    /// `keep` is false. Call [`Index::prepare`] after updates. A short query (free text) is
    /// expanded once by pseudo-relevance feedback; an incident's own vector is rich enough.
    pub fn top_k(
        &self,
        query: &[(u32, f32)],
        k: usize,
        exclude: Option<u32>,
        keep: &dyn Fn(&SearchDoc) -> bool,
    ) -> Vec<Hit> {
        let query = self.prune(query);
        let query = query.as_slice();
        if exclude.is_some() {
            let mut hits = self.score(query, exclude, keep, k);
            for h in &mut hits {
                h.shared_terms = self.shared_terms(query, h.slot, 6);
            }
            return hits;
        }
        let first = self.score(query, exclude, keep, FEEDBACK_DOCS.max(k));
        if first.is_empty() {
            return first;
        }
        // Rocchio: q' = q/|q| + β · mean of the top documents' unit vectors.
        let qn = norm(query).max(f32::EPSILON);
        let mut expanded: HashMap<u32, f32> = query.iter().map(|&(t, w)| (t, w / qn)).collect();
        let fb: Vec<&Hit> = first.iter().take(FEEDBACK_DOCS).collect();
        let share = FEEDBACK_WEIGHT / fb.len() as f32;
        for h in fb {
            let d = self.doc_query(h.slot);
            let dn = self.norms[h.slot as usize].max(f32::EPSILON);
            for (t, w) in d {
                *expanded.entry(t).or_default() += share * w / dn;
            }
        }
        let mut q2: Vec<(u32, f32)> = expanded.into_iter().collect();
        if q2.len() > query.len() + MAX_EXPANSION_TERMS {
            q2.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            q2.truncate(query.len() + MAX_EXPANSION_TERMS);
        }
        let q2 = self.prune(&q2);
        let mut hits = self.score(&q2, exclude, keep, k);
        // Why: the original query's terms that the match shares, strongest first.
        for h in &mut hits {
            h.shared_terms = self.shared_terms(query, h.slot, 6);
        }
        hits
    }

    fn score(
        &self,
        query: &[(u32, f32)],
        exclude: Option<u32>,
        keep: &dyn Fn(&SearchDoc) -> bool,
        k: usize,
    ) -> Vec<Hit> {
        let qn = norm(query);
        if qn == 0.0 || k == 0 {
            return Vec::new();
        }
        // A dense accumulator: one float per incident beats hashing at 100,000 incidents.
        let mut acc = vec![0f32; self.entries.len()];
        let mut touched: Vec<u32> = Vec::new();
        for &(t, qw) in query {
            let idf = self.idf(t);
            for &(d, w) in &self.postings[t as usize] {
                let a = &mut acc[d as usize];
                if *a == 0.0 {
                    touched.push(d);
                }
                *a += qw * w * idf;
            }
        }
        let mut hits: Vec<Hit> = touched
            .into_iter()
            .map(|d| (d, acc[d as usize]))
            .filter(|&(d, _)| Some(d) != exclude && keep(&self.entries[d as usize].doc))
            .map(|(d, dot)| Hit {
                slot: d,
                score: dot / (qn * self.norms[d as usize].max(f32::EPSILON)),
                shared_terms: Vec::new(),
            })
            .collect();
        // Best first; ties by id, so equal data gives equal answers.
        let cmp = |a: &Hit, b: &Hit| {
            b.score.total_cmp(&a.score).then_with(|| {
                self.entries[a.slot as usize]
                    .doc
                    .id
                    .cmp(&self.entries[b.slot as usize].doc.id)
            })
        };
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, cmp);
            hits.truncate(k);
        }
        hits.sort_by(cmp);
        hits
    }

    /// The TF-IDF cosine of `query` and one incident.
    pub fn cosine(&self, query: &[(u32, f32)], slot: u32) -> f32 {
        let d: HashMap<u32, f32> = self.entries[slot as usize].terms.iter().copied().collect();
        let dot: f32 = query
            .iter()
            .filter_map(|&(t, qw)| d.get(&t).map(|&w| qw * w * self.idf(t)))
            .sum();
        dot / (norm(query).max(f32::EPSILON) * self.norms[slot as usize].max(f32::EPSILON))
    }

    /// The terms `query` shares with an incident, for "why".
    pub fn why_terms(&self, query: &[(u32, f32)], slot: u32) -> Vec<String> {
        self.shared_terms(query, slot, 6)
    }

    /// Every live incident's slot.
    pub fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.live)
            .map(|(i, _)| i as u32)
    }

    fn shared_terms(&self, query: &[(u32, f32)], slot: u32, n: usize) -> Vec<String> {
        let d: HashMap<u32, f32> = self.entries[slot as usize].terms.iter().copied().collect();
        let mut shared: Vec<(f32, u32)> = query
            .iter()
            .filter_map(|&(t, qw)| d.get(&t).map(|&w| (qw * w * self.idf(t), t)))
            .filter(|&(_, t)| !self.names[t as usize].contains(':'))
            .collect();
        shared.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out: Vec<String> = Vec::new();
        for (_, t) in shared {
            let name = &self.names[t as usize];
            // A bigram already says its words.
            if out
                .iter()
                .any(|o| o.contains(name.as_str()) || name.contains(o.as_str()))
            {
                continue;
            }
            out.push(name.clone());
            if out.len() == n {
                break;
            }
        }
        out
    }
}
