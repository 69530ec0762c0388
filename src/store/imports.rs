//! Storing imported incidents: one transaction per record, idempotent by incident id.

use super::incidents::insert_timeline;
use super::{Result, Store};
use crate::domain::now_millis;
use crate::domain::{HistoryRecord, Imported};

impl Store {
    /// Stores `r` as a resolved incident with its timeline and changes. The same id again updates
    /// it: the record's fields, its timeline items and its changes are replaced; evidence that
    /// arrived by webhook stays.
    pub async fn import_record(&self, r: &HistoryRecord) -> Result<Imported> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let existed = sqlx::query("SELECT 1 AS one FROM incidents WHERE id = $1")
            .bind(r.id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let mut kinds: Vec<&str> = r.changes.iter().map(|c| c.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let extra = serde_json::json!({
            "tags": r.tags, "action_items": r.action_items, "change_kinds": kinds,
        })
        .to_string();
        sqlx::query(
            "INSERT INTO incidents (id, title, service, status, status_at, status_event, severity, \
             triggered_at, acknowledged_at, last_resolved_at, data_at, source, summary, root_cause, \
             resolution, extra, created_at, updated_at) \
             VALUES ($1, $2, $3, 'resolved', $4, 'import', $5, $6, $7, $4, $4, 'import', $8, $9, \
             $10, $11, $12, $12) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, service = excluded.service, \
             status = excluded.status, status_at = excluded.status_at, \
             severity = excluded.severity, triggered_at = excluded.triggered_at, \
             acknowledged_at = excluded.acknowledged_at, last_resolved_at = excluded.last_resolved_at, \
             summary = excluded.summary, root_cause = excluded.root_cause, \
             resolution = excluded.resolution, extra = excluded.extra, updated_at = excluded.updated_at",
        )
        .bind(r.id.as_str())
        .bind(&r.title)
        .bind(&r.service)
        .bind(r.resolved_at)
        .bind(r.severity.map(|s| s.to_string()))
        .bind(r.triggered_at)
        .bind(r.acknowledged_at)
        .bind(r.summary.as_deref())
        .bind(r.root_cause.as_deref())
        .bind(r.resolution.as_deref())
        .bind(&extra)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM timeline WHERE incident_id = $1 AND evidence_id LIKE 'import:%'")
            .bind(r.id.as_str())
            .execute(&mut *tx)
            .await?;
        let entries = r.timeline_entries();
        for e in &entries {
            insert_timeline(&mut tx, e).await?;
        }
        for c in &r.changes {
            super::changes::upsert(&mut tx, c, now).await?;
        }
        tx.commit().await?;
        Ok(if existed {
            Imported::Updated
        } else {
            Imported::New
        })
    }
}
