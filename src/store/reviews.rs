//! The review side of postmortem revisions: status moves and human edits, each a compare-and-set
//! against the current revision so a concurrent draft or reviewer is never silently overwritten,
//! and the log of who did what and when.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, FromRow, Row};

use super::postmortems::StoredPostmortem;
use super::{Result, Store};
use crate::domain::{IncidentId, Millis};

/// One review action: a status move, an edit, a regeneration, an action item change.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReviewEvent {
    pub incident_id: String,
    pub revision: Option<i64>,
    /// `status`, `edit`, `regenerate`, `action_item`.
    pub action: String,
    pub actor: String,
    #[serde(with = "crate::domain::rfc3339")]
    pub at: Millis,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: String,
}

impl ReviewEvent {
    pub fn new(incident_id: &str, action: &str, actor: &str, at: Millis) -> Self {
        Self {
            incident_id: incident_id.to_string(),
            revision: None,
            action: action.to_string(),
            actor: actor.to_string(),
            at,
            from_status: None,
            to_status: None,
            detail: String::new(),
        }
    }
}

/// Why a compare-and-set did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// Another revision became current first (its number).
    Revision(i64),
    /// The revision's status moved first (its status now).
    Status(String),
}

fn event_from_row(r: &AnyRow) -> Result<ReviewEvent> {
    Ok(ReviewEvent::from_row(r)?)
}

pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    e: &ReviewEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO review_events (id, incident_id, revision, action, actor, at, from_status, \
         to_status, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(&e.incident_id)
    .bind(e.revision)
    .bind(&e.action)
    .bind(&e.actor)
    .bind(e.at)
    .bind(e.from_status.as_deref())
    .bind(e.to_status.as_deref())
    .bind(&e.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Locks the incident row (PostgreSQL) and returns its current revision number (0: none).
    async fn lock_current_revision(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        incident_id: &str,
    ) -> Result<i64> {
        self.lock_incident(tx, incident_id).await?;
        let row = sqlx::query(
            "SELECT COALESCE(MAX(revision), 0) AS n FROM postmortems WHERE incident_id = $1",
        )
        .bind(incident_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// Moves revision `revision` from `from` to the status in `event` (with its re-rendered body
    /// and Markdown), if it is still current and still `from`.
    #[tracing::instrument(skip_all, fields(incident.id = %event.incident_id), err)]
    pub async fn move_postmortem_status(
        &self,
        revision: i64,
        from: &str,
        body: &serde_json::Value,
        markdown: &str,
        event: &ReviewEvent,
    ) -> Result<Result<(), Stale>> {
        let to = event.to_status.as_deref().unwrap_or_default();
        let mut tx = self.begin_write().await?;
        let current = self
            .lock_current_revision(&mut tx, &event.incident_id)
            .await?;
        if current != revision {
            return Ok(Err(Stale::Revision(current)));
        }
        let done = sqlx::query(
            "UPDATE postmortems SET status = $1, body = $2, markdown = $3 \
             WHERE incident_id = $4 AND revision = $5 AND status = $6",
        )
        .bind(to)
        .bind(body.to_string())
        .bind(markdown)
        .bind(&event.incident_id)
        .bind(revision)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let row = sqlx::query(
                "SELECT status FROM postmortems WHERE incident_id = $1 AND revision = $2",
            )
            .bind(&event.incident_id)
            .bind(revision)
            .fetch_one(&mut *tx)
            .await?;
            return Ok(Err(Stale::Status(row.try_get("status")?)));
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Adds a person's revision `p`, if revision `base` is still current; returns its number.
    #[tracing::instrument(skip_all, fields(incident.id = %p.header.incident_id), err)]
    pub async fn add_edited_revision(
        &self,
        p: &StoredPostmortem,
        base: i64,
        event: &ReviewEvent,
    ) -> Result<Result<i64, Stale>> {
        let mut tx = self.begin_write().await?;
        let current = self
            .lock_current_revision(&mut tx, &p.header.incident_id)
            .await?;
        if current != base {
            return Ok(Err(Stale::Revision(current)));
        }
        let revision = current + 1;
        super::postmortems::insert_revision(&mut tx, p, revision).await?;
        let mut event = event.clone();
        event.revision = Some(revision);
        insert_event(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(Ok(revision))
    }

    /// Records a review action that changes nothing else (a regeneration asked for).
    pub async fn add_review_event(&self, event: &ReviewEvent) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The incident's review log, oldest first.
    pub async fn review_events(&self, id: &IncidentId) -> Result<Vec<ReviewEvent>> {
        let rows = sqlx::query(
            "SELECT incident_id, revision, action, actor, at, from_status, to_status, detail \
             FROM review_events WHERE incident_id = $1 ORDER BY at, id",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// One revision.
    pub async fn postmortem_revision(
        &self,
        id: &IncidentId,
        revision: i64,
    ) -> Result<Option<StoredPostmortem>> {
        Ok(self
            .postmortem_revisions(id)
            .await?
            .into_iter()
            .find(|r| r.header.revision == revision))
    }

    /// The status of each listed incident's current revision (incidents without one are absent).
    pub async fn current_review_statuses(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, (i64, String)>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT p.incident_id, p.revision, p.status FROM postmortems p \
             WHERE p.incident_id IN ({}) AND p.revision = \
             (SELECT MAX(q.revision) FROM postmortems q WHERE q.incident_id = p.incident_id)",
            marks.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("incident_id")?,
                    (r.try_get("revision")?, r.try_get("status")?),
                ))
            })
            .collect()
    }
}
