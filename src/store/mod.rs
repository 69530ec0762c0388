//! The store: one code path over SQLite (embedded default) and PostgreSQL (for scale), chosen from
//! the URL scheme. Times are integer milliseconds and JSON is text, which both backends carry
//! through sqlx's `Any` driver; each backend has its own migrations because DDL differs.

pub mod changes;
pub mod families;
pub mod imports;
pub mod incidents;
pub mod jobs;
pub mod lineage;
pub mod metrics;
pub mod postmortems;
pub mod reports;
pub mod search;
pub mod slack;
pub mod writer;

pub mod action_items;
pub mod reviews;
pub mod sessions;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, SqlSafeStr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the database is busy; try again")]
    Busy,
}

impl StoreError {
    /// Pool exhaustion and timeouts are transient: callers answer 503 so senders retry.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Busy | StoreError::Db(sqlx::Error::PoolTimedOut)
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects (creating a SQLite file if missing, in WAL mode) and applies migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|_| StoreError::UnsupportedUrl(url.clone()))?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(2))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; FULL keeps every commit
                            // durable across a crash (group commit amortises the fsync).
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    // Senders wait seconds, not half a minute: answer 503 and let them retry.
                    .acquire_timeout(Duration::from_secs(2))
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn migrate(&self) -> Result<()> {
        let sources: &[(i64, &str, &'static str)] = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations = sources
            .iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    Cow::Borrowed(*d),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        let migrator = Migrator::with_migrations(migrations);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// For `/readyz`: can we reach the database?
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction that writes: SQLite takes its write lock up front (`BEGIN IMMEDIATE`), so a
    /// read followed by a write can never fail with SQLITE_BUSY half-way.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Locks incident `id`'s row for the rest of `tx` (PostgreSQL; SQLite's `BEGIN IMMEDIATE`
    /// already serialises writers), so writes about one incident happen in turn.
    pub(crate) async fn lock_incident(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: &str,
    ) -> Result<()> {
        let lock = format!(
            "SELECT id FROM incidents WHERE id = $1{}",
            self.lock_clause()
        );
        sqlx::query(sqlx::AssertSqlSafe(lock))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(())
    }

    /// `FOR UPDATE` where the backend has row locks (PostgreSQL); SQLite serialises writers anyway.
    pub(crate) fn lock_clause(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }
}

/// Embedded migrations, so the binary needs no files beside it.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "metrics",
        include_str!("../../migrations/sqlite/0002_metrics.sql"),
    ),
    (
        3,
        "lineage",
        include_str!("../../migrations/sqlite/0003_lineage.sql"),
    ),
    (
        4,
        "embeddings_slack",
        include_str!("../../migrations/sqlite/0004_embeddings_slack.sql"),
    ),
    (
        5,
        "timeline_thread",
        include_str!("../../migrations/sqlite/0005_timeline_thread.sql"),
    ),
    (
        6,
        "families_reports",
        include_str!("../../migrations/sqlite/0006_families_reports.sql"),
    ),
    (
        7,
        "review",
        include_str!("../../migrations/sqlite/0007_review.sql"),
    ),
    (
        8,
        "environments_announce_lease",
        include_str!("../../migrations/sqlite/0008_environments_announce_lease.sql"),
    ),
    (
        9,
        "slack_message_states",
        include_str!("../../migrations/sqlite/0009_slack_message_states.sql"),
    ),
    (
        10,
        "lineage_every_event",
        include_str!("../../migrations/sqlite/0010_lineage_every_event.sql"),
    ),
    (
        11,
        "slack_command_deliveries",
        include_str!("../../migrations/sqlite/0011_slack_command_deliveries.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "metrics",
        include_str!("../../migrations/postgres/0002_metrics.sql"),
    ),
    (
        3,
        "lineage",
        include_str!("../../migrations/postgres/0003_lineage.sql"),
    ),
    (
        4,
        "embeddings_slack",
        include_str!("../../migrations/postgres/0004_embeddings_slack.sql"),
    ),
    (
        5,
        "timeline_thread",
        include_str!("../../migrations/postgres/0005_timeline_thread.sql"),
    ),
    (
        6,
        "families_reports",
        include_str!("../../migrations/postgres/0006_families_reports.sql"),
    ),
    (
        7,
        "review",
        include_str!("../../migrations/postgres/0007_review.sql"),
    ),
    (
        8,
        "environments_announce_lease",
        include_str!("../../migrations/postgres/0008_environments_announce_lease.sql"),
    ),
    (
        9,
        "slack_message_states",
        include_str!("../../migrations/postgres/0009_slack_message_states.sql"),
    ),
    (
        10,
        "lineage_every_event",
        include_str!("../../migrations/postgres/0010_lineage_every_event.sql"),
    ),
    (
        11,
        "slack_command_deliveries",
        include_str!("../../migrations/postgres/0011_slack_command_deliveries.sql"),
    ),
];

fn normalise_url(url: &str) -> Result<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_string()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest.contains(":memory:") || url.contains("mode=") {
            return Ok((Backend::Sqlite, url.to_string()));
        }
        // Create the file when missing.
        let sep = if url.contains('?') { '&' } else { '?' };
        return Ok((Backend::Sqlite, format!("{url}{sep}mode=rwc")));
    }
    Err(StoreError::UnsupportedUrl(url.to_string()))
}

/// Reads a JSON text column into a value, naming the column when it is corrupt.
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
