//! Incident families: groups of past incidents with one underlying cause, with ids that stay
//! stable from one computation to the next.

use serde::{Deserialize, Serialize};

/// A sparse term-space vector: (term, weight), sorted by term.
pub type TermVector = Vec<(String, f32)>;

/// A family as a previous run left it, for matching.
#[derive(Debug, Clone)]
pub struct Previous {
    pub id: String,
    pub centroid: TermVector,
    /// Its incidents, sorted.
    pub members: Vec<String>,
}

/// One family of this run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Family {
    pub id: String,
    pub label: String,
    pub size: usize,
    /// Members, nearest the family's centre first.
    pub incident_ids: Vec<String>,
    pub top_terms: Vec<String>,
    /// The incidents nearest the centre.
    pub representatives: Vec<String>,
    /// The most common written root causes of its members.
    pub typical_causes: Vec<String>,
    /// The id existed in the previous run.
    pub kept_id: bool,
    /// Term-space centroid (the top terms by weight), for the next run's matching.
    #[serde(skip)]
    pub centroid: TermVector,
}

/// The result of one computation.
#[derive(Debug, Clone, Serialize)]
pub struct Computed {
    pub incidents: usize,
    pub k: usize,
    /// Mean silhouette per k tried, on the sample.
    pub silhouette: Vec<(usize, f32)>,
    pub families: Vec<Family>,
    /// Previous ids no family of this run took.
    pub retired: Vec<String>,
}
