//! An in-memory TF-IDF index over incidents, updated one incident at a time. Each field of an
//! incident has its weight (a title says more than a resolution note), term frequencies are
//! sublinear, and the cosine is computed over an inverted index, so a query costs the postings of
//! its terms, not the size of the history.

use std::collections::HashMap;

mod query;

use super::text::tokens;
use crate::domain::SearchDoc;

/// Field weights.
pub const W_TITLE: f32 = 3.0;
pub const W_SUMMARY: f32 = 1.5;
pub const W_ROOT_CAUSE: f32 = 2.5;
pub const W_RESOLUTION: f32 = 1.5;
pub const W_ACTIONS: f32 = 0.75;
pub const W_SERVICE: f32 = 0.5;
pub const W_KIND: f32 = 0.5;

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
