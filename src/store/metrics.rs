//! Frozen metric series: what Prometheus answered for an incident, kept with it.

use sqlx::Row;

use super::{Result, Store, json_col};
use crate::domain::FrozenSeries;
use crate::domain::{IncidentId, now_millis};

impl Store {
    /// Replaces an incident's frozen series with `series` (a refetch covers a longer window).
    pub async fn freeze_metric_series(
        &self,
        id: &IncidentId,
        series: &[FrozenSeries],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM metric_series WHERE incident_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let now = now_millis();
        for (i, s) in series.iter().enumerate() {
            sqlx::query(
                "INSERT INTO metric_series (incident_id, name, series, query, labels, step_secs, \
                 start_at, end_at, points, fetched_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id.as_str())
            .bind(&s.name)
            .bind(i as i64)
            .bind(&s.query)
            .bind(serde_json::to_string(&s.labels).unwrap_or_else(|_| "{}".into()))
            .bind(s.step_secs)
            .bind(s.start)
            .bind(s.end)
            .bind(serde_json::to_string(&s.points).unwrap_or_else(|_| "[]".into()))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn metric_series(&self, id: &IncidentId) -> Result<Vec<FrozenSeries>> {
        let rows = sqlx::query(
            "SELECT name, query, labels, step_secs, start_at, end_at, points FROM metric_series \
             WHERE incident_id = $1 ORDER BY name, series",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FrozenSeries {
                    name: r.try_get("name")?,
                    query: r.try_get("query")?,
                    labels: json_col(&r.try_get::<String, _>("labels")?, "metric labels")?,
                    step_secs: r.try_get("step_secs")?,
                    start: r.try_get("start_at")?,
                    end: r.try_get("end_at")?,
                    points: json_col(&r.try_get::<String, _>("points")?, "metric points")?,
                })
            })
            .collect()
    }
}
