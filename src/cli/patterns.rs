//! The patterns commands: `similar`, `families` and `report`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use crate::app::startup;
use crate::config::Config;
use crate::domain::IncidentId;
use crate::patterns;
use crate::store::families::StoredFamily;

pub(super) async fn similar(
    incident_id: Option<String>,
    text: Option<String>,
    k: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !(1..=patterns::similar::MAX_K).contains(&k) {
        eprintln!(
            "error: -k must be between 1 and {}",
            patterns::similar::MAX_K
        );
        return Ok(ExitCode::from(2));
    }
    let config = Config::load()?;
    let (_, store, _, _, drafter) = startup::components(config).await?;
    let search = drafter.search();
    let hits = match (incident_id, text) {
        (Some(id), None) => {
            let id = IncidentId::parse(&id)?;
            match search.similar_to(id.as_str(), k).await? {
                Some(h) => h,
                None => {
                    eprintln!("error: no incident {id} in the database");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        (None, Some(text)) if !text.trim().is_empty() => search.search(&text, k).await?,
        _ => {
            eprintln!("error: give an incident id or --text \"<words>\"");
            return Ok(ExitCode::from(2));
        }
    };
    store.close().await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "similar": hits }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        println!("No similar incident found.");
    }
    for (i, h) in hits.iter().enumerate() {
        println!(
            "{}. {} [{}] {} (score {:.3})",
            i + 1,
            h.id,
            h.service,
            h.title,
            h.score
        );
        if !h.why.is_empty() {
            println!("   why: {}", h.why.join("; "));
        }
        if let Some(rc) = &h.fixed_by.root_cause {
            println!("   root cause: {rc}");
        }
        if let Some(r) = &h.fixed_by.resolution {
            println!("   resolution: {r}");
        }
        for a in &h.fixed_by.action_items {
            println!("   action item: {a}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `postmortem families`: recompute (unless told not to) and list.
pub(super) async fn families(
    json: bool,
    no_recompute: bool,
    retired: bool,
    labels: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let truth = match labels.map(read_labels).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let config = Config::load()?;
    let (_, store, _, _, _) = startup::components(config).await?;
    if !no_recompute {
        patterns::families::recompute(&store, &Default::default()).await?;
    }
    let value = patterns::families::listing(&store, retired)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let families = store.families(retired).await?;
    store.close().await;
    let score = truth.as_ref().map(|truth| agreement(&families, truth));
    if json {
        let mut value = value;
        if let Some((ari, n)) = score {
            value["quality"] =
                serde_json::json!({ "adjusted_rand_index": ari, "labelled_incidents": n });
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_families(&families);
    if let Some(run) = value.get("run").filter(|r| !r.is_null()) {
        println!(
            "run {} at {}: k = {} over {} incidents",
            run["run"], run["computed_at"], run["k"], run["incidents"]
        );
    }
    if let Some((ari, n)) = score {
        println!("adjusted Rand index against the labels: {ari:.4} ({n} labelled incidents)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `--labels FILE`: a JSON object of incident id → kind; `null` marks a noise incident that
/// belongs to no kind (clustered like the rest, left out of the score).
fn read_labels(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let labels: BTreeMap<String, Option<String>> = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a JSON object of id → kind (or null): {e}",
            path.display()
        )
    })?;
    Ok(labels
        .into_iter()
        .filter_map(|(id, kind)| Some((id, kind?)))
        .collect())
}

/// The adjusted Rand index of the families against the labels, and how many incidents had one.
fn agreement(families: &[StoredFamily], truth: &BTreeMap<String, String>) -> (f64, usize) {
    let mut ours = Vec::new();
    let mut kinds = Vec::new();
    for f in families {
        for id in &f.incident_ids {
            if let Some(kind) = truth.get(id) {
                ours.push(f.id.as_str());
                kinds.push(kind.as_str());
            }
        }
    }
    (
        patterns::families::quality::adjusted_rand_index(&ours, &kinds),
        ours.len(),
    )
}

fn print_families(families: &[StoredFamily]) {
    if families.is_empty() {
        println!("No families: there are no incidents yet (`postmortem import` loads history).");
    }
    for f in families {
        println!(
            "{} {} ({} incidents){}",
            f.id,
            f.label,
            f.size,
            if f.retired_at.is_some() {
                " [retired]"
            } else {
                ""
            }
        );
        println!("   terms: {}", f.top_terms.join(", "));
        println!("   e.g.: {}", f.representatives.join(", "));
        if let Some(c) = f.typical_causes.first() {
            println!("   typical cause: {c}");
        }
    }
}

/// `postmortem report --month YYYY-MM`.
pub(super) async fn report(
    month: &str,
    format: &str,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let month = match crate::domain::report::Month::parse(month) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if !["html", "md", "markdown", "json"].contains(&format) {
        eprintln!("error: --format {format:?} is not one of html, md, markdown, json");
        return Ok(ExitCode::from(2));
    }
    let config = Config::load()?;
    let (config, store, templates, _, _) = startup::components(config).await?;
    let report = patterns::report::build(
        &store,
        month,
        config.drafting.lookback_hours,
        &config.base_url,
    )
    .await?;
    let body = serde_json::to_value(&report)?;
    let month = report.month.clone();
    store.close().await;
    let text = match format {
        "json" => serde_json::to_string_pretty(&body)? + "\n",
        "html" => templates.report_html(&patterns::report::with_charts(report))?,
        _ => templates.report_markdown(&report)?,
    };
    match out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return Ok(ExitCode::from(2));
            }
            eprintln!("wrote the {month} report to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
