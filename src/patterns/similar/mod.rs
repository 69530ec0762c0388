//! Similar past incidents: "have we seen this before?". A TF-IDF index over every incident's
//! title, summary, root cause, resolution, action items, service and change kinds, kept current
//! from the database: each query first reads the incidents stored or updated since the last one
//! (by any replica), so several `serve` processes answer alike without a shared cache.

pub mod embed;
pub mod index;
pub mod text;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Mutex, RwLock};

use crate::domain::SearchDoc;
use crate::store::{Store, StoreError};
use index::{Hit, Index};

/// The most similar incidents one request may ask for (API, CLI and Slack).
pub const MAX_K: usize = 50;

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

/// Candidates each side (TF-IDF, embeddings) brings to a blended ranking.
const BLEND_CANDIDATES: usize = 50;
/// How long a free-text query waits for its embedding (Slack answers within 3 s).
const QUERY_EMBED_TIMEOUT: Duration = Duration::from_secs(2);

/// Embeddings kept in memory: incident id → (text hash, unit vector).
#[derive(Default)]
struct Vectors {
    by_id: HashMap<String, (String, Vec<f32>)>,
    mark: i64,
}

/// The search service: an index refreshed from the store.
#[derive(Clone)]
pub struct Search {
    store: Store,
    index: Arc<RwLock<Index>>,
    watermark: Arc<Mutex<i64>>,
    embedder: Option<Arc<embed::Embedder>>,
    vectors: Arc<RwLock<Vectors>>,
    embedding: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search").finish_non_exhaustive()
    }
}

