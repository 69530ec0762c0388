//! Action items people track for an incident, numbered per incident. The first read after a
//! postmortem exists seeds them from the draft, once: a deleted item is only marked, so the table
//! never looks unseeded again.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::reviews::{ReviewEvent, insert_event};
use super::{Result, Store, json_col};
use crate::domain::{ActionItem, ActionItemChange, IncidentId, Millis, TrackedActionItem};

const COLUMNS: &str = "n, text, owner, status, evidence_ids, origin, created_by, created_at, \
    updated_by, updated_at, done_at";

fn from_row(r: &AnyRow) -> Result<TrackedActionItem> {
    Ok(TrackedActionItem {
        n: r.try_get("n")?,
        item: ActionItem {
            text: r.try_get("text")?,
            owner: r.try_get("owner")?,
            status: r.try_get("status")?,
            evidence_ids: json_col(&r.try_get::<String, _>("evidence_ids")?, "evidence_ids")?,
            done_at: r.try_get("done_at")?,
        },
        origin: r.try_get("origin")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Store {
    /// The incident's live action items in number order; seeds them from `draft` first when the
    /// incident has never had any.
    pub async fn action_items(
        &self,
        id: &IncidentId,
        draft: &[ActionItem],
        at: Millis,
    ) -> Result<Vec<TrackedActionItem>> {
        let seeded = sqlx::query("SELECT 1 AS x FROM action_items WHERE incident_id = $1 LIMIT 1")
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .is_some();
        if !seeded && !draft.is_empty() {
            let mut tx = self.begin_write().await?;
            self.lock_incident(&mut tx, id.as_str()).await?;
            let again =
                sqlx::query("SELECT 1 AS x FROM action_items WHERE incident_id = $1 LIMIT 1")
                    .bind(id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
            if !again {
                for (i, item) in draft.iter().enumerate() {
                    insert_item(
                        &mut tx,
                        id.as_str(),
                        i as i64 + 1,
                        item,
                        "draft",
                        "drafter",
                        at,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM action_items WHERE incident_id = $1 AND deleted_at IS NULL \
             ORDER BY n"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Adds a person's item and returns it.
    pub async fn add_action_item(
        &self,
        id: &IncidentId,
        item: &ActionItem,
        actor: &str,
        at: Millis,
    ) -> Result<TrackedActionItem> {
        let mut tx = self.begin_write().await?;
        self.lock_incident(&mut tx, id.as_str()).await?;
        let row =
            sqlx::query("SELECT COALESCE(MAX(n), 0) AS n FROM action_items WHERE incident_id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await?;
        let n = row.try_get::<i64, _>("n")? + 1;
        insert_item(&mut tx, id.as_str(), n, item, "person", actor, at).await?;
        let mut e = ReviewEvent::new(id.as_str(), "action_item", actor, at);
        e.detail = format!("added #{n}: {}", item.text);
        insert_event(&mut tx, &e).await?;
        let item = fetch(&mut tx, id.as_str(), n).await?;
        tx.commit().await?;
        item.ok_or_else(|| super::StoreError::Corrupt("the added action item vanished".into()))
    }

    /// Applies `change` to item `n`; `None` when there is no such live item.
    pub async fn update_action_item(
        &self,
        id: &IncidentId,
        n: i64,
        change: &ActionItemChange,
        actor: &str,
        at: Millis,
    ) -> Result<Option<TrackedActionItem>> {
        let mut tx = self.begin_write().await?;
        self.lock_incident(&mut tx, id.as_str()).await?;
        let Some(before) = fetch(&mut tx, id.as_str(), n).await? else {
            return Ok(None);
        };
        let before = before.item;
        let text = change.text.clone().unwrap_or(before.text.clone());
        let owner = change.owner.clone().unwrap_or(before.owner.clone());
        let status = change.status.clone().unwrap_or(before.status.clone());
        let done_at = match (status.as_str(), before.status.as_str()) {
            ("done", "done") => before.done_at,
            ("done", _) => Some(at),
            _ => None,
        };
        sqlx::query(
            "UPDATE action_items SET text = $1, owner = $2, status = $3, done_at = $4, \
             updated_by = $5, updated_at = $6 WHERE incident_id = $7 AND n = $8",
        )
        .bind(&text)
        .bind(owner.as_deref())
        .bind(&status)
        .bind(done_at)
        .bind(actor)
        .bind(at)
        .bind(id.as_str())
        .bind(n)
        .execute(&mut *tx)
        .await?;
        let mut what = Vec::new();
        if text != before.text {
            what.push(format!("text {:?}", text));
        }
        if owner != before.owner {
            what.push(format!("owner {}", owner.as_deref().unwrap_or("none")));
        }
        if status != before.status {
            what.push(status.clone());
        }
        if !what.is_empty() {
            let mut e = ReviewEvent::new(id.as_str(), "action_item", actor, at);
            e.detail = format!("#{n}: {}", what.join(", "));
            insert_event(&mut tx, &e).await?;
        }
        let item = fetch(&mut tx, id.as_str(), n).await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Marks item `n` deleted; false when there is no such live item.
    pub async fn delete_action_item(
        &self,
        id: &IncidentId,
        n: i64,
        actor: &str,
        at: Millis,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE action_items SET deleted_at = $1, updated_by = $2, updated_at = $1 \
             WHERE incident_id = $3 AND n = $4 AND deleted_at IS NULL",
        )
        .bind(at)
        .bind(actor)
        .bind(id.as_str())
        .bind(n)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let mut e = ReviewEvent::new(id.as_str(), "action_item", actor, at);
        e.detail = format!("deleted #{n}");
        insert_event(&mut tx, &e).await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn insert_item(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    incident_id: &str,
    n: i64,
    item: &ActionItem,
    origin: &str,
    actor: &str,
    at: Millis,
) -> Result<()> {
    let done_at = item.done_at.or(item.is_done().then_some(at));
    sqlx::query(
        "INSERT INTO action_items (incident_id, n, text, owner, status, evidence_ids, origin, \
         created_by, created_at, updated_by, updated_at, done_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9, $10)",
    )
    .bind(incident_id)
    .bind(n)
    .bind(&item.text)
    .bind(item.owner.as_deref())
    .bind(&item.status)
    .bind(serde_json::to_string(&item.evidence_ids).unwrap_or_else(|_| "[]".into()))
    .bind(origin)
    .bind(actor)
    .bind(at)
    .bind(done_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn fetch(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    incident_id: &str,
    n: i64,
) -> Result<Option<TrackedActionItem>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM action_items WHERE incident_id = $1 AND n = $2 AND deleted_at IS NULL"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(incident_id)
        .bind(n)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(from_row).transpose()
}
