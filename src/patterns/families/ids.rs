//! Stable ids: this run's families matched to the previous run's by term-space cosine or member
//! overlap, so an id survives a changed vocabulary or basis.

use crate::domain::{Family, Previous, TermVector};

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
pub(super) fn jaccard(a: &[String], b: &[String]) -> f32 {
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
pub(super) fn assign_ids(
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
