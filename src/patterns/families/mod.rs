//! Incident families: incidents with one underlying cause, found by k-means.
//!
//! The pipeline, deterministic for the same incidents whatever the order they were read in:
//! 1. Each incident becomes a sparse TF-IDF vector over the same weighted terms search uses
//!    (without the service and change-kind terms: a family is a cause, not a team), normalised.
//! 2. Latent semantic analysis by a randomised truncated SVD (a fixed ±1 sign pattern per term,
//!    derived from the term itself, and power iterations) reduces the sparse rows to
//!    [`Params::components`] dimensions without ever building an incidents × vocabulary matrix;
//!    rows are L2-normalised.
//! 3. k is chosen within `k_min..=k_max` by the mean silhouette (the smallest k within one standard
//!    error of the best) on a seeded sample of at most
//!    [`Params::sample`] incidents (silhouette is quadratic), with several seeded
//!    initialisations per k: greedy k-means++ seeds, then linfa-clustering's k-means.
//! 4. The chosen model's centroids start one refinement over every incident.
//! 5. Each family is described in term space (its mean TF-IDF vector): distinguishing terms, a
//!    label, the incidents nearest its centre, typical root causes. Term-space centroids are what
//!    a later run matches against, so ids survive a changed vocabulary or basis.

pub mod quality;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_clustering::{KMeans, KMeansInit};
use linfa_linalg::eigh::Eigh;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use serde::Serialize;

use crate::domain::{Computed, Family, Previous, SearchDoc, TermVector};
use crate::patterns::similar::text::stem;

/// How families are computed. The defaults are what `postmortem families` and the service use.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    pub k_min: usize,
    pub k_max: usize,
    /// Seeded k-means++ initialisations per k.
    pub n_runs: usize,
    pub max_iterations: u64,
    pub tolerance: f32,
    /// Latent dimensions kept (singular directions of the TF-IDF matrix, at most 112).
    pub components: usize,
    /// Incidents the silhouette is scored on.
    pub sample: usize,
    pub seed: u64,
    /// Least term-space cosine between a family and a previous one to keep its id.
    pub match_threshold: f32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            k_min: 2,
            k_max: 30,
            n_runs: 20,
            max_iterations: 200,
            tolerance: 1e-4,
            components: 32,
            sample: 2000,
            seed: 42,
            match_threshold: 0.5,
        }
    }
}

/// Terms of the centroid kept for matching.
const CENTROID_TERMS: usize = 200;
const REPRESENTATIVES: usize = 3;
const TOP_TERMS: usize = 10;

/// Computes families over `docs`. `previous` are the last run's families; `next_number` is the
/// first free family number (`F-0001` …).
pub fn compute(
    docs: &[SearchDoc],
    previous: &[Previous],
    next_number: u64,
    p: &Params,
) -> Computed {
    let mut docs: Vec<&SearchDoc> = docs.iter().collect();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    docs.dedup_by(|a, b| a.id == b.id);
    let n = docs.len();
    if n == 0 {
        return Computed {
            incidents: 0,
            k: 0,
            silhouette: Vec::new(),
            families: Vec::new(),
            retired: previous.iter().map(|f| f.id.clone()).collect(),
        };
    }
    let tfidf = Tfidf::build(&docs);
    let reduced = reduce(&tfidf.rows, &tfidf.vocabulary, p);
    let (k, silhouette, memberships) = cluster(&reduced, p);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &c) in memberships.iter().enumerate() {
        groups[c].push(i);
    }
    groups.retain(|g| !g.is_empty());
    let mut families: Vec<Family> = groups
        .iter()
        .map(|g| describe(g, &docs, &tfidf, &reduced))
        .collect();
    let retired = assign_ids(&mut families, previous, next_number, p.match_threshold);
    families.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.id.cmp(&b.id)));
    Computed {
        incidents: n,
        k: families.len(),
        silhouette,
        families,
        retired,
    }
}

