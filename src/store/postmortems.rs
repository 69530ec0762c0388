//! Postmortem revisions. A draft adds revision N with status `draft`; people move revisions on
//! (`in_review`, `published`); an automatic redraft only ever adds a revision.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{Result, Store, json_col};
use crate::domain::postmortem::RevisionHeader;
use crate::domain::{IncidentId, Millis};

/// A stored revision. `body` is the full postmortem document as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPostmortem {
    #[serde(flatten)]
    pub header: RevisionHeader,
    pub author: Option<String>,
    pub generated_at: Millis,
    pub body: serde_json::Value,
    pub markdown: String,
}

const COLUMNS: &str = "incident_id, revision, status, drafter, model, prompt_version, evidence_hash, \
    trace_id, author, generated_at, body, markdown";

fn from_row(r: &AnyRow) -> Result<StoredPostmortem> {
    Ok(StoredPostmortem {
        header: RevisionHeader {
            incident_id: r.try_get("incident_id")?,
            revision: r.try_get("revision")?,
            status: r.try_get("status")?,
            drafter: r.try_get("drafter")?,
            model: r.try_get("model")?,
            prompt_version: r.try_get("prompt_version")?,
            evidence_hash: r.try_get("evidence_hash")?,
            trace_id: r.try_get("trace_id")?,
        },
        author: r.try_get("author")?,
        generated_at: r.try_get("generated_at")?,
        body: json_col(&r.try_get::<String, _>("body")?, "postmortem body")?,
        markdown: r.try_get("markdown")?,
    })
}

/// Inserts `p` as revision `revision` (its body carries the number too), inside `tx`.
pub(super) async fn insert_revision(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    p: &StoredPostmortem,
    revision: i64,
) -> Result<()> {
    let mut body = p.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.insert("revision".into(), revision.into());
    }
    sqlx::query(
        "INSERT INTO postmortems (incident_id, revision, status, drafter, model, prompt_version, \
         evidence_hash, trace_id, author, generated_at, body, markdown) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&p.header.incident_id)
    .bind(revision)
    .bind(&p.header.status)
    .bind(&p.header.drafter)
    .bind(p.header.model.as_deref())
    .bind(p.header.prompt_version.as_deref())
    .bind(&p.header.evidence_hash)
    .bind(&p.header.trace_id)
    .bind(p.author.as_deref())
    .bind(p.generated_at)
    .bind(body.to_string())
    .bind(&p.markdown)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Stores `p` as the incident's next revision and returns its number.
    pub async fn add_postmortem_revision(&self, p: &StoredPostmortem) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        // Lock the incident (PostgreSQL) so two drafters number their revisions in turn.
        self.lock_incident(&mut tx, &p.header.incident_id).await?;
        let row = sqlx::query(
            "SELECT COALESCE(MAX(revision), 0) AS n FROM postmortems WHERE incident_id = $1",
        )
        .bind(&p.header.incident_id)
        .fetch_one(&mut *tx)
        .await?;
        let revision: i64 = row.try_get::<i64, _>("n")? + 1;
        insert_revision(&mut tx, p, revision).await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Rewrites revision `revision`'s body and markdown while it is still an untouched draft (its
    /// receipt completed after it was stored, e.g. why the model's draft was not used); returns
    /// whether it was.
    pub async fn amend_draft_revision(
        &self,
        id: &IncidentId,
        revision: i64,
        body: &serde_json::Value,
        markdown: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE postmortems SET body = $3, markdown = $4 \
             WHERE incident_id = $1 AND revision = $2 AND status = 'draft' AND author IS NULL",
        )
        .bind(id.as_str())
        .bind(revision)
        .bind(body.to_string())
        .bind(markdown)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The current revision: the latest one.
    pub async fn current_postmortem(&self, id: &IncidentId) -> Result<Option<StoredPostmortem>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM postmortems WHERE incident_id = $1 ORDER BY revision DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn postmortem_revisions(&self, id: &IncidentId) -> Result<Vec<StoredPostmortem>> {
        let sql =
            format!("SELECT {COLUMNS} FROM postmortems WHERE incident_id = $1 ORDER BY revision");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }
}
