//! Slack channels linked to incidents.

use sqlx::Row;

use super::{Result, Store};
use crate::domain::now_millis;

impl Store {
    /// Records a Slack command by its signature (`v0=…`, unique to its body and timestamp); true
    /// the first time, false for a replay. Signatures older than ten minutes (twice Slack's
    /// 300 s window, past which a replay is refused as stale anyway) are forgotten.
    pub async fn first_slack_command(&self, signature: &str) -> Result<bool> {
        let now = now_millis();
        sqlx::query("DELETE FROM slack_command_deliveries WHERE received_at < $1")
            .bind(now - 600_000)
            .execute(self.pool())
            .await?;
        let done = sqlx::query(
            "INSERT INTO slack_command_deliveries (signature, received_at) VALUES ($1, $2) \
             ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

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

/// A Slack message as evidence: one state of it (as posted, or as edited).
#[derive(Debug, Clone)]
pub struct SlackMessage {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    /// The author's display name where it could be read, else the user id.
    pub user: Option<String>,
    /// Readable text (Slack's escapes, links and mentions decoded).
    pub text: String,
    /// The text as Slack sent it, kept for audit when it reads differently.
    pub raw: Option<String>,
    /// Slack's `ts` of the edit this state is; `None` as first posted.
    pub edited: Option<String>,
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

/// Slack's `ts` ("1767225590.000100") as (seconds, microseconds), exactly; `None` when malformed.
fn ts_order(ts: &str) -> Option<(u64, u64)> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    Some((secs.parse().ok()?, frac.parse().ok()?))
}

/// Whether a message state edited at `new` is later than the stored one edited at `stored`
/// (`None`: as first posted, earlier than any edit).
fn later(new: Option<&str>, stored: Option<&str>) -> bool {
    match (new.map(ts_order), stored.map(ts_order)) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(n), Some(s)) => n > s,
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

    /// Stores message states of `incident`, in whatever order Slack delivered them: a message
    /// keeps its latest state (a later edit replaces the text, an earlier one or a repeat changes
    /// nothing), and a deleted message stays deleted when its post or an edit arrives late. When the
    /// incident is already resolved and the evidence changed, a redraft is scheduled `delay_ms`
    /// later. Returns how many messages were added or changed.
    pub async fn put_slack_messages(
        &self,
        incident: &str,
        messages: &[SlackMessage],
        delay_ms: i64,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        // One writer per incident at a time (PostgreSQL), so two states of one message that
        // arrive together are compared, not both inserted.
        self.lock_incident(&mut tx, incident).await?;
        let mut changed = 0;
        for m in messages {
            let Some(at) = m.at() else { continue };
            let id = m.evidence_id();
            let deleted = sqlx::query(
                "SELECT 1 AS one FROM slack_deletions WHERE incident_id = $1 AND evidence_id = $2",
            )
            .bind(incident)
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
            if deleted.is_some() {
                continue;
            }
            let stored = sqlx::query(
                "SELECT revision, text FROM timeline WHERE incident_id = $1 AND evidence_id = $2",
            )
            .bind(incident)
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
            match stored {
                None => {
                    sqlx::query(
                        "INSERT INTO timeline (incident_id, evidence_id, at, source, kind, author, \
                         text, thread, revision, raw) \
                         VALUES ($1, $2, $3, 'slack', 'message', $4, $5, $6, $7, $8) \
                         ON CONFLICT (incident_id, evidence_id) DO NOTHING",
                    )
                    .bind(incident)
                    .bind(&id)
                    .bind(at)
                    .bind(m.user.as_deref())
                    .bind(&m.text)
                    .bind(m.thread_ts.as_deref().filter(|t| *t != m.ts))
                    .bind(m.edited.as_deref())
                    .bind(m.raw.as_deref())
                    .execute(&mut *tx)
                    .await?;
                    changed += 1;
                }
                Some(row) => {
                    let revision: Option<String> = row.try_get("revision")?;
                    let text: String = row.try_get("text")?;
                    if !later(m.edited.as_deref(), revision.as_deref()) {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE timeline SET text = $3, raw = $4, revision = $5 \
                         WHERE incident_id = $1 AND evidence_id = $2",
                    )
                    .bind(incident)
                    .bind(&id)
                    .bind(&m.text)
                    .bind(m.raw.as_deref())
                    .bind(m.edited.as_deref())
                    .execute(&mut *tx)
                    .await?;
                    if text != m.text {
                        changed += 1;
                    }
                }
            }
        }
        if changed > 0 {
            reschedule_if_resolved(&mut tx, incident, delay_ms).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Removes a deleted message and remembers the deletion, so that the message arriving late
    /// (Slack does not promise order) does not bring it back; returns whether one was stored.
    pub async fn delete_slack_message(
        &self,
        incident: &str,
        channel: &str,
        ts: &str,
        delay_ms: i64,
    ) -> Result<bool> {
        let id = format!("slack:{channel}:{ts}");
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO slack_deletions (incident_id, evidence_id, deleted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (incident_id, evidence_id) DO NOTHING",
        )
        .bind(incident)
        .bind(&id)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query("DELETE FROM timeline WHERE incident_id = $1 AND evidence_id = $2")
            .bind(incident)
            .bind(&id)
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
