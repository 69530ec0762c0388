//! Building and running the application: the HTTP server and its workers under one shutdown signal.
//! `Application::build` takes a bound listener, so tests and the demo bind port 0 and run the real
//! server in-process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::app::worker::Worker;
use crate::config::Config;
use crate::draft::Drafter;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::render::Templates;
use crate::store::Store;
use crate::store::writer::IngestWriter;

pub struct Application {
    listener: TcpListener,
    state: AppState,
    writer_task: tokio::task::JoinHandle<()>,
}

/// Everything but the listener: the store, templates and drafter, for the CLI commands too.
pub async fn components(
    config: Config,
) -> anyhow::Result<(Arc<Config>, Store, Arc<Templates>, Metrics, Drafter)> {
    install_crypto_provider();
    let templates =
        Arc::new(Templates::load(config.templates_dir.as_deref()).context("loading templates")?);
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the database at {}",
                crate::config::redact_url(&config.database_url)
            )
        })?;
    let metrics = Metrics::new();
    let config = Arc::new(config);
    let drafter = Drafter::new(
        store.clone(),
        config.clone(),
        templates.clone(),
        metrics.clone(),
    )?;
    Ok((config, store, templates, metrics, drafter))
}

/// One process-wide TLS crypto provider (ring) before any HTTPS client is built; later calls
/// are no-ops.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Application {
    pub async fn build(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let mut config = config;
        // The listener decides where we actually listen.
        config.listen = crate::config::ListenAddr(listener.local_addr()?);
        config.validate_for_serving()?;
        let delay = Duration::from_secs(config.draft_delay_secs);
        let config_templates = config.templates_dir.clone();
        let (config, store, templates, metrics, drafter) = components(config).await?;
        let jobs_ready = Arc::new(Notify::new());
        let (writer, writer_task) = IngestWriter::spawn(store.clone(), delay, jobs_ready.clone());
        let state = AppState {
            slack: crate::notify::slack::SlackApi::from_config(&config)?,
            search: drafter.search().clone(),
            config,
            store,
            writer,
            metrics,
            templates,
            drafter,
            jobs_ready,
            pages: Arc::new(
                crate::http::pages::Pages::load(config_templates.as_deref())
                    .context("loading page templates")?,
            ),
        };
        Ok(Self {
            listener,
            state,
            writer_task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` fires: in-flight requests finish, each worker finishes its job and
    /// hands back the rest, then the pool closes.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let state = self.state;
        // `job_workers` workers, each claiming one job at a time under its own lease owner.
        let workers: Vec<_> = (0..state.config.job_workers.max(1))
            .map(|_| Worker {
                store: state.store.clone(),
                drafter: state.drafter.clone(),
                metrics: state.metrics.clone(),
                owner: format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple()),
                poll: Duration::from_millis(state.config.job_poll_millis),
                lease: Duration::from_secs(state.config.job_lease_secs),
                jobs_ready: state.jobs_ready.clone(),
                config: state.config.clone(),
                slack: state.slack.clone(),
            })
            .map(|w| tokio::spawn(w.run(shutdown.clone())))
            .collect();
        let schedule = crate::app::schedule::Schedule {
            store: state.store.clone(),
            config: state.config.clone(),
            templates: state.templates.clone(),
            metrics: state.metrics.clone(),
            slack: state.slack.clone(),
        };
        let schedule = tokio::spawn(schedule.run(shutdown.clone()));
        let configured: Vec<String> = state
            .config
            .summary()
            .into_iter()
            .map(|(name, state)| format!("{name}: {state}"))
            .collect();
        tracing::info!(
            addr = %self.listener.local_addr()?,
            configured = %configured.join("; "),
            "listening"
        );
        let store = state.store.clone();
        let limits = crate::app::serve::Limits {
            header_read_timeout: Duration::from_secs(state.config.header_read_timeout_secs),
            max_connections: state.config.max_connections as usize,
            shutdown_grace: Duration::from_secs(state.config.shutdown_grace_secs),
        };
        crate::app::serve::serve(self.listener, http::router(state), limits, shutdown.clone())
            .await;
        shutdown.cancel();
        for w in workers {
            let _ = w.await;
        }
        let _ = schedule.await;
        // The router (and its writer handle) is gone: let the writer commit what it holds.
        let _ = self.writer_task.await;
        store.close().await;
        Ok(())
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "postmortem".into())
}

/// Cancels `token` on SIGINT or SIGTERM.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutting down");
        token.cancel();
    });
}
