//! Lineage-aware candidates. For an incident on service S: the datasets S's runs read, the runs
//! that wrote new versions of them in the lookback window, and further upstream (three hops);
//! and model or prompt changes seen in S's own run facets. Each becomes a candidate cause next to
//! the change events, with evidence id `lineage:<runId>` and the path that links it to S.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Config;
use crate::domain::DatasetRef;
use crate::domain::{Change, LineageLink};
use crate::domain::{ChangeKind, Millis};
use crate::store::lineage::Run;
use crate::store::{Result, Store};

/// How far upstream the walk goes.
pub const MAX_HOPS: u8 = 3;

fn short(run_id: &str) -> &str {
    &run_id[..run_id.len().min(8)]
}

fn dataset(d: &DatasetRef) -> String {
    format!("{}/{}", d.namespace, d.name)
}

/// The job names that are the service: its own name and its configured OpenLineage jobs.
fn job_names(config: &Config, service: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::from([service.to_lowercase()]);
    if let Some(m) = config.services.get(service) {
        for j in &m.openlineage_jobs {
            names.insert(j.rsplit('/').next().unwrap_or(j).to_lowercase());
        }
    }
    names
}

/// A run facet's identity for change detection: facets about prompts or models, minus the
/// OpenLineage bookkeeping fields.
fn signatures(run: &Run) -> BTreeMap<String, String> {
    run.facets
        .iter()
        .filter(|(k, _)| {
            let k = k.to_lowercase();
            k.contains("prompt") || k.contains("model")
        })
        .map(|(k, v)| {
            let fields: BTreeMap<&str, String> = v
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(f, _)| !f.starts_with('_'))
                        .map(|(f, x)| {
                            (
                                f.as_str(),
                                x.as_str().map_or_else(|| x.to_string(), str::to_string),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                k.clone(),
                serde_json::to_string(&fields).unwrap_or_default(),
            )
        })
        .collect()
}

fn field(sig: &str, name: &str) -> Option<String> {
    serde_json::from_str::<BTreeMap<String, String>>(sig)
        .ok()?
        .get(name)
        .cloned()
}

/// Candidates from lineage in `[from, to]` for `service`.
pub async fn candidates(
    store: &Store,
    config: &Config,
    service: &str,
    from: Millis,
    to: Millis,
) -> Result<Vec<Change>> {
    let mut own: Vec<Run> = Vec::new();
    for name in job_names(config, service) {
        own.extend(store.lineage_runs_of_job(&name, from, to).await?);
    }
    own.sort_by(|a, b| {
        a.completed_at
            .cmp(&b.completed_at)
            .then_with(|| a.run_id.cmp(&b.run_id))
    });
    own.dedup_by(|a, b| a.run_id == b.run_id);
    let mut out = version_changes(service, &own);
    out.extend(upstream_changes(store, config, service, &own, from, to).await?);
    Ok(out)
}

/// Model and prompt changes in the service's own runs: a facet whose signature differs from the
/// run before.
fn version_changes(service: &str, own: &[Run]) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    for pair in own.windows(2) {
        let (before, after) = (signatures(&pair[0]), signatures(&pair[1]));
        for (facet, sig) in &after {
            let Some(old) = before.get(facet).filter(|old| *old != sig) else {
                continue;
            };
            let (old_v, new_v) = (field(old, "version"), field(sig, "version"));
            let name = field(sig, "name").unwrap_or_else(|| facet.clone());
            let summary = if old_v == new_v {
                format!(
                    "{service} started using a changed {facet} \"{name}\" without a version bump (still {})",
                    new_v.as_deref().unwrap_or("unversioned")
                )
            } else {
                format!(
                    "{service} moved {facet} \"{name}\" from {} to {}",
                    old_v.as_deref().unwrap_or("?"),
                    new_v.as_deref().unwrap_or("?")
                )
            };
            let run = &pair[1];
            out.push(Change {
                id: run.run_id.clone(),
                service: service.to_string(),
                kind: if facet.to_lowercase().contains("prompt") {
                    ChangeKind::Prompt
                } else {
                    ChangeKind::Model
                },
                summary,
                at: run.completed_at,
                version: new_v,
                author: None,
                url: None,
                source: "lineage".into(),
                environment: None,
                production: true,
                lineage: Some(LineageLink {
                    hops: 0,
                    path: format!(
                        "{service} run {} (completed {}) carries {facet} {sig}",
                        short(&run.run_id),
                        crate::domain::fmt_time(run.completed_at)
                    ),
                }),
            });
        }
    }
    out
}

