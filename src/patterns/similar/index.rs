//! An in-memory TF-IDF index over incidents, updated one incident at a time. Each field of an
//! incident has its weight (a title says more than a resolution note), term frequencies are
//! sublinear, and the cosine is computed over an inverted index, so a query costs the postings of
//! its terms, not the size of the history.

use std::collections::HashMap;

use super::text::{terms, tokens};
use crate::domain::SearchDoc;

/// Field weights.
pub const W_TITLE: f32 = 3.0;
pub const W_SUMMARY: f32 = 1.5;
pub const W_ROOT_CAUSE: f32 = 2.5;
pub const W_RESOLUTION: f32 = 1.5;
pub const W_ACTIONS: f32 = 0.75;
pub const W_SERVICE: f32 = 0.5;
pub const W_KIND: f32 = 0.5;

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

impl SearchDoc {
    /// The text an embedding model sees.
    pub fn embed_text(&self) -> String {
        let mut t = self.title.clone();
        for part in [&self.summary, &self.root_cause, &self.resolution]
            .into_iter()
            .flatten()
        {
            t.push_str(". ");
            t.push_str(part);
        }
        t
    }

    /// Weighted term counts of every field.
    pub fn weighted_terms(&self) -> HashMap<String, f32> {
        let mut tf: HashMap<String, f32> = HashMap::new();
        // The service has its own term: its name's words in the prose ("errors on payments-api")
        // would otherwise make every incident of a service look alike, whatever its cause.
        let own: Vec<String> = tokens(&self.service);
        let mut add = |text: &str, w: f32| {
            let words: Vec<String> = tokens(text)
                .into_iter()
                .filter(|t| !own.contains(t))
                .collect();
            for (i, t) in words.iter().enumerate() {
                *tf.entry(t.clone()).or_default() += w;
                if let Some(next) = words.get(i + 1) {
                    *tf.entry(format!("{t}_{next}")).or_default() += w;
                }
            }
        };
        add(&self.title, W_TITLE);
        if let Some(s) = &self.summary {
            add(s, W_SUMMARY);
        }
        if let Some(s) = &self.root_cause {
            add(s, W_ROOT_CAUSE);
        }
        if let Some(s) = &self.resolution {
            add(s, W_RESOLUTION);
        }
        for a in &self.action_items {
            add(a, W_ACTIONS);
        }
        if !self.service.is_empty() {
            *tf.entry(format!("service:{}", self.service)).or_default() += W_SERVICE;
        }
        for k in &self.change_kinds {
            *tf.entry(format!("kind:{k}")).or_default() += W_KIND;
        }
        tf
    }
}

struct Entry {
    doc: SearchDoc,
    /// (term, sublinear weighted tf).
    terms: Vec<(u32, f32)>,
    live: bool,
}

/// A scored match with the terms that contributed most.
#[derive(Debug, Clone)]
pub struct Hit {
    pub slot: u32,
    pub score: f32,
    pub shared_terms: Vec<String>,
}

#[derive(Default)]
pub struct Index {
    entries: Vec<Entry>,
    by_id: HashMap<String, u32>,
    term_ids: HashMap<String, u32>,
    /// A readable form of each term (the first surface word seen for a stem).
    names: Vec<String>,
    postings: Vec<Vec<(u32, f32)>>,
    df: Vec<u32>,
    live: u32,
    norms: Vec<f32>,
    norms_dirty: bool,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("incidents", &self.live)
            .field("terms", &self.names.len())
            .finish()
    }
}

fn sublinear(tf: f32) -> f32 {
    (1.0 + tf).ln()
}

