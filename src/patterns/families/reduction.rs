//! Reduction: latent semantic analysis by a randomised truncated SVD (Halko–Martinsson–Tropp) with
//! a fixed ±1 sign pattern per term and power iterations, without ever building an incidents ×
//! vocabulary matrix; rows are L2-normalised.

use linfa_linalg::eigh::Eigh;
use ndarray::Array2;

use super::*;

/// FNV-1a: a hash that is the same in every process and version (unlike `DefaultHasher`).
pub(super) fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64, to spread a hash into independent bits.
pub(super) fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A term's projection: one sign per dimension, from the term alone.
pub(super) fn signs(term: &str) -> u128 {
    let mut x = stable_hash(term);
    (u128::from(splitmix(&mut x)) << 64) | u128::from(splitmix(&mut x))
}

/// Eigen-decomposition of a small symmetric matrix, largest eigenvalues first.
pub(super) fn eigen_desc(m: &Array2<f64>) -> Option<(Vec<f64>, Array2<f64>)> {
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
pub(super) fn orthonormal(m: &Array2<f64>) -> Array2<f64> {
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
pub(super) fn sparse_dot(rows: &[Vec<(u32, f32)>], w: &Array2<f64>) -> Array2<f64> {
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
pub(super) fn sparse_t_dot(
    rows: &[Vec<(u32, f32)>],
    vocabulary: usize,
    y: &Array2<f64>,
) -> Array2<f64> {
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
pub(super) fn reduce(rows: &[Vec<(u32, f32)>], vocabulary: &[String], p: &Params) -> Array2<f32> {
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
pub(super) const POWER_ITERATIONS: usize = 2;

pub(super) fn normalise(mut m: Array2<f32>) -> Array2<f32> {
    for mut row in m.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    m
}
