//! What the monthly report reads (incidents with their action items, changes) and the reports
//! stored by month.

use sqlx::Row;

use super::incidents::KeysetPages;
use super::{Result, Store, json_col};
use crate::domain::{ActionItem, Millis};

/// An incident as the report counts it.
#[derive(Debug, Clone)]
pub struct ReportIncident {
    pub id: String,
    pub title: String,
    pub service: String,
    pub severity: Option<String>,
    pub triggered_at: Millis,
    pub acknowledged_at: Option<Millis>,
    /// The final resolution, when resolved.
    pub resolved_at: Option<Millis>,
    pub root_cause: Option<String>,
    pub action_items: Vec<ActionItem>,
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub month: String,
    pub generated_at: Millis,
    pub scheduled: bool,
    pub body: serde_json::Value,
    pub announced_at: Option<Millis>,
}

const PAGE: i64 = 5000;

impl Store {
    /// Every incident first triggered before `until` (ms), oldest first.
    pub async fn report_incidents(&self, until: Millis) -> Result<Vec<ReportIncident>> {
        let rows = KeysetPages {
            columns: "id, title, service, severity, status, triggered_at, acknowledged_at, \
                      last_resolved_at, root_cause, extra",
            key: "triggered_at",
            // A merged incident is counted in the one it was merged into.
            filter: Some("merged_into IS NULL"),
            from: i64::MIN,
            until,
            page: PAGE,
        }
        .fetch(self)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let extra: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("extra")?).unwrap_or_default();
            let status: String = r.try_get("status")?;
            out.push(ReportIncident {
                id: r.try_get("id")?,
                title: r.try_get("title")?,
                service: r.try_get("service")?,
                severity: r.try_get("severity")?,
                triggered_at: r.try_get("triggered_at")?,
                acknowledged_at: r.try_get("acknowledged_at")?,
                resolved_at: if status == "resolved" {
                    r.try_get("last_resolved_at")?
                } else {
                    None
                },
                root_cause: r.try_get("root_cause")?,
                action_items: ActionItem::list_from_json(&extra["action_items"]),
            });
        }
        // Action items people track in the review pages replace the imported or drafted ones.
        let rows = sqlx::query(
            "SELECT incident_id, text, owner, status, evidence_ids, done_at FROM action_items \
             WHERE deleted_at IS NULL ORDER BY incident_id, n",
        )
        .fetch_all(self.pool())
        .await?;
        let mut tracked: std::collections::HashMap<String, Vec<ActionItem>> = Default::default();
        for r in rows {
            tracked
                .entry(r.try_get("incident_id")?)
                .or_default()
                .push(ActionItem {
                    text: r.try_get("text")?,
                    owner: r.try_get("owner")?,
                    status: r.try_get("status")?,
                    evidence_ids: json_col(
                        &r.try_get::<String, _>("evidence_ids")?,
                        "evidence_ids",
                    )?,
                    done_at: r.try_get("done_at")?,
                });
        }
        for i in &mut out {
            if let Some(items) = tracked.remove(&i.id) {
                i.action_items = items;
            }
        }
        Ok(out)
    }

    /// Stores the scheduled run's report. True when this call is the first scheduled run for the
    /// month (so exactly one replica announces it).
    pub async fn claim_scheduled_report(
        &self,
        month: &str,
        at: Millis,
        body: &serde_json::Value,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO reports (month, generated_at, scheduled, body) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (month) DO UPDATE SET generated_at = excluded.generated_at, \
             body = excluded.body, scheduled = 1 WHERE reports.scheduled = 0",
        )
        .bind(month)
        .bind(at)
        .bind(body.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes the lease to announce the month's report: true for exactly one caller until the
    /// lease (`lease_ms`) runs out or the report is announced.
    pub async fn claim_report_announcement(
        &self,
        month: &str,
        at: Millis,
        lease_ms: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE reports SET announcing_at = $1 WHERE month = $2 AND announced_at IS NULL \
             AND (announcing_at IS NULL OR announcing_at < $3)",
        )
        .bind(at)
        .bind(month)
        .bind(at - lease_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn mark_report_announced(&self, month: &str, at: Millis) -> Result<()> {
        sqlx::query("UPDATE reports SET announced_at = $1 WHERE month = $2")
            .bind(at)
            .bind(month)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn stored_report(&self, month: &str) -> Result<Option<StoredReport>> {
        let row = sqlx::query(
            "SELECT month, generated_at, scheduled, body, announced_at FROM reports WHERE month = $1",
        )
        .bind(month)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(StoredReport {
                month: r.try_get("month")?,
                generated_at: r.try_get("generated_at")?,
                scheduled: r.try_get::<i64, _>("scheduled")? != 0,
                body: super::json_col(&r.try_get::<String, _>("body")?, "reports.body")?,
                announced_at: r.try_get("announced_at")?,
            })
        })
        .transpose()
    }

    /// Months with a stored report, newest first.
    pub async fn report_months(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT month FROM reports ORDER BY month DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("month")?)).collect()
    }
}

impl Store {
    /// A durable fact, set once: the first writer wins and every caller reads the stored value.
    pub async fn state_once(&self, key: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO service_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        let row = sqlx::query("SELECT value FROM service_state WHERE key = $1")
            .bind(key)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("value")?)
    }

    pub async fn set_state(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO service_state (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
