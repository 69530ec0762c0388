//! The command line: `serve`, `demo`, `migrate`, `draft`, `print-config`.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config};
use crate::domain::IncidentId;
use crate::startup::{self, Application};
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
    /// Print a commented example configuration.
    PrintConfig,
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::PrintConfig => {
            print!("{}", config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = Config::load()?;
            Store::connect(&config.database_url)
                .await
                .with_context(|| {
                    format!("migrating {}", startup::redact_url(&config.database_url))
                })?;
            println!(
                "migrations applied to {}",
                startup::redact_url(&config.database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => {
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
        Command::Demo => crate::demo::run().await,
        Command::Draft { incident_id, print } => {
            let id = IncidentId::parse(&incident_id)?;
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
    }
}