impl Search {
    pub fn new(store: Store, embedder: Option<embed::Embedder>) -> Self {
        Self {
            store,
            index: Arc::default(),
            watermark: Arc::new(Mutex::new(i64::MIN)),
            embedder: embedder.map(Arc::new),
            vectors: Arc::default(),
            embedding: Arc::default(),
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
        if let Some(e) = &self.embedder {
            self.load_vectors(e.model()).await?;
        }
        if docs.is_empty() {
            return Ok(());
        }
        let newest = docs.iter().map(|(_, at)| *at).max().unwrap_or(*mark);
        if let Some(e) = &self.embedder {
            self.embed_in_background(e.clone(), docs.iter().map(|(d, _)| d).collect())
                .await;
        }
        let mut index = self.index.write().await;
        for (doc, _) in docs {
            index.upsert(doc);
        }
        index.prepare();
        *mark = (*mark).max(newest);
        Ok(())
    }

    /// Reads embeddings stored since the last read (by any replica).
    async fn load_vectors(&self, model: &str) -> Result<(), StoreError> {
        let since = self.vectors.read().await.mark;
        let rows = self
            .store
            .embeddings_since(model, since.saturating_sub(REFRESH_OVERLAP_MS))
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut v = self.vectors.write().await;
        for (id, hash, vector, at) in rows {
            v.mark = v.mark.max(at);
            v.by_id.insert(id, (hash, vector));
        }
        Ok(())
    }

    /// Embeds the incidents whose text has no current embedding, in a background task (one at a
    /// time), and stores the vectors.
    async fn embed_in_background(&self, e: Arc<embed::Embedder>, docs: Vec<&SearchDoc>) {
        let known = self.vectors.read().await;
        let todo: Vec<(String, String, String)> = docs
            .into_iter()
            .filter_map(|d| {
                let text = d.embed_text();
                let hash = text_hash(&text);
                match known.by_id.get(&d.id) {
                    Some((h, _)) if *h == hash => None,
                    _ => Some((d.id.clone(), hash, text)),
                }
            })
            .collect();
        drop(known);
        if todo.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let _one = this.embedding.lock().await;
            for batch in todo.chunks(embed::BATCH) {
                let texts = batch.iter().map(|(_, _, t)| t.clone()).collect();
                match e.embed(texts).await {
                    Ok(vectors) => {
                        for ((id, hash, _), v) in batch.iter().zip(vectors) {
                            if let Err(err) =
                                this.store.put_embedding(id, e.model(), hash, &v).await
                            {
                                tracing::warn!(error = %err, "cannot store an embedding");
                            }
                            this.vectors
                                .write()
                                .await
                                .by_id
                                .insert(id.clone(), (hash.clone(), v));
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, model = e.model(), "embedding failed; similarity uses TF-IDF alone");
                        return;
                    }
                }
            }
        });
    }

    /// Blends TF-IDF hits with embedding neighbours when embeddings exist for the query.
    async fn blend(
        &self,
        index: &Index,
        query: &[(u32, f32)],
        qvec: Option<Vec<f32>>,
        k: usize,
        exclude: Option<u32>,
        keep: &(dyn Fn(&SearchDoc) -> bool + Sync),
    ) -> Vec<(Hit, Option<f32>)> {
        let (Some(e), Some(qvec)) = (&self.embedder, qvec) else {
            return index
                .top_k(query, k, exclude, keep)
                .into_iter()
                .map(|h| (h, None))
                .collect();
        };
        let vectors = self.vectors.read().await;
        let c = BLEND_CANDIDATES.max(k * 5);
        let mut cands: HashMap<u32, f32> = index
            .top_k(query, c, exclude, keep)
            .into_iter()
            .map(|h| (h.slot, h.score))
            .collect();
        let mut by_emb: Vec<(f32, u32)> = index
            .slots()
            .filter(|&s| Some(s) != exclude && keep(index.doc(s)))
            .filter_map(|s| {
                let (_, v) = vectors.by_id.get(&index.doc(s).id)?;
                Some((embed::dot(&qvec, v), s))
            })
            .collect();
        by_emb.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, s) in by_emb.iter().take(c) {
            cands.entry(s).or_insert_with(|| index.cosine(query, s));
        }
        let w = e.weight;
        let mut out: Vec<(Hit, Option<f32>)> = cands
            .into_iter()
            .map(|(s, tfidf)| {
                let sim = vectors
                    .by_id
                    .get(&index.doc(s).id)
                    .map(|(_, v)| embed::dot(&qvec, v));
                let score = (1.0 - w) * tfidf + w * sim.unwrap_or(0.0).max(0.0);
                (
                    Hit {
                        slot: s,
                        score,
                        shared_terms: index.why_terms(query, s),
                    },
                    sim,
                )
            })
            .collect();
        out.sort_by(|a, b| {
            b.0.score
                .total_cmp(&a.0.score)
                .then_with(|| index.doc(a.0.slot).id.cmp(&index.doc(b.0.slot).id))
        });
        out.truncate(k);
        out
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
        let qvec = self
            .vectors
            .read()
            .await
            .by_id
            .get(&me.id)
            .map(|(_, v)| v.clone());
        let at = me.triggered_at;
        let hits = self
            .blend(
                &index,
                &query,
                qvec,
                k,
                Some(slot),
                &move |d: &SearchDoc| !before_only || d.triggered_at < at,
            )
            .await;
        Ok(Some(present(&index, &hits, Some(&me))))
    }

    /// Incidents most like free text.
    pub async fn search(&self, text: &str, k: usize) -> Result<Vec<Similar>, StoreError> {
        self.refresh().await?;
        let qvec = match &self.embedder {
            Some(e) => {
                match tokio::time::timeout(QUERY_EMBED_TIMEOUT, e.embed(vec![text.into()])).await {
                    Ok(Ok(mut v)) => v.pop(),
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "query embedding failed; TF-IDF alone");
                        None
                    }
                    Err(_) => {
                        tracing::warn!("query embedding timed out; TF-IDF alone");
                        None
                    }
                }
            }
            None => None,
        };
        let index = self.index.read().await;
        let query = index.text_query(text);
        let hits = self
            .blend(&index, &query, qvec, k, None, &|_: &SearchDoc| true)
            .await;
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

fn text_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

fn present(index: &Index, hits: &[(Hit, Option<f32>)], me: Option<&SearchDoc>) -> Vec<Similar> {
    hits.iter()
        .map(|(h, sim)| {
            let d = index.doc(h.slot);
            let mut why = Vec::new();
            if !h.shared_terms.is_empty() {
                why.push(format!("shares {}", h.shared_terms.join(", ")));
            }
            if let Some(sim) = sim.filter(|s| *s >= 0.5) {
                why.push(format!("close in meaning (embedding similarity {sim:.2})"));
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