/// `namespace/name@version` (no `@` part without a version).
fn versioned(d: &DatasetRef) -> String {
    match &d.version {
        Some(v) => format!("{}@{v}", dataset(d)),
        None => dataset(d),
    }
}

/// What kind of change a producing run is: a model or prompt by its job's or dataset's name,
/// else data.
fn producer_kind(job: &str, dataset_name: &str) -> ChangeKind {
    let job = job.to_lowercase();
    if job.contains("model") || dataset_name.contains("model") {
        ChangeKind::Model
    } else if job.contains("prompt") || dataset_name.contains("prompt") {
        ChangeKind::Prompt
    } else {
        ChangeKind::Data
    }
}

/// Upstream: what the service read, who wrote it, and what they read, up to [`MAX_HOPS`].
async fn upstream_changes(
    store: &Store,
    config: &Config,
    service: &str,
    own: &[Run],
    from: Millis,
    to: Millis,
) -> Result<Vec<Change>> {
    let own_ids: BTreeSet<&str> = own.iter().map(|r| r.run_id.as_str()).collect();
    let mut out: Vec<Change> = Vec::new();
    let mut frontier: Vec<(DatasetRef, String)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for run in own {
        for d in store.lineage_datasets(&run.run_id, "in").await? {
            if seen.insert(dataset(&d)) {
                frontier.push((d.clone(), format!("{service} reads {}", dataset(&d))));
            }
        }
    }
    let mut producers_seen: BTreeSet<String> = BTreeSet::new();
    for hop in 1..=MAX_HOPS {
        let mut next = Vec::new();
        for (d, path) in &frontier {
            for (run, version) in store
                .lineage_producers(&d.namespace, &d.name, from, to)
                .await?
            {
                if own_ids.contains(run.run_id.as_str())
                    || !producers_seen.insert(run.run_id.clone())
                {
                    continue;
                }
                let at = version
                    .as_deref()
                    .map(|v| format!(" at version {v}"))
                    .unwrap_or_default();
                let path = format!(
                    "{path} ← written{at} by {} run {} (completed {})",
                    run.job_name,
                    short(&run.run_id),
                    crate::domain::fmt_time(run.completed_at)
                );
                let kind = producer_kind(&run.job_name, &d.name);
                let inputs = store.lineage_datasets(&run.run_id, "in").await?;
                for input in &inputs {
                    if seen.insert(dataset(input)) {
                        let reads = format!("{path}, which read {}", versioned(input));
                        next.push((input.clone(), reads));
                    }
                }
                let read_from: Vec<String> = inputs.iter().map(versioned).collect();
                let from_part = if read_from.is_empty() {
                    String::new()
                } else {
                    format!(" from {}", read_from.join(", "))
                };
                out.push(Change {
                    id: run.run_id.clone(),
                    service: config.service_for_job(&run.job_namespace, &run.job_name),
                    kind,
                    summary: format!("{} wrote {}{at}{from_part}", run.job_name, dataset(d)),
                    at: run.completed_at,
                    version,
                    author: None,
                    url: None,
                    source: "lineage".into(),
                    environment: None,
                    production: true,
                    lineage: Some(LineageLink { hops: hop, path }),
                });
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(out)
}