/// The weighted terms a family sees of one incident: words and word pairs of its text. A draft's
/// prose is a template ("… min before the start, caused the incident"), so of a drafted summary or
/// cause only what it quotes (the change or run it names) counts, beside the title.
fn family_terms(doc: &SearchDoc) -> BTreeMap<String, f32> {
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
struct Tfidf {
    vocabulary: Vec<String>,
    rows: Vec<Vec<(u32, f32)>>,
    /// Mean weight of each term over all incidents (for distinguishing terms).
    mean: Vec<f32>,
    /// A readable form of each stem (its most frequent surface word).
    names: HashMap<String, String>,
}

impl Tfidf {
    fn build(docs: &[&SearchDoc]) -> Self {
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
    fn readable(&self, term: &str) -> String {
        term.split('_')
            .map(|s| self.names.get(s).cloned().unwrap_or_else(|| s.to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The most frequent surface word of each stem (ties: the shorter, then the first in order).
fn surface_names(docs: &[&SearchDoc]) -> HashMap<String, String> {
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

/// FNV-1a: a hash that is the same in every process and version (unlike `DefaultHasher`).
fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64, to spread a hash into independent bits.
fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A term's projection: one sign per dimension, from the term alone.
fn signs(term: &str) -> u128 {
    let mut x = stable_hash(term);
    (u128::from(splitmix(&mut x)) << 64) | u128::from(splitmix(&mut x))
}

/// Eigen-decomposition of a small symmetric matrix, largest eigenvalues first.
fn eigen_desc(m: &Array2<f64>) -> Option<(Vec<f64>, Array2<f64>)> {
    let (values, vectors) = m.eigh().ok()?;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut sorted = Array2::<f64>::zeros(vectors.dim());
    for (j, &col) in order.iter().enumerate() {
        sorted.column_mut(j).assign(&vectors.column(col));
    }
    Some((order.iter().map(|&i| values[i]).collect(), sorted))
}

/// An orthonormal basis of `m`'s columns (through the eigenvectors of `mᵀm`; directions with
/// no weight are dropped).
fn orthonormal(m: &Array2<f64>) -> Array2<f64> {
    let Some((values, vectors)) = eigen_desc(&m.t().dot(m)) else {
        return m.clone();
    };
    let top = values.first().copied().unwrap_or(0.0);
    let keep: Vec<usize> = (0..values.len())
        .filter(|&j| values[j] > top * 1e-10 && values[j] > 0.0)
        .collect();
    let mut basis = Array2::<f64>::zeros((m.ncols(), keep.len()));
    for (c, &j) in keep.iter().enumerate() {
        basis
            .column_mut(c)
            .assign(&(&vectors.column(j) / values[j].sqrt()));
    }
    m.dot(&basis)
}

/// `X · W` for sparse rows X (n × V) and dense W (V × l).
fn sparse_dot(rows: &[Vec<(u32, f32)>], w: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((rows.len(), w.ncols()));
    for (i, row) in rows.iter().enumerate() {
        let mut o = out.row_mut(i);
        for &(t, x) in row {
            o.scaled_add(f64::from(x), &w.row(t as usize));
        }
    }
    out
}

/// `Xᵀ · Y` for sparse rows X (n × V) and dense Y (n × l).
fn sparse_t_dot(rows: &[Vec<(u32, f32)>], vocabulary: usize, y: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((vocabulary, y.ncols()));
    for (i, row) in rows.iter().enumerate() {
        let yi = y.row(i);
        for &(t, x) in row {
            out.row_mut(t as usize).scaled_add(f64::from(x), &yi);
        }
    }
    out
}

/// Latent semantic analysis by randomised truncated SVD (Halko, Martinsson and Tropp 2011):
/// a sparse random sign projection (one fixed ±1 pattern per term, derived from the term, so the
/// same terms give the same projection in every run), two power iterations, then the exact SVD
/// of the small projected matrix. Rows are the incidents' coordinates on the top
/// [`Params::components`] singular directions (U·Σ), L2-normalised. Never forms a dense
/// incidents × vocabulary matrix: memory is O(incidents × components + vocabulary × components).
fn reduce(rows: &[Vec<(u32, f32)>], vocabulary: &[String], p: &Params) -> Array2<f32> {
    let n = rows.len();
    let v = vocabulary.len();
    let components = p.components.min(n).min(v).max(1);
    let width = (components + 16).min(128).min(v.max(1));
    if v == 0 {
        return Array2::zeros((n, 1));
    }
    let mut omega = Array2::<f64>::zeros((v, width));
    for (t, term) in vocabulary.iter().enumerate() {
        let m = signs(term);
        for d in 0..width {
            omega[[t, d]] = if m >> d & 1 == 1 { 1.0 } else { -1.0 };
        }
    }
    let mut y = sparse_dot(rows, &omega);
    for _ in 0..POWER_ITERATIONS {
        let q = orthonormal(&y);
        let w = orthonormal(&sparse_t_dot(rows, v, &q));
        y = sparse_dot(rows, &w);
    }
    let q = orthonormal(&y);
    // B = Qᵀ X (l × V), kept as its transpose; its SVD from the eigenvectors of B Bᵀ.
    let bt = sparse_t_dot(rows, v, &q);
    let Some((values, vectors)) = eigen_desc(&bt.t().dot(&bt)) else {
        return normalise(q.mapv(|x| x as f32));
    };
    let keep = components.min(values.len());
    let mut u_sigma = Array2::<f64>::zeros((q.ncols(), keep));
    for (j, value) in values.iter().enumerate().take(keep) {
        let sigma = value.max(0.0).sqrt();
        u_sigma.column_mut(j).assign(&(&vectors.column(j) * sigma));
    }
    normalise(q.dot(&u_sigma).mapv(|x| x as f32))
}

/// Power iterations of the randomised SVD: two make the leading directions nearly exact on
/// text, whose singular values decay slowly.
const POWER_ITERATIONS: usize = 2;

fn normalise(mut m: Array2<f32>) -> Array2<f32> {
    for mut row in m.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    m
}

/// The incidents' ids (sorted) and their reduced, normalised vectors: what k-means sees (for the
/// benchmark against scikit-learn).
#[doc(hidden)]
pub fn vectors(docs: &[SearchDoc], p: &Params) -> (Vec<String>, Array2<f32>) {
    let mut docs: Vec<&SearchDoc> = docs.iter().collect();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    docs.dedup_by(|a, b| a.id == b.id);
    let tfidf = Tfidf::build(&docs);
    (
        docs.iter().map(|d| d.id.clone()).collect(),
        reduce(&tfidf.rows, &tfidf.vocabulary, p),
    )
}

/// Seeded sample of at most `m` of `n` indices, in index order.
fn sample_indices(n: usize, m: usize, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    if n <= m {
        return idx;
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    // Partial Fisher-Yates: the first m places.
    for i in 0..m {
        let j = i + (rng.next_u64() % (n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(m);
    idx.sort_unstable();
    idx
}

/// k-means (linfa) from `init`: memberships and centroids.
#[doc(hidden)]
pub fn fit(
    x: ArrayView2<f32>,
    k: usize,
    init: KMeansInit<f32>,
    runs: usize,
    p: &Params,
    seed: u64,
) -> Option<(Array1<usize>, Array2<f32>)> {
    let data = DatasetBase::from(x);
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(runs.max(1))
        .max_n_iterations(p.max_iterations.max(1))
        .tolerance(p.tolerance)
        .init_method(init)
        .fit(&data)
        .ok()?;
    let labels = model.predict(&x);
    Some((labels, model.centroids().clone()))
}

fn squared(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Greedy k-means++ seeding (Arthur and Vassilvitskii 2007, as scikit-learn does it): each new
/// centre is the best of `2 + ln k` candidates drawn in proportion to the squared distance to the
/// nearest centre so far, judged by how much it lowers the total. linfa's k-means++ draws one
/// candidate per centre, which lands in poorer local minima on text.
pub fn greedy_plus_plus(x: ArrayView2<f32>, k: usize, rng: &mut Xoshiro256Plus) -> Array2<f32> {
    let (n, d) = x.dim();
    let mut centres = Array2::<f32>::zeros((k, d));
    if n == 0 || k == 0 || d == 0 {
        return centres;
    }
    let data = x.as_standard_layout();
    let flat = data.as_slice().expect("standard layout is contiguous");
    let row = |i: usize| &flat[i * d..(i + 1) * d];
    let trials = 2 + (k as f64).ln() as usize;
    let first = (rng.next_u64() % n as u64) as usize;
    centres.row_mut(0).assign(&x.row(first));
    let mut closest: Vec<f32> = (0..n).map(|i| squared(row(i), row(first))).collect();
    let mut potential: f64 = closest.iter().map(|&v| f64::from(v)).sum();
    let mut next = vec![0f32; n];
    let mut best_next = vec![0f32; n];
    for c in 1..k {
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..trials {
            let target = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * potential;
            let mut acc = 0.0;
            let mut pick = n - 1;
            for (i, &v) in closest.iter().enumerate() {
                acc += f64::from(v);
                if acc > target {
                    pick = i;
                    break;
                }
            }
            let cand = row(pick);
            let mut total = 0f64;
            for (i, out) in next.iter_mut().enumerate() {
                *out = closest[i].min(squared(row(i), cand));
                total += f64::from(*out);
            }
            if best.is_none_or(|b| total < b.0) {
                best = Some((total, pick));
                std::mem::swap(&mut next, &mut best_next);
            }
        }
        let (total, pick) = best.expect("at least two trials");
        centres.row_mut(c).assign(&x.row(pick));
        std::mem::swap(&mut closest, &mut best_next);
        potential = total;
    }
    centres
}

/// The best (lowest inertia) of `runs` linfa k-means fits, each seeded by greedy k-means++:
/// memberships, centroids and inertia.
#[doc(hidden)]
pub fn fit_best(
    x: ArrayView2<f32>,
    k: usize,
    runs: usize,
    p: &Params,
    seed: u64,
) -> Option<(Array1<usize>, Array2<f32>, f64)> {
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut best: Option<(Array1<usize>, Array2<f32>, f64)> = None;
    for _ in 0..runs.max(1) {
        let init = greedy_plus_plus(x, k, &mut rng);
        let Some((labels, centroids)) = fit(x, k, KMeansInit::Precomputed(init), 1, p, seed) else {
            continue;
        };
        let inertia: f64 = x
            .rows()
            .into_iter()
            .zip(labels.iter())
            .map(|(r, &c)| {
                let d = &r - &centroids.row(c);
                f64::from(d.dot(&d))
            })
            .sum();
        if best.as_ref().is_none_or(|b| inertia < b.2) {
            best = Some((labels, centroids, inertia));
        }
    }
    best
}

/// Euclidean distances between every pair of rows.
fn pairwise(x: &Array2<f32>) -> Vec<f32> {
    let n = x.nrows();
    let gram = x.dot(&x.t());
    let mut d = vec![0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            let sq = gram[[i, i]] + gram[[j, j]] - 2.0 * gram[[i, j]];
            d[i * n + j] = sq.max(0.0).sqrt();
        }
    }
    d
}

/// Mean silhouette of `labels` (a point alone in its cluster scores 0) and its standard error.
pub fn silhouette(dist: &[f32], labels: &[usize], k: usize) -> (f32, f32) {
    let n = labels.len();
    if n < 2 {
        return (0.0, 0.0);
    }
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    let mut values = vec![0f64; n];
    let mut sums = vec![0f64; k];
    for i in 0..n {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for j in 0..n {
            sums[labels[j]] += f64::from(dist[i * n + j]);
        }
        let own = labels[i];
        if sizes[own] <= 1 {
            continue;
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| sums[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            values[i] = (b - a) / a.max(b).max(1e-12);
        }
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    (mean as f32, (var / n as f64).sqrt() as f32)
}

/// One k's clustering of the sample.
struct Model {
    k: usize,
    score: f32,
    error: f32,
    labels: Array1<usize>,
    centroids: Array2<f32>,
}

/// Chooses k by silhouette on a sample; returns k, the silhouette per k and every incident's
/// family index.
fn cluster(x: &Array2<f32>, p: &Params) -> (usize, Vec<(usize, f32)>, Vec<usize>) {
    let n = x.nrows();
    if n < 4 {
        return (1, Vec::new(), vec![0; n]);
    }
    let sample = sample_indices(n, p.sample.max(4), p.seed);
    let xs = x.select(Axis(0), &sample);
    let s = xs.nrows();
    let dist = pairwise(&xs);
    let k_lo = p.k_min.max(2);
    let k_hi = p.k_max.min(s / 2).max(k_lo);
    let mut scores = Vec::new();
    let mut models: Vec<Model> = Vec::new();
    for k in k_lo..=k_hi {
        let seed = p.seed.wrapping_add(k as u64);
        let Some((labels, centroids, _)) = fit_best(xs.view(), k, p.n_runs, p, seed) else {
            continue;
        };
        let (score, error) = silhouette(&dist, labels.as_slice().unwrap_or(&labels.to_vec()), k);
        scores.push((k, score));
        models.push(Model {
            k,
            score,
            error,
            labels,
            centroids,
        });
    }
    // The one-standard-error rule: the smallest k whose silhouette is within one standard error
    // of the best, so a tie within the noise of the sample does not split a family to make a
    // small cluster of vague incidents.
    let Some(top) = models.iter().max_by(|a, b| a.score.total_cmp(&b.score)) else {
        return (1, scores, vec![0; n]);
    };
    let floor = top.score - top.error;
    let Some(Model {
        k,
        labels: sample_labels,
        centroids,
        ..
    }) = models.into_iter().find(|m| m.score >= floor)
    else {
        return (1, scores, vec![0; n]);
    };
    if s == n {
        return (k, scores, sample_labels.to_vec());
    }
    // The sample's centroids start one refinement over every incident.
    let labels = fit(
        x.view(),
        k,
        KMeansInit::Precomputed(centroids.clone()),
        1,
        p,
        p.seed,
    )
    .map(|(l, _)| l)
    .unwrap_or_else(|| {
        // Assign to the sample's centroids.
        x.rows()
            .into_iter()
            .map(|r| {
                (0..k)
                    .min_by(|&a, &b| {
                        let da = (&r - &centroids.row(a)).mapv(|v| v * v).sum();
                        let db = (&r - &centroids.row(b)).mapv(|v| v * v).sum();
                        da.total_cmp(&db)
                    })
                    .unwrap_or(0)
            })
            .collect()
    });
    (k, scores, labels.to_vec())
}

/// Describes one group of incidents (indices into `docs`).
fn describe(members: &[usize], docs: &[&SearchDoc], tfidf: &Tfidf, x: &Array2<f32>) -> Family {
    let size = members.len();
    let mut centre = Array1::<f32>::zeros(x.ncols());
    for &i in members {
        centre += &x.row(i);
    }
    let mut scored: Vec<(f32, usize)> = members
        .iter()
        .map(|&i| (x.row(i).dot(&centre), i))
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| docs[a.1].id.cmp(&docs[b.1].id))
    });
    let mut weights: BTreeMap<u32, f32> = BTreeMap::new();
    for &i in members {
        for &(t, w) in &tfidf.rows[i] {
            *weights.entry(t).or_default() += w / size as f32;
        }
    }
    // Distinguishing terms: weight in the family above the weight over all incidents.
    let mut lift: Vec<(f32, u32)> = weights
        .iter()
        .map(|(&t, &w)| (w - tfidf.mean[t as usize], t))
        .collect();
    lift.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut top_terms: Vec<String> = Vec::new();
    for (_, t) in &lift {
        let name = tfidf.readable(&tfidf.vocabulary[*t as usize]);
        if !top_terms.contains(&name) {
            top_terms.push(name);
        }
        if top_terms.len() == TOP_TERMS {
            break;
        }
    }
    let mut label_parts: Vec<&str> = Vec::new();
    for t in &top_terms {
        let words: BTreeSet<&str> = t.split(' ').collect();
        if label_parts
            .iter()
            .any(|l| l.split(' ').any(|w| words.contains(w)))
        {
            continue;
        }
        label_parts.push(t);
        if label_parts.len() == 3 {
            break;
        }
    }
    let label = if label_parts.is_empty() {
        docs[scored[0].1].title.clone()
    } else {
        label_parts.join(", ")
    };
    let mut by_weight: Vec<(f32, u32)> = weights.iter().map(|(&t, &w)| (w, t)).collect();
    by_weight.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut centroid: TermVector = by_weight
        .iter()
        .take(CENTROID_TERMS)
        .map(|&(w, t)| (tfidf.vocabulary[t as usize].clone(), w))
        .collect();
    centroid.sort_by(|a, b| a.0.cmp(&b.0));
    // Typical causes: the written root causes most members share, nearest the centre first.
    let mut causes: Vec<(usize, usize, String)> = Vec::new();
    for (rank, &(_, i)) in scored.iter().enumerate() {
        let Some(rc) = docs[i].root_cause.as_deref().map(str::trim) else {
            continue;
        };
        if rc.is_empty() {
            continue;
        }
        match causes.iter_mut().find(|c| c.2 == rc) {
            Some(c) => c.0 += 1,
            None => causes.push((1, rank, rc.to_string())),
        }
    }
    causes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let incident_ids: Vec<String> = scored.iter().map(|&(_, i)| docs[i].id.clone()).collect();
    Family {
        id: String::new(),
        label,
        size,
        representatives: incident_ids.iter().take(REPRESENTATIVES).cloned().collect(),
        incident_ids,
        top_terms,
        typical_causes: causes.into_iter().take(3).map(|c| c.2).collect(),
        kept_id: false,
        centroid,
    }
}

/// Cosine of two term vectors sorted by term.
pub fn term_cosine(a: &TermVector, b: &TermVector) -> f32 {
    let (mut i, mut j, mut dot) = (0, 0, 0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    let na = a.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    let nb = b.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// A family id from its number.
pub fn family_id(number: u64) -> String {
    format!("F-{number:04}")
}

/// Jaccard overlap of two sorted id lists.
fn jaccard(a: &[String], b: &[String]) -> f32 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f32 / union as f32
    }
}

/// Gives each family the id of the previous family it matches best (greedy by similarity: the
/// larger of the term-space centroid cosine and the overlap of their incidents), or a new one;
/// returns the previous ids left unmatched.
fn assign_ids(
    families: &mut [Family],
    previous: &[Previous],
    mut next_number: u64,
    threshold: f32,
) -> Vec<String> {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, f) in families.iter().enumerate() {
        let mut members = f.incident_ids.clone();
        members.sort();
        for (j, old) in previous.iter().enumerate() {
            let s = term_cosine(&f.centroid, &old.centroid).max(jaccard(&members, &old.members));
            if s >= threshold {
                pairs.push((s, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| previous[a.2].id.cmp(&previous[b.2].id))
    });
    let mut taken = vec![false; previous.len()];
    for (_, i, j) in pairs {
        if families[i].kept_id || taken[j] {
            continue;
        }
        families[i].id = previous[j].id.clone();
        families[i].kept_id = true;
        taken[j] = true;
    }
    let mut fresh: Vec<usize> = (0..families.len())
        .filter(|&i| !families[i].kept_id)
        .collect();
    fresh.sort_by(|&a, &b| {
        families[b]
            .size
            .cmp(&families[a].size)
            .then_with(|| families[a].incident_ids[0].cmp(&families[b].incident_ids[0]))
    });
    for i in fresh {
        families[i].id = family_id(next_number);
        next_number += 1;
    }
    previous
        .iter()
        .zip(taken)
        .filter(|(_, t)| !t)
        .map(|(p, _)| p.id.clone())
        .collect()
}

/// One computation at a time in a process (the schedule, imports and the API may all ask).
static RECOMPUTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Recomputes families over every stored incident and stores the run. A run is saved only on the
/// run it matched its ids against; when another process stored one meanwhile, it is redone.
pub async fn recompute(
    store: &crate::store::Store,
    params: &Params,
) -> anyhow::Result<(i64, Computed)> {
    let _one = RECOMPUTING.lock().await;
    for _ in 0..3 {
        let (_, watermark) = store.incidents_watermark().await?;
        let docs: Vec<SearchDoc> = store
            .search_docs_since(i64::MIN)
            .await?
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let (previous, next, base) = store.family_matching_state().await?;
        let p = params.clone();
        let started = std::time::Instant::now();
        let computed = tokio::task::spawn_blocking(move || compute(&docs, &previous, next, &p))
            .await
            .map_err(|e| anyhow::anyhow!("computing families failed: {e}"))?;
        let detail = serde_json::json!({
            "silhouette": computed.silhouette,
            "params": params,
            "seconds": started.elapsed().as_secs_f64(),
        });
        let Some(run) = store
            .save_family_run(
                &computed,
                base,
                watermark,
                crate::domain::now_millis(),
                &detail,
            )
            .await?
        else {
            tracing::info!("another process stored families meanwhile; computing again on its run");
            continue;
        };
        tracing::info!(
            run,
            incidents = computed.incidents,
            k = computed.k,
            retired = computed.retired.len(),
            seconds = started.elapsed().as_secs_f64(),
            "incident families computed"
        );
        return Ok((run, computed));
    }
    anyhow::bail!("families kept changing under this computation (other replicas); try again")
}

/// Recomputes families when incidents were added or changed since the last run.
pub async fn recompute_if_stale(
    store: &crate::store::Store,
    params: &Params,
) -> anyhow::Result<Option<(i64, Computed)>> {
    let (count, watermark) = store.incidents_watermark().await?;
    if let Some(run) = store.latest_family_run().await?
        && run.incidents == count
        && run.watermark >= watermark
    {
        return Ok(None);
    }
    recompute(store, params).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, title: &str, cause: &str) -> SearchDoc {
        SearchDoc {
            id: id.into(),
            title: title.into(),
            service: "api".into(),
            root_cause: Some(cause.into()),
            ..SearchDoc::default()
        }
    }

    /// A run's family as the next run sees it.
    fn previous(f: &Family, id: String, centroid: TermVector) -> Previous {
        let mut members = f.incident_ids.clone();
        members.sort();
        Previous {
            id,
            centroid,
            members,
        }
    }

    fn two_kinds() -> Vec<SearchDoc> {
        let mut docs = Vec::new();
        for i in 0..12 {
            docs.push(doc(
                &format!("A-{i:02}"),
                &format!("Connection pool exhausted on db-{i}"),
                "pgbouncer max_client_conn reached; pool too small",
            ));
            docs.push(doc(
                &format!("B-{i:02}"),
                &format!("TLS certificate expired for host-{i}"),
                "cert-manager renewal failed; x509 certificate expired",
            ));
        }
        docs
    }

    #[test]
    fn two_kinds_make_two_families_whatever_the_input_order() {
        let docs = two_kinds();
        let a = compute(&docs, &[], 1, &Params::default());
        let mut reversed = docs.clone();
        reversed.reverse();
        let b = compute(&reversed, &[], 1, &Params::default());
        assert_eq!(a.k, 2, "{:?}", a.silhouette);
        assert_eq!(a.families, b.families);
        for f in &a.families {
            let first = &f.incident_ids[0][..1];
            assert!(f.incident_ids.iter().all(|i| i.starts_with(first)), "{f:?}");
            assert_eq!(f.size, 12);
        }
        assert!(
            a.families.iter().any(|f| f.label.contains("certificate")),
            "{:?}",
            a.families
        );
    }

    #[test]
    fn a_second_run_keeps_ids_and_numbers_new_families_after_the_old() {
        let docs = two_kinds();
        let first = compute(&docs, &[], 1, &Params::default());
        let previous: Vec<Previous> = first
            .families
            .iter()
            .map(|f| previous(f, f.id.clone(), f.centroid.clone()))
            .collect();
        let mut more = docs.clone();
        for i in 0..12 {
            more.push(doc(
                &format!("C-{i:02}"),
                &format!("Disk full on broker-{i}"),
                "no space left on device; log retention too long",
            ));
        }
        let second = compute(&more, &previous, 3, &Params::default());
        assert_eq!(second.k, 3);
        for f in &first.families {
            let again = second
                .families
                .iter()
                .find(|g| g.id == f.id)
                .expect("id kept");
            assert!(again.kept_id);
            assert_eq!(again.incident_ids.len(), 12);
        }
        let new = second.families.iter().find(|f| !f.kept_id).unwrap();
        assert_eq!(new.id, "F-0003");
        assert!(new.incident_ids.iter().all(|i| i.starts_with('C')));
        assert!(second.retired.is_empty());
    }

    #[test]
    fn a_family_whose_words_changed_keeps_its_id_by_its_incidents() {
        let docs = two_kinds();
        let run = compute(&docs, &[], 1, &Params::default());
        let previous: Vec<Previous> = run
            .families
            .iter()
            .map(|f| {
                // Words nothing shares any more.
                let words = vec![("unrelated".into(), 1.0)];
                previous(f, format!("OLD-{}", &f.incident_ids[0][..1]), words)
            })
            .collect();
        let again = compute(&docs, &previous, 9, &Params::default());
        let mut ids: Vec<&str> = again.families.iter().map(|f| f.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["OLD-A", "OLD-B"]);
        assert!(again.retired.is_empty());
    }
}
