//! Similar past incidents: "have we seen this before?". A TF-IDF index over every incident's
//! title, summary, root cause, resolution, action items, service and change kinds, kept current
//! from the database: each query first reads the incidents stored or updated since the last one
//! (by any replica), so several `serve` processes answer alike without a shared cache.

pub mod index;
pub mod text;

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{Mutex, RwLock};

use crate::store::{Store, StoreError};
use index::{Hit, Index, SearchDoc};

/// How far back each refresh looks again, for clock skew between replicas writing `updated_at`.
const REFRESH_OVERLAP_MS: i64 = 5 * 60 * 1000;

/// What fixed a past incident.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FixedBy {
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    pub action_items: Vec<String>,
}

/// One similar incident, with why it was chosen and what fixed it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Similar {
    pub id: String,
    pub title: String,
    pub service: String,
    pub score: f64,
    pub triggered_at: String,
    /// Reasons, most telling first.
    pub why: Vec<String>,
    pub shared_terms: Vec<String>,
    pub fixed_by: FixedBy,
}

/// The search service: an index refreshed from the store.
#[derive(Clone)]
pub struct Search {
    store: Store,
    index: Arc<RwLock<Index>>,
    watermark: Arc<Mutex<i64>>,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search").finish_non_exhaustive()
    }
}

impl Search {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            index: Arc::default(),
            watermark: Arc::new(Mutex::new(i64::MIN)),
        }
    }

    /// Reads what changed in the store since the last refresh into the index.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let mut mark = self.watermark.lock().await;
        let since = if *mark == i64::MIN {
            i64::MIN
        } else {
            *mark - REFRESH_OVERLAP_MS
        };
        let docs = self.store.search_docs_since(since).await?;
        if docs.is_empty() {
            return Ok(());
        }
        let newest = docs.iter().map(|(_, at)| *at).max().unwrap_or(*mark);
        let mut index = self.index.write().await;
        for (doc, _) in docs {
            index.upsert(doc);
        }
        index.prepare();
        *mark = (*mark).max(newest);
        Ok(())
    }

    /// Incidents most like `id`. `None` when `id` is unknown.
    pub async fn similar_to(&self, id: &str, k: usize) -> Result<Option<Vec<Similar>>, StoreError> {
        self.like(id, k, false).await
    }

    /// Incidents most like `id` that began before it (a postmortem's "Similar past incidents").
    pub async fn similar_before(
        &self,
        id: &str,
        k: usize,
    ) -> Result<Option<Vec<Similar>>, StoreError> {
        self.like(id, k, true).await
    }

    async fn like(
        &self,
        id: &str,
        k: usize,
        before_only: bool,
    ) -> Result<Option<Vec<Similar>>, StoreError> {
        self.refresh().await?;
        let index = self.index.read().await;
        let Some(slot) = index.slot(id) else {
            return Ok(None);
        };
        let me = index.doc(slot).clone();
        let query = index.doc_query(slot);
        let hits = index.top_k(&query, k, Some(slot), &|d| {
            !before_only || d.triggered_at < me.triggered_at
        });
        Ok(Some(present(&index, &hits, Some(&me))))
    }

    /// Incidents most like free text.
    pub async fn search(&self, text: &str, k: usize) -> Result<Vec<Similar>, StoreError> {
        self.refresh().await?;
        let index = self.index.read().await;
        let query = index.text_query(text);
        let hits = index.top_k(&query, k, None, &|_| true);
        Ok(present(&index, &hits, None))
    }

    /// `words` as a query: a single word that is a stored incident id means that incident.
    pub async fn query(&self, words: &str, k: usize) -> Result<Vec<Similar>, StoreError> {
        let w = words.trim();
        if !w.contains(char::is_whitespace)
            && let Some(hits) = self.similar_to(w, k).await?
        {
            return Ok(hits);
        }
        self.search(w, k).await
    }
}

fn present(index: &Index, hits: &[Hit], me: Option<&SearchDoc>) -> Vec<Similar> {
    hits.iter()
        .map(|h| {
            let d = index.doc(h.slot);
            let mut why = Vec::new();
            if !h.shared_terms.is_empty() {
                why.push(format!("shares {}", h.shared_terms.join(", ")));
            }
            if let Some(me) = me {
                if me.service == d.service && !d.service.is_empty() {
                    why.push(format!("same service ({})", d.service));
                }
                let kinds: Vec<&String> = me
                    .change_kinds
                    .iter()
                    .filter(|k| d.change_kinds.contains(k))
                    .collect();
                if !kinds.is_empty() {
                    why.push(format!(
                        "preceded by the same kind of change ({})",
                        kinds
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            Similar {
                id: d.id.clone(),
                title: d.title.clone(),
                service: d.service.clone(),
                score: (f64::from(h.score) * 1000.0).round() / 1000.0,
                triggered_at: crate::domain::fmt_time(d.triggered_at),
                why,
                shared_terms: h.shared_terms.clone(),
                fixed_by: FixedBy {
                    root_cause: d.root_cause.clone(),
                    resolution: d.resolution.clone(),
                    action_items: d.action_items.clone(),
                },
            }
        })
        .collect()
}
