//! What search reads of each incident.

use sqlx::Row;

use super::incidents::KeysetPages;
use super::{Result, Store};
use crate::domain::{ActionItem, SearchDoc};

const PAGE: i64 = 2000;

/// The parts of `incidents.extra` search uses.
#[derive(Debug, Default, serde::Deserialize)]
struct Extra {
    #[serde(default)]
    action_items: serde_json::Value,
    #[serde(default)]
    change_kinds: Vec<String>,
    #[serde(default)]
    drafted: Option<Drafted>,
}

/// What a draft adds for an incident that has no written root cause of its own.
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct Drafted {
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default)]
    pub change_kinds: Vec<String>,
}

impl Store {
    /// Every incident updated at or after `since` (ms), with its `updated_at`.
    pub async fn search_docs_since(&self, since: i64) -> Result<Vec<(SearchDoc, i64)>> {
        let rows = KeysetPages {
            columns: "id, title, service, triggered_at, summary, root_cause, resolution, extra, \
                      updated_at",
            key: "updated_at",
            filter: None,
            from: since,
            until: i64::MAX,
            page: PAGE,
        }
        .fetch(self)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let extra: String = row.try_get("extra")?;
            let extra: Extra = serde_json::from_str(&extra).unwrap_or_default();
            let drafted = extra.drafted.unwrap_or_default();
            let mut kinds = extra.change_kinds;
            kinds.extend(drafted.change_kinds);
            kinds.sort();
            kinds.dedup();
            let updated_at: i64 = row.try_get("updated_at")?;
            let own_summary: Option<String> = row.try_get("summary")?;
            let own_cause: Option<String> = row.try_get("root_cause")?;
            let is_drafted = (own_summary.is_none() && drafted.summary.is_some())
                || (own_cause.is_none() && drafted.cause.is_some());
            let id: String = row.try_get("id")?;
            out.push((
                SearchDoc {
                    id,
                    title: row.try_get("title")?,
                    service: row.try_get("service")?,
                    summary: own_summary.or(drafted.summary),
                    root_cause: own_cause.or(drafted.cause),
                    resolution: row.try_get("resolution")?,
                    action_items: ActionItem::list_from_json(&extra.action_items)
                        .into_iter()
                        .map(|a| a.text)
                        .collect(),
                    change_kinds: kinds,
                    drafted: is_drafted,
                    triggered_at: row.try_get("triggered_at")?,
                },
                updated_at,
            ));
        }
        Ok(out)
    }

    /// Records what a draft found, for search, and marks the incident updated.
    pub async fn record_drafted(&self, id: &str, drafted: &Drafted) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT extra FROM incidents WHERE id = $1{}",
            self.lock_clause()
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(());
        };
        let extra: String = row.try_get("extra")?;
        let mut v: serde_json::Value =
            serde_json::from_str(&extra).unwrap_or_else(|_| serde_json::json!({}));
        if !v.is_object() {
            v = serde_json::json!({});
        }
        v["drafted"] = serde_json::to_value(drafted).unwrap_or_default();
        sqlx::query("UPDATE incidents SET extra = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(v.to_string())
            .bind(crate::domain::now_millis())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Embeddings of `model` stored at or after `since` (ms): (incident id, hash of the embedded
    /// text, vector, stored at).
    pub async fn embeddings_since(
        &self,
        model: &str,
        since: i64,
    ) -> Result<Vec<(String, String, Vec<f32>, i64)>> {
        let rows = sqlx::query(
            "SELECT incident_id, text_hash, vector, created_at FROM embeddings              WHERE model = $1 AND created_at >= $2",
        )
        .bind(model)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let bytes: Vec<u8> = r.try_get("vector")?;
                Ok((
                    r.try_get("incident_id")?,
                    r.try_get("text_hash")?,
                    bytes
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                    r.try_get("created_at")?,
                ))
            })
            .collect()
    }

    pub async fn put_embedding(
        &self,
        incident_id: &str,
        model: &str,
        text_hash: &str,
        vector: &[f32],
    ) -> Result<()> {
        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
        sqlx::query(
            "INSERT INTO embeddings (incident_id, model, text_hash, vector, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (incident_id, model) DO UPDATE SET \
             text_hash = excluded.text_hash, vector = excluded.vector, created_at = excluded.created_at",
        )
        .bind(incident_id)
        .bind(model)
        .bind(text_hash)
        .bind(bytes)
        .bind(crate::domain::now_millis())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
