//! Changes to services, the first candidates for a root cause.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Result, Store, StoreError};
use crate::domain::Change;
use crate::domain::{ChangeKind, Millis};

/// Stores a change; the same id again replaces it (senders retry, and may correct a summary), except that a GitHub
/// deployment keeps its first success time (a second `success` status of one deployment is a
/// re-run, not a later deploy). Returns whether the id was new.
pub(crate) async fn upsert(conn: &mut AnyConnection, c: &Change, now: Millis) -> Result<bool> {
    let existed = sqlx::query("SELECT 1 AS one FROM changes WHERE id = $1")
        .bind(&c.id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    sqlx::query(
        "INSERT INTO changes (id, service, kind, summary, at, version, author, url, source, received_at, \
         environment, production) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET service = excluded.service, kind = excluded.kind, \
         summary = excluded.summary, version = excluded.version, \
         at = CASE WHEN excluded.source = 'github' AND changes.at < excluded.at \
         THEN changes.at ELSE excluded.at END, \
         author = excluded.author, url = excluded.url, source = excluded.source, \
         environment = excluded.environment, production = excluded.production",
    )
    .bind(&c.id)
    .bind(&c.service)
    .bind(c.kind.as_str())
    .bind(&c.summary)
    .bind(c.at)
    .bind(c.version.as_deref())
    .bind(c.author.as_deref())
    .bind(c.url.as_deref())
    .bind(&c.source)
    .bind(now)
    .bind(c.environment.as_deref())
    .bind(i32::from(c.production))
    .execute(&mut *conn)
    .await?;
    Ok(!existed)
}

fn from_row(r: &AnyRow) -> Result<Change> {
    let kind: String = r.try_get("kind")?;
    Ok(Change {
        id: r.try_get("id")?,
        service: r.try_get("service")?,
        kind: ChangeKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.0))?,
        summary: r.try_get("summary")?,
        at: r.try_get("at")?,
        version: r.try_get("version")?,
        author: r.try_get("author")?,
        url: r.try_get("url")?,
        source: r.try_get("source")?,
        environment: r.try_get("environment")?,
        production: r.try_get::<i32, _>("production")? != 0,
        lineage: None,
    })
}

impl Store {
    /// Changes on any service in `[from, to]`, in time order.
    pub async fn changes_between(&self, from: Millis, to: Millis) -> Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT id, service, kind, summary, at, version, author, url, source, environment, production FROM changes \
             WHERE at >= $1 AND at <= $2 ORDER BY at, id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn change(&self, id: &str) -> Result<Option<Change>> {
        let row = sqlx::query(
            "SELECT id, service, kind, summary, at, version, author, url, source, environment, production FROM changes WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }
}
