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

mod features;
mod ids;
mod kmeans;
mod naming;
pub mod quality;
mod reduction;

use ndarray::Array2;
use serde::Serialize;

use crate::domain::{Computed, Family, Previous, SearchDoc};

use features::*;
use ids::*;
use kmeans::*;
use naming::*;
use reduction::*;

pub use ids::{family_id, term_cosine};
pub use kmeans::{fit, fit_best, greedy_plus_plus, silhouette};

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

/// The families as the API shows them: the contract's fields, then the rest.
pub async fn listing(
    store: &crate::store::Store,
    retired: bool,
) -> Result<serde_json::Value, crate::store::StoreError> {
    let families = store.families(retired).await?;
    let run = store.latest_family_run().await?;
    Ok(serde_json::json!({
        "families": families,
        "run": run,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TermVector;

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
