//! `postmortem import`: a history file (JSON lines) or PagerDuty's REST API since a date.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::app::startup;
use crate::config::Config;
use crate::domain::ImportSummary;

/// `postmortem import FILE`: every good line is stored, every bad one reported with its line
/// number; exit 0 when nothing was rejected, 1 otherwise, 2 when the file cannot be read.
pub(super) async fn import_file(file: &Path) -> anyhow::Result<ExitCode> {
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
    let mut summary = ImportSummary::default();
    let mut read = 0u64;
    for (n, bytes) in reader.split(b'\n').enumerate() {
        let bytes = bytes.with_context(|| format!("reading line {}", n + 1))?;
        read += bytes.len() as u64 + 1;
        let line = match crate::ingest::history::decode_line(&bytes, n == 0) {
            Ok(line) => line,
            Err(reason) => {
                summary.rejected.push((n + 1, reason));
                continue;
            }
        };
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
    Ok(exit_code(&summary))
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

pub(super) async fn import_pagerduty(
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<ExitCode> {
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
    let mut progress = |s: &ImportSummary, skipped: usize| {
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
    Ok(exit_code(&summary))
}

/// 0 when nothing was rejected, 1 otherwise.
fn exit_code(summary: &ImportSummary) -> ExitCode {
    if summary.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