impl Index {
    pub fn len(&self) -> usize {
        self.live as usize
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn doc(&self, slot: u32) -> &SearchDoc {
        &self.entries[slot as usize].doc
    }

    pub fn slot(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Adds `doc`, or replaces the incident's previous version.
    pub fn upsert(&mut self, doc: SearchDoc) {
        if let Some(&slot) = self.by_id.get(&doc.id) {
            if self.entries[slot as usize].doc == doc {
                return;
            }
            self.remove_slot(slot);
        }
        let tf = doc.weighted_terms();
        let mut list: Vec<(u32, f32)> = Vec::with_capacity(tf.len());
        let mut keys: Vec<(String, f32)> = tf.into_iter().collect();
        // Deterministic: term ids never depend on hash-map order.
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        for (term, w) in keys {
            let id = self.term_id(&term);
            list.push((id, sublinear(w)));
        }
        let slot = match self.by_id.get(&doc.id) {
            Some(&s) => s,
            None => {
                let s = self.entries.len() as u32;
                self.by_id.insert(doc.id.clone(), s);
                self.entries.push(Entry {
                    doc: SearchDoc::default(),
                    terms: Vec::new(),
                    live: false,
                });
                s
            }
        };
        for &(t, w) in &list {
            self.postings[t as usize].push((slot, w));
            self.df[t as usize] += 1;
        }
        self.learn_names(&doc);
        let e = &mut self.entries[slot as usize];
        e.doc = doc;
        e.terms = list;
        e.live = true;
        self.live += 1;
        self.norms_dirty = true;
    }

    fn remove_slot(&mut self, slot: u32) {
        let e = &mut self.entries[slot as usize];
        if !e.live {
            return;
        }
        for &(t, _) in &e.terms {
            let p = &mut self.postings[t as usize];
            if let Some(i) = p.iter().position(|&(d, _)| d == slot) {
                p.swap_remove(i);
            }
            self.df[t as usize] -= 1;
        }
        e.terms.clear();
        e.live = false;
        self.live -= 1;
        self.norms_dirty = true;
    }

    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.term_ids.get(term) {
            return id;
        }
        let id = self.names.len() as u32;
        self.term_ids.insert(term.to_string(), id);
        self.names.push(term.replace('_', " "));
        self.postings.push(Vec::new());
        self.df.push(0);
        id
    }

    /// Remembers a readable word for each stem ("exhausted" for `exhaust`).
    fn learn_names(&mut self, doc: &SearchDoc) {
        for text in [
            Some(&doc.title),
            doc.root_cause.as_ref(),
            doc.summary.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            for word in text
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| w.len() >= 2)
            {
                let lower = word.to_lowercase();
                let Some(stem) = tokens(&lower).into_iter().next() else {
                    continue;
                };
                if let Some(&id) = self.term_ids.get(&stem)
                    && self.names[id as usize] == stem
                    && stem != lower
                {
                    self.names[id as usize] = lower;
                }
            }
        }
    }

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

    fn idf(&self, t: u32) -> f32 {
        let n = self.live as f32;
        ((n + 1.0) / (self.df[t as usize] as f32 + 1.0)).ln() + 1.0
    }

    fn refresh_norms(&mut self) {
        if !self.norms_dirty {
            return;
        }
        let idf: Vec<f32> = (0..self.names.len() as u32).map(|t| self.idf(t)).collect();
        self.norms = self
            .entries
            .iter()
            .map(|e| {
                e.terms
                    .iter()
                    .map(|&(t, w)| (w * idf[t as usize]).powi(2))
                    .sum::<f32>()
                    .sqrt()
            })
            .collect();
        self.norms_dirty = false;
    }

    /// Makes the index ready for queries (norms follow the latest document frequencies).
    pub fn prepare(&mut self) {
        self.refresh_norms();
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

    /// Approximate heap bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        let postings: usize = self.postings.iter().map(|p| p.capacity() * 8 + 24).sum();
        let entries: usize = self
            .entries
            .iter()
            .map(|e| {
                e.terms.capacity() * 8
                    + e.doc.title.capacity()
                    + e.doc.summary.as_ref().map_or(0, String::capacity)
                    + e.doc.root_cause.as_ref().map_or(0, String::capacity)
                    + e.doc.resolution.as_ref().map_or(0, String::capacity)
                    + e.doc
                        .action_items
                        .iter()
                        .map(String::capacity)
                        .sum::<usize>()
                    + std::mem::size_of::<Entry>()
            })
            .sum();
        let names: usize = self.names.iter().map(|n| n.capacity() * 2 + 64).sum();
        postings
            + entries
            + names
            + self.norms.capacity() * 4
            + self.df.capacity() * 4
            + self.by_id.len() * 48
    }
}

fn norm(v: &[(u32, f32)]) -> f32 {
    v.iter().map(|&(_, w)| w * w).sum::<f32>().sqrt()
}
