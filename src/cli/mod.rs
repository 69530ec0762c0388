//! The command line: `serve`, `demo`, `migrate`, `import` (a history file or PagerDuty),
//! `draft`, `similar`, `families`, `report`, `eval` and `print-config`. Bad input is a message on
//! stderr and exit code 2; a failed check (`eval`) exit code 1.

pub mod demo;
pub mod eval;
mod import;
mod patterns;

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
        /// Under each incident whose first hypothesis is wrong, print the first three
        /// hypotheses with their kind, confidence and reasons.
        #[arg(long)]
        explain: bool,
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
        } => patterns::families(json, no_recompute, retired, labels.as_deref()).await,
        Command::Report { month, format, out } => {
            patterns::report(&month, &format, out.as_deref()).await
        }
        Command::Import {
            file,
            pagerduty,
            since,
            until,
        } => match (file, pagerduty) {
            (_, true) => import::import_pagerduty(since.as_deref(), until.as_deref()).await,
            (Some(file), false) => import::import_file(&file).await,
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
        } => patterns::similar(incident_id, text, k, json).await,
        Command::Eval {
            dir,
            min_top1,
            min_top3,
            min_citations,
            min_completeness,
            json,
            explain,
        } => {
            let thresholds = crate::cli::eval::Thresholds {
                top1: min_top1,
                top3: min_top3,
                citations: min_citations,
                completeness: min_completeness,
            };
            eval(&dir, &thresholds, json, explain).await
        }
        Command::Draft { incident_id, print } => draft(&incident_id, print).await,
    }
}

/// `postmortem migrate`.
async fn migrate() -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    Store::connect(&config.database_url)
        .await
        .with_context(|| format!("migrating {}", config::redact_url(&config.database_url)))?;
    println!(
        "migrations applied to {}",
        config::redact_url(&config.database_url)
    );
    Ok(ExitCode::SUCCESS)
}

/// `postmortem serve`: until SIGINT or SIGTERM.
async fn serve() -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    config.validate_for_serving()?;
    let listener = tokio::net::TcpListener::bind(*config.listen)
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
    explain: bool,
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
        report.print(explain);
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
