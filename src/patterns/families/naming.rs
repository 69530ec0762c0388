//! Naming: each family described in term space (its mean TF-IDF vector): distinguishing terms, a
//! label, the incidents nearest its centre and typical root causes.

use std::collections::{BTreeMap, BTreeSet};

use ndarray::{Array1, Array2};

use super::*;
use crate::domain::{Family, SearchDoc, TermVector};

/// Terms of the centroid kept for matching.
pub(super) const CENTROID_TERMS: usize = 200;

pub(super) const REPRESENTATIVES: usize = 3;

pub(super) const TOP_TERMS: usize = 10;

/// Describes one group of incidents (indices into `docs`).
pub(super) fn describe(
    members: &[usize],
    docs: &[&SearchDoc],
    tfidf: &Tfidf,
    x: &Array2<f32>,
) -> Family {
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
    let top_terms = distinguishing_terms(&weights, tfidf);
    let label = label_of(&top_terms).unwrap_or_else(|| docs[scored[0].1].title.clone());
    let mut by_weight: Vec<(f32, u32)> = weights.iter().map(|(&t, &w)| (w, t)).collect();
    by_weight.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut centroid: TermVector = by_weight
        .iter()
        .take(CENTROID_TERMS)
        .map(|&(w, t)| (tfidf.vocabulary[t as usize].clone(), w))
        .collect();
    centroid.sort_by(|a, b| a.0.cmp(&b.0));
    let incident_ids: Vec<String> = scored.iter().map(|&(_, i)| docs[i].id.clone()).collect();
    Family {
        id: String::new(),
        label,
        size,
        representatives: incident_ids.iter().take(REPRESENTATIVES).cloned().collect(),
        incident_ids,
        top_terms,
        typical_causes: typical_causes(&scored, docs),
        kept_id: false,
        centroid,
    }
}

/// The family's terms above their weight over all incidents, most distinguishing first.
fn distinguishing_terms(weights: &BTreeMap<u32, f32>, tfidf: &Tfidf) -> Vec<String> {
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
    top_terms
}

/// Up to three of the top terms that share no word, joined; `None` when there are none.
fn label_of(top_terms: &[String]) -> Option<String> {
    let mut label_parts: Vec<&str> = Vec::new();
    for t in top_terms {
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
    (!label_parts.is_empty()).then(|| label_parts.join(", "))
}

/// The written root causes most members share (up to three), nearest the centre first.
fn typical_causes(scored: &[(f32, usize)], docs: &[&SearchDoc]) -> Vec<String> {
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
    causes.into_iter().take(3).map(|c| c.2).collect()
}
