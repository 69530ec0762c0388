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
