//! The command line: `serve`, `demo`, `migrate`, `import` (a history file or PagerDuty),
//! `draft`, `similar`, `families`, `report`, `eval` and `print-config`. Bad input is a message on
//! stderr and exit code 2; a failed check (`eval`) exit code 1.

pub mod demo;
pub mod eval;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::app::startup::{self, Application};
use crate::config::{self, Config};
use crate::domain::IncidentId;
use crate::store::Store;

#[derive(Parser, Debug)]
#[command(
    name = "postmortem",
    version,
    about = "Drafts evidence-cited postmortems from incidents"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP service and its background workers.
    Serve,
    /// A self-contained tour on a throw-away SQLite file: replays the bundled example incidents
    /// through the real webhook endpoints and prints the drafted postmortems.
    Demo,
    /// Apply database migrations and exit.
    Migrate,
    /// (Re)draft one incident now, adding a revision.
    Draft {
        /// The incident id.
        incident_id: String,
        /// Print the postmortem as Markdown.
        #[arg(long)]
        print: bool,
    },
    /// Load incident history: import records, one JSON object a line (`-` reads stdin).
    Import {
        /// The JSONL file, or `-` for standard input.
        #[arg(required_unless_present = "pagerduty")]
        file: Option<PathBuf>,
        /// Backfill from PagerDuty's REST API instead (PAGERDUTY_API_TOKEN, PAGERDUTY_API_URL).
        #[arg(long, conflicts_with = "file")]
        pagerduty: bool,
        /// Start of the backfill: a date (2026-01-01) or an RFC 3339 time.
        #[arg(long, requires = "pagerduty")]
        since: Option<String>,
        /// End of the backfill (default: now).
        #[arg(long, requires = "pagerduty")]
        until: Option<String>,
    },
    /// Past incidents most like one incident, or like free text.
    Similar {
        /// The incident id (or leave out and give --text).
        incident_id: Option<String>,
        /// Words to search for instead of an incident.
        #[arg(long, conflicts_with = "incident_id")]
        text: Option<String>,
        /// How many to list.
        #[arg(short, default_value_t = 5)]
        k: usize,
        /// Print JSON (`{"similar": [...]}`).
        #[arg(long)]
        json: bool,
    },
    /// Score the drafter on a golden set: DIR/incidents.jsonl and DIR/expected.json.
    Eval {
        /// The golden set's folder.
        #[arg(default_value = "fixtures/golden")]
        dir: PathBuf,
        /// Minimum top-1 culprit accuracy.
        #[arg(long, default_value_t = 0.8)]
        min_top1: f64,
        /// Minimum top-3 culprit accuracy.
        #[arg(long, default_value_t = 0.9)]
        min_top3: f64,
        /// Minimum share of citations that exist in the evidence.
        #[arg(long, default_value_t = 1.0)]
        min_citations: f64,
        /// Minimum share of sections with content.
        #[arg(long, default_value_t = 1.0)]
        min_completeness: f64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// (Re)compute incident families over the history and list them.
    Families {
        /// Print JSON (`{"families": [...]}`).
        #[arg(long)]
        json: bool,
        /// List the stored families without recomputing.
        #[arg(long)]
        no_recompute: bool,
        /// Also list retired families.
        #[arg(long)]
        retired: bool,
        /// Score the families against known kinds: a JSON object {"<incident id>": "<kind>"}.
        #[arg(long, value_name = "LABELS.json")]
        labels: Option<PathBuf>,
    },
    /// The monthly leadership report.
    Report {
        /// The month, YYYY-MM (incidents by the UTC month of their first trigger).
        #[arg(long)]
        month: String,
        /// html, md (or markdown) or json.
        #[arg(long, default_value = "md")]
        format: String,
        /// Write to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print a commented example configuration.
    PrintConfig,
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::PrintConfig => {
            print!("{}", config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => migrate().await,
        Command::Serve => serve().await,
        Command::Demo => crate::cli::demo::run().await,
        Command::Families {
            json,
            no_recompute,
            retired,
            labels,
        } => families(json, no_recompute, retired, labels.as_deref()).await,
        Command::Report { month, format, out } => report(&month, &format, out.as_deref()).await,
        Command::Import {
            file,
            pagerduty,
            since,
            until,
        } => match (file, pagerduty) {
            (_, true) => import_pagerduty(since.as_deref(), until.as_deref()).await,
            (Some(file), false) => import_file(&file).await,
            (None, false) => {
                eprintln!("error: give a file (or -), or --pagerduty --since <date>");
                Ok(ExitCode::from(2))
            }
        },
        Command::Similar {
            incident_id,
            text,
            k,
            json,
        } => similar(incident_id, text, k, json).await,
        Command::Eval {
            dir,
            min_top1,
            min_top3,
            min_citations,
            min_completeness,
            json,
        } => {
            let thresholds = crate::cli::eval::Thresholds {
                top1: min_top1,
                top3: min_top3,
                citations: min_citations,
                completeness: min_completeness,
            };
            eval(&dir, &thresholds, json).await
        }
        Command::Draft { incident_id, print } => draft(&incident_id, print).await,
    }
}

/// `postmortem migrate`.
async fn migrate() -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    Store::connect(&config.database_url)
        .await
        .with_context(|| format!("migrating {}", startup::redact_url(&config.database_url)))?;
    println!(
        "migrations applied to {}",
        startup::redact_url(&config.database_url)
    );
    Ok(ExitCode::SUCCESS)
}

/// `postmortem serve`: until SIGINT or SIGTERM.
async fn serve() -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    config.validate_for_serving()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let app = Application::build(config, listener).await?;
    let shutdown = CancellationToken::new();
    startup::cancel_on_signal(shutdown.clone());
    app.run_until_stopped(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// `postmortem eval DIR`: fails (exit 1) below the thresholds, 2 on a directory without a set.
async fn eval(
    dir: &Path,
    thresholds: &crate::cli::eval::Thresholds,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !dir.join("incidents.jsonl").exists() || !dir.join("expected.json").exists() {
        eprintln!(
            "error: {} needs incidents.jsonl and expected.json",
            dir.display()
        );
        return Ok(ExitCode::from(2));
    }
    let report = crate::cli::eval::run(dir, Config::load()?).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    let failures = report.failures(thresholds);
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for f in failures {
        eprintln!("eval: {f}");
    }
    Ok(ExitCode::FAILURE)
}

/// `postmortem draft ID`: a new revision now, whatever the evidence.
async fn draft(incident_id: &str, print: bool) -> anyhow::Result<ExitCode> {
    let id = IncidentId::parse(incident_id)?;
    let config = Config::load()?;
    let (_, _, _, _, drafter) = startup::components(config).await?;
    let drafted = match drafter.draft(&id, true).await {
        Ok(d) => d,
        Err(crate::draft::DraftError::NotFound(id)) => {
            eprintln!("error: no incident {id} in the database");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    if print {
        print!("{}", drafted.postmortem.markdown);
    } else {
        println!("drafted {id}: revision {}", drafted.revision);
    }
    Ok(ExitCode::SUCCESS)
}

/// `postmortem import FILE`: every good line is stored, every bad one reported with its line
/// number; exit 0 when nothing was rejected, 1 otherwise, 2 when the file cannot be read.
async fn import_file(file: &Path) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(file) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", file.display());
                return Ok(ExitCode::from(2));
            }
        }
    };
    let total = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let progress = std::io::stderr().is_terminal() && total > 0;
    let config = Config::load()?;
    let (config, store, _, _, _) = startup::components(config).await?;
    let mut summary = crate::domain::ImportSummary::default();
    let mut read = 0u64;
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", n + 1))?;
        read += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match crate::ingest::history::parse_record(&line, &config) {
            Ok(record) => match store.import_record(&record).await? {
                crate::domain::Imported::New => summary.imported += 1,
                crate::domain::Imported::Updated => summary.updated += 1,
            },
            Err(reason) => summary.rejected.push((n + 1, reason)),
        }
        if progress && n % 50 == 0 {
            let pct = (read * 100 / total).min(100);
            let bar = "#".repeat((pct / 4) as usize);
            eprint!(
                "\r[{bar:<25}] {pct:>3}%  {} imported, {} updated, {} rejected",
                summary.imported,
                summary.updated,
                summary.rejected.len()
            );
            let _ = std::io::stderr().flush();
        }
    }
    if progress {
        eprintln!();
    }
    if summary.imported + summary.updated > 0 {
        match crate::patterns::families::recompute(&store, &Default::default()).await {
            Ok((_, c)) => eprintln!(
                "families: {} over {} incidents (`postmortem families` lists them)",
                c.k, c.incidents
            ),
            Err(e) => eprintln!("warning: families were not recomputed: {e:#}"),
        }
    }
    store.close().await;
    println!(
        "imported {}, updated {}, rejected {}",
        summary.imported,
        summary.updated,
        summary.rejected.len()
    );
    for (line, reason) in &summary.rejected {
        println!("  line {line}: {reason}");
    }
    Ok(if summary.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn similar(
    incident_id: Option<String>,
    text: Option<String>,
    k: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !(1..=crate::patterns::similar::MAX_K).contains(&k) {
        eprintln!(
            "error: -k must be between 1 and {}",
            crate::patterns::similar::MAX_K
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
async fn families(
    json: bool,
    no_recompute: bool,
    retired: bool,
    labels: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let truth: Option<std::collections::BTreeMap<String, String>> = match labels {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => match serde_json::from_str(&text) {
                Ok(map) => Some(map),
                Err(e) => {
                    eprintln!(
                        "error: {}: not a JSON object of id → kind: {e}",
                        path.display()
                    );
                    return Ok(ExitCode::from(2));
                }
            },
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let config = Config::load()?;
    let (_, store, _, _, _) = startup::components(config).await?;
    if !no_recompute {
        crate::patterns::families::recompute(&store, &Default::default()).await?;
    }
    let value = crate::patterns::families::listing(&store, retired)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let families = store.families(retired).await?;
    store.close().await;
    let score = truth.as_ref().map(|truth| {
        let mut ours = Vec::new();
        let mut kinds = Vec::new();
        for f in &families {
            for id in &f.incident_ids {
                if let Some(kind) = truth.get(id) {
                    ours.push(f.id.as_str());
                    kinds.push(kind.as_str());
                }
            }
        }
        (
            crate::patterns::families::quality::adjusted_rand_index(&ours, &kinds),
            ours.len(),
        )
    });
    if json {
        let mut value = value;
        if let Some((ari, n)) = score {
            value["quality"] =
                serde_json::json!({ "adjusted_rand_index": ari, "labelled_incidents": n });
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    if families.is_empty() {
        println!("No families: there are no incidents yet (`postmortem import` loads history).");
    }
    for f in &families {
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

/// `postmortem report --month YYYY-MM`.
async fn report(month: &str, format: &str, out: Option<&Path>) -> anyhow::Result<ExitCode> {
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
    let report = crate::patterns::report::build(
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
        "html" => templates.report_html(&crate::patterns::report::with_charts(report))?,
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

/// A date (`2026-01-01`, midnight UTC) or an RFC 3339 time.
fn parse_date(s: &str, name: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    crate::domain::parse_time(s).map_err(|e| {
        anyhow::anyhow!("--{name} {s:?} is neither a date (2026-01-01) nor an RFC 3339 time: {e}")
    })
}

async fn import_pagerduty(since: Option<&str>, until: Option<&str>) -> anyhow::Result<ExitCode> {
    let since = match since.map(|s| parse_date(s, "since")).transpose() {
        Ok(Some(s)) => s,
        Ok(None) => {
            eprintln!("error: --pagerduty needs --since <date>");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let until = match until.map(|s| parse_date(s, "until")).transpose() {
        Ok(u) => u.unwrap_or_else(chrono::Utc::now),
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let config = Config::load()?;
    if config.pagerduty_api_token.is_none() {
        eprintln!("error: PAGERDUTY_API_TOKEN is not set: the REST backfill needs an API key");
        return Ok(ExitCode::from(2));
    }
    let (config, store, _, _, _) = startup::components(config).await?;
    let tty = std::io::stderr().is_terminal();
    let mut progress = |s: &crate::domain::ImportSummary, skipped: usize| {
        if tty {
            eprint!(
                "\r{} imported, {} updated, {} already from webhooks, {} rejected",
                s.imported,
                s.updated,
                skipped,
                s.rejected.len()
            );
            let _ = std::io::stderr().flush();
        }
    };
    let result = crate::ingest::backfill::run(&store, &config, since, until, &mut progress).await;
    if tty {
        eprintln!();
    }
    store.close().await;
    let (summary, skipped) = result?;
    println!(
        "imported {}, updated {}, skipped {} (already from webhooks), rejected {}",
        summary.imported,
        summary.updated,
        skipped,
        summary.rejected.len()
    );
    for (n, reason) in &summary.rejected {
        println!("  incident {n}: {reason}");
    }
    Ok(if summary.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
