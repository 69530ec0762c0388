//! How well families recover known kinds: the adjusted Rand index (Hubert and Arabie, 1985).

use std::collections::BTreeMap;

fn pairs(n: u64) -> f64 {
    (n * n.saturating_sub(1)) as f64 / 2.0
}

/// The adjusted Rand index of two labellings of the same items: 1 for identical partitions
/// (whatever the label names), about 0 for independent ones.
pub fn adjusted_rand_index<A: Ord, B: Ord>(a: &[A], b: &[B]) -> f64 {
    assert_eq!(a.len(), b.len(), "labellings of different lengths");
    let n = a.len() as u64;
    let mut table: BTreeMap<(&A, &B), u64> = BTreeMap::new();
    let mut rows: BTreeMap<&A, u64> = BTreeMap::new();
    let mut cols: BTreeMap<&B, u64> = BTreeMap::new();
    for (x, y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    let index: f64 = table.values().map(|&c| pairs(c)).sum();
    let sum_a: f64 = rows.values().map(|&c| pairs(c)).sum();
    let sum_b: f64 = cols.values().map(|&c| pairs(c)).sum();
    let total = pairs(n);
    if total == 0.0 {
        return 1.0;
    }
    let expected = sum_a * sum_b / total;
    let max = (sum_a + sum_b) / 2.0;
    if (max - expected).abs() < f64::EPSILON {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::adjusted_rand_index as ari;

    #[test]
    fn identical_partitions_score_one_whatever_the_names() {
        assert!((ari(&[0, 0, 1, 1, 2], &["x", "x", "y", "y", "z"]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_known_value() {
        // scikit-learn: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) == 0.5714285714285715
        assert!((ari(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.571_428_571_428_571_5).abs() < 1e-12);
        // adjusted_rand_score([0, 0, 0, 0], [0, 1, 2, 3]) == 0.0
        assert!(ari(&[0, 0, 0, 0], &[0, 1, 2, 3]).abs() < 1e-12);
    }
}
