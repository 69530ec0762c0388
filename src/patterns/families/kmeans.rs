//! k-means: greedy k-means++ seeds refined by linfa-clustering, the mean silhouette, and the choice
//! of k (the smallest within one standard error of the best) on a seeded sample.

use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

use super::*;

/// Seeded sample of at most `m` of `n` indices, in index order.
pub(super) fn sample_indices(n: usize, m: usize, seed: u64) -> Vec<usize> {
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

pub(super) fn squared(a: &[f32], b: &[f32]) -> f32 {
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
pub(super) fn pairwise(x: &Array2<f32>) -> Vec<f32> {
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
pub(super) struct Model {
    k: usize,
    score: f32,
    error: f32,
    labels: Array1<usize>,
    centroids: Array2<f32>,
}

/// Chooses k by silhouette on a sample; returns k, the silhouette per k and every incident's
/// family index.
pub(super) fn cluster(x: &Array2<f32>, p: &Params) -> (usize, Vec<(usize, f32)>, Vec<usize>) {
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
