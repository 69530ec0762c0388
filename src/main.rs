//! The `postmortem` binary: parses the command line and calls into the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = postmortem::cli::Cli::parse();
    // The demo prints a postmortem: keep its log to warnings unless RUST_LOG says otherwise.
    let quiet = matches!(
        cli.command,
        postmortem::cli::Command::Demo | postmortem::cli::Command::PrintConfig
    );
    let _telemetry =
        postmortem::app::telemetry::init(if quiet { "warn" } else { "info,sqlx=warn" });
    match postmortem::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
