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
use std::sync::{Arc, Mutex};
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

    /// The database cannot take writes now, whatever was written: a full disk, a read-only or
    /// vanished file, a dropped database or schema, missing tables, a lost connection. Callers
    /// answer 503 so senders retry, and the service recovers by itself when the cause passes.
    ///
    /// SQLite result codes (primary, from the extended code): 8 READONLY, 10 IOERR, 13 FULL,
    /// 14 CANTOPEN, 26 NOTADB, and "no such table". PostgreSQL SQLSTATEs: class 08 (connection),
    /// 53 (insufficient resources: disk full, out of memory), 57P (shutdown, cannot connect now),
    /// 3D000 (no such database), 3F000 (no such schema), 42P01 (no such table), 25006 (read-only).
    pub fn cannot_write(&self) -> bool {
        let StoreError::Db(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(d) => {
                let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
                if let Ok(n) = code.parse::<i64>() {
                    matches!(n & 0xff, 8 | 10 | 13 | 14 | 26)
                        || d.message().contains("no such table")
                } else {
                    code.starts_with("08")
                        || code.starts_with("53")
                        || code.starts_with("57P")
                        || matches!(code.as_str(), "3D000" | "3F000" | "42P01" | "25006")
                }
            }
            _ => false,
        }
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
    /// Why the last write failed, while the database cannot take writes (a full disk, a dropped
    /// database, missing tables); `None` while writes go through.
    writer: Arc<Mutex<Option<String>>>,
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
                    .before_acquire(|conn, _| Box::pin(async move { Ok(healthy(conn)) }))
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
                    .before_acquire(|conn, _| Box::pin(async move { Ok(healthy(conn)) }))
                    // Senders wait seconds, not half a minute: answer 503 and let them retry.
                    .acquire_timeout(Duration::from_secs(2))
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Self {
            pool,
            backend,
            writer: Arc::default(),
        })
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

    /// Records how a write went: a failure because the database cannot take writes marks the
    /// writer unhealthy (see [`Store::writer_health`]); a success marks it healthy again.
    pub fn note_write<T>(&self, result: &Result<T>) {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(_) => *w = None,
            Err(e) if e.cannot_write() => *w = Some(e.to_string()),
            Err(_) => {}
        }
    }

    /// For `/readyz`: `Err(why)` while the database cannot take writes. Once a write has failed
    /// that way, each call tries a one-row write again, so the service turns ready by itself
    /// when space is freed or the database is back.
    pub async fn writer_health(&self) -> std::result::Result<(), String> {
        let failing = self
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if failing.is_none() {
            return Ok(());
        }
        let probe = async {
            let mut tx = self.begin_write().await?;
            sqlx::query("UPDATE writer_probe SET at = $1 WHERE id = 1")
                .bind(crate::domain::now_millis())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        self.note_write(&probe);
        probe.map_err(|e| e.to_string())
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
/// Whether a pooled connection may be handed out again. A connection still inside a transaction
/// is not: SQLite rolls back a COMMIT that failed (a full disk) by itself, but the connection
/// still counts the transaction as open, and every later `BEGIN` on it would fail for as long as
/// the process lives. Such a connection is closed and a fresh one opened instead.
fn healthy(conn: &mut sqlx::AnyConnection) -> bool {
    use sqlx::Connection;
    if conn.is_in_transaction() {
        tracing::warn!("a pooled connection was left inside a failed transaction; replacing it");
        return false;
    }
    true
}

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
    (
        12,
        "writer_probe",
        include_str!("../../migrations/sqlite/0012_writer_probe.sql"),
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
    (
        12,
        "writer_probe",
        include_str!("../../migrations/postgres/0012_writer_probe.sql"),
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
