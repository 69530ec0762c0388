//! Slack channels linked to incidents.

use sqlx::Row;

use super::{Result, Store};
use crate::domain::now_millis;

impl Store {
    /// Links `channel` to `incident` (a channel follows one incident; linking again moves it).
    pub async fn link_channel(
        &self,
        channel: &str,
        incident: &str,
        by: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO slack_links (channel_id, incident_id, linked_by, linked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (channel_id) DO UPDATE SET \
             incident_id = excluded.incident_id, linked_by = excluded.linked_by, \
             linked_at = excluded.linked_at",
        )
        .bind(channel)
        .bind(incident)
        .bind(by)
        .bind(now_millis())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The incident a channel is linked to.
    pub async fn incident_for_channel(&self, channel: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT incident_id FROM slack_links WHERE channel_id = $1")
            .bind(channel)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| r.try_get("incident_id"))
            .transpose()
            .map_err(Into::into)
    }

    /// The channels linked to an incident.
    pub async fn channels_for_incident(&self, incident: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT channel_id FROM slack_links WHERE incident_id = $1 ORDER BY linked_at",
        )
        .bind(incident)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("channel_id").map_err(Into::into))
            .collect()
    }
}

/// A Slack message as evidence.
#[derive(Debug, Clone)]
pub struct SlackMessage {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub user: Option<String>,
    pub text: String,
}

impl SlackMessage {
    pub fn evidence_id(&self) -> String {
        format!("slack:{}:{}", self.channel, self.ts)
    }

    /// Slack's `ts` ("1767225590.000100") as milliseconds.
    pub fn at(&self) -> Option<i64> {
        let secs: f64 = self.ts.parse().ok()?;
        Some((secs * 1000.0).round() as i64)
    }
}

impl Store {
    /// Whether Slack's event `event_id` was handled before.
    pub async fn slack_event_seen(&self, event_id: &str) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT 1 AS one FROM webhook_events WHERE source = 'slack' AND event_id = $1",
        )
        .bind(event_id)
        .fetch_optional(self.pool())
        .await?
        .is_some())
    }

    /// Records Slack's event as handled (after its effects are stored).
    pub async fn mark_slack_event(
        &self,
        event_id: &str,
        event_type: &str,
        body: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_events (source, event_id, event_type, received_at, body) \
             VALUES ('slack', $1, $2, $3, $4) ON CONFLICT (source, event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(event_type)
        .bind(now_millis())
        .bind(body)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stores messages of `incident` (idempotent by `slack:<channel>:<ts>`). When the incident is
    /// already resolved and something new arrived, a redraft is scheduled `delay_ms` later.
    /// Returns how many were new.
    pub async fn add_slack_messages(
        &self,
        incident: &str,
        messages: &[SlackMessage],
        delay_ms: i64,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for m in messages {
            let Some(at) = m.at() else { continue };
            let r = sqlx::query(
                "INSERT INTO timeline (incident_id, evidence_id, at, source, kind, author, text, thread) \
                 VALUES ($1, $2, $3, 'slack', 'message', $4, $5, $6) \
                 ON CONFLICT (incident_id, evidence_id) DO NOTHING",
            )
            .bind(incident)
            .bind(m.evidence_id())
            .bind(at)
            .bind(m.user.as_deref())
            .bind(&m.text)
            .bind(m.thread_ts.as_deref().filter(|t| *t != m.ts))
            .execute(&mut *tx)
            .await?;
            added += r.rows_affected() as usize;
        }
        if added > 0 {
            reschedule_if_resolved(&mut tx, incident, delay_ms).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Applies an edit; returns whether a stored message changed.
    pub async fn edit_slack_message(
        &self,
        incident: &str,
        channel: &str,
        ts: &str,
        text: &str,
        delay_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE timeline SET text = $3 WHERE incident_id = $1 AND evidence_id = $2 AND text <> $3",
        )
        .bind(incident)
        .bind(format!("slack:{channel}:{ts}"))
        .bind(text)
        .execute(&mut *tx)
        .await?;
        let changed = r.rows_affected() > 0;
        if changed {
            reschedule_if_resolved(&mut tx, incident, delay_ms).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Removes a deleted message; returns whether one was stored.
    pub async fn delete_slack_message(
        &self,
        incident: &str,
        channel: &str,
        ts: &str,
        delay_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("DELETE FROM timeline WHERE incident_id = $1 AND evidence_id = $2")
            .bind(incident)
            .bind(format!("slack:{channel}:{ts}"))
            .execute(&mut *tx)
            .await?;
        let removed = r.rows_affected() > 0;
        if removed {
            reschedule_if_resolved(&mut tx, incident, delay_ms).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// The incident with PagerDuty incident number `n`.
    pub async fn incident_by_number(&self, n: i64) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT id FROM incidents WHERE number = $1 ORDER BY triggered_at DESC LIMIT 1",
        )
        .bind(n)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| r.try_get("id")).transpose().map_err(Into::into)
    }
}

/// Late evidence on a resolved incident: (re)schedule its automatic draft.
async fn reschedule_if_resolved(
    conn: &mut sqlx::AnyConnection,
    incident: &str,
    delay_ms: i64,
) -> Result<()> {
    let status: Option<String> = sqlx::query("SELECT status FROM incidents WHERE id = $1")
        .bind(incident)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("status"))
        .transpose()?;
    if status.as_deref() == Some("resolved") {
        let now = now_millis();
        super::jobs::schedule_draft(conn, incident, now + delay_ms, now).await?;
    }
    Ok(())
}
