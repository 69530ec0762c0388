//! A durable job queue in the database. Jobs are claimed with a lease; a job whose lease expired
//! (its process died, or hung) is claimed again. Failures retry with exponential backoff and stay
//! visible. On PostgreSQL, claims use `FOR UPDATE SKIP LOCKED` so replicas never take the same job;
//! on SQLite, the single `UPDATE … RETURNING` is atomic.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, FromRow, Row};

use super::{Backend, Result, Store};
use crate::domain::{JobKind, Millis, rfc3339};

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct Job {
    pub id: String,
    /// A [`JobKind`] name; kept as stored, so a kind this version does not run fails its job
    /// instead of the claim.
    pub kind: String,
    pub incident_id: Option<String>,
    /// `pending`, `running`, `done`, `failed` (gave up) or `cancelled`.
    pub state: String,
    #[serde(with = "rfc3339")]
    pub run_at: Millis,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_owner: Option<String>,
    #[serde(with = "rfc3339::option")]
    pub lease_until: Option<Millis>,
    pub last_error: Option<String>,
    #[serde(with = "rfc3339")]
    pub created_at: Millis,
    #[serde(with = "rfc3339")]
    pub updated_at: Millis,
}

const COLUMNS: &str = "id, kind, incident_id, state, run_at, attempts, max_attempts, lease_owner, \
    lease_until, last_error, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Job> {
    Ok(Job::from_row(r)?)
}

/// Backoff after the n-th failed attempt: 5 s, 10 s, 20 s … capped at 10 minutes.
pub fn backoff_millis(attempts: i64) -> Millis {
    let exp = attempts.clamp(1, 20) - 1;
    (5_000i64 << exp).min(600_000)
}

pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    kind: JobKind,
    incident_id: Option<&str>,
    run_at: Millis,
    now: Millis,
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO jobs (id, kind, incident_id, state, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, 'pending', $4, 0, 5, $5, $5)",
    )
    .bind(&id)
    .bind(kind.as_str())
    .bind(incident_id)
    .bind(run_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Cancels an incident's pending jobs of a kind (a reopen cancels the pending draft).
pub(crate) async fn cancel_pending(
    conn: &mut AnyConnection,
    kind: JobKind,
    incident_id: &str,
    now: Millis,
) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', updated_at = $3 \
         WHERE incident_id = $1 AND kind = $2 AND state = 'pending'",
    )
    .bind(incident_id)
    .bind(kind.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Replaces an incident's pending draft with one due at `run_at`.
pub(crate) async fn schedule_draft(
    conn: &mut AnyConnection,
    incident_id: &str,
    run_at: Millis,
    now: Millis,
) -> Result<String> {
    cancel_pending(conn, JobKind::Draft, incident_id, now).await?;
    enqueue(conn, JobKind::Draft, Some(incident_id), run_at, now).await
}

impl Store {
    /// Replaces any pending job of `kind` for the incident with one due at `run_at`.
    pub async fn schedule_once(
        &self,
        kind: JobKind,
        incident_id: &str,
        run_at: Millis,
    ) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let now = crate::domain::now_millis();
        cancel_pending(&mut tx, kind, incident_id, now).await?;
        let id = enqueue(&mut tx, kind, Some(incident_id), run_at, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn enqueue_job(
        &self,
        kind: JobKind,
        incident_id: Option<&str>,
        run_at: Millis,
    ) -> Result<String> {
        let mut conn = self.pool().acquire().await?;
        enqueue(
            &mut conn,
            kind,
            incident_id,
            run_at,
            crate::domain::now_millis(),
        )
        .await
    }

    /// Claims the next due job (or one whose lease expired) for `owner` until `now + lease`. An
    /// incident's jobs run one at a time: a pending job waits while another job of its incident
    /// runs under a live lease.
    pub async fn claim_job(
        &self,
        owner: &str,
        now: Millis,
        lease_millis: Millis,
    ) -> Result<Option<Job>> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs j WHERE (j.state = 'pending' AND j.run_at <= $3 \
                     AND (j.incident_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r \
                         WHERE r.incident_id = j.incident_id AND r.state = 'running' \
                         AND r.lease_until >= $3))) \
                 OR (j.state = 'running' AND j.lease_until < $3) \
                 ORDER BY j.run_at, j.id LIMIT 1{lock}) \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(owner)
            .bind(now + lease_millis)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Extends a running job's lease; false when the job is no longer ours.
    pub async fn heartbeat_job(&self, id: &str, owner: &str, lease_until: Millis) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(lease_until)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn complete_job(&self, id: &str, owner: &str, now: Millis) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, \
             updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a failure: retried after a backoff, or `failed` once attempts run out.
    pub async fn fail_job(&self, job: &Job, owner: &str, error: &str, now: Millis) -> Result<()> {
        let (state, run_at) = if job.attempts >= job.max_attempts {
            ("failed", job.run_at)
        } else {
            ("pending", now + backoff_millis(job.attempts))
        };
        sqlx::query(
            "UPDATE jobs SET state = $3, run_at = $4, last_error = $5, lease_owner = NULL, \
             lease_until = NULL, updated_at = $6 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(&job.id)
        .bind(owner)
        .bind(state)
        .bind(run_at)
        .bind(error)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// On graceful shutdown: hand this process's running jobs back, untouched.
    pub async fn release_jobs(&self, owner: &str, now: Millis) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = attempts - 1, lease_owner = NULL, \
             lease_until = NULL, updated_at = $2 WHERE lease_owner = $1 AND state = 'running'",
        )
        .bind(owner)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Jobs, newest first, optionally of one state and/or incident.
    pub async fn jobs(
        &self,
        state: Option<&str>,
        incident_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE ($1 = '' OR state = $1) AND ($2 = '' OR incident_id = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(state.unwrap_or(""))
            .bind(incident_id.unwrap_or(""))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Job counts by state, for `/metrics`.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }

    /// The earliest time a pending job is due, so idle workers can sleep until then.
    pub async fn next_job_due(&self) -> Result<Option<Millis>> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN state = 'pending' THEN run_at ELSE lease_until END) AS due \
             FROM jobs WHERE state IN ('pending', 'running')",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("due")?)
    }
}
