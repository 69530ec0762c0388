//! Lineage runs and the datasets they read and wrote.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Result, Store, json_col};
use crate::domain::Millis;
use crate::domain::{DatasetRef, RunEvent};

/// Stores one RunEvent inside the caller's transaction and merges it into its run: state,
/// facets, inputs and outputs from every event of the run, in any order (a run may send several
/// events of one type, e.g. two COMPLETEs, the second with the outputs). False when this exact
/// body was stored before (a retry: nothing changes).
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    ev: &RunEvent,
    raw: &str,
    now: Millis,
) -> Result<bool> {
    use sha2::{Digest, Sha256};
    let fresh = sqlx::query(
        "INSERT INTO lineage_events (run_id, body_sha256, event_type, event_time, job_namespace, \
         job_name, body, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (run_id, body_sha256) DO NOTHING",
    )
    .bind(&ev.run_id)
    .bind(hex::encode(Sha256::digest(raw.as_bytes())))
    .bind(&ev.event_type)
    .bind(ev.event_time)
    .bind(&ev.job_namespace)
    .bind(&ev.job_name)
    .bind(raw)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO lineage_runs (run_id, job_namespace, job_name, state, facets) VALUES ($1, $2, $3, $4, '{}') \
         ON CONFLICT (run_id) DO NOTHING",
    )
    .bind(&ev.run_id)
    .bind(&ev.job_namespace)
    .bind(&ev.job_name)
    .bind(&ev.event_type)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT state, facets FROM lineage_runs WHERE run_id = $1")
        .bind(&ev.run_id)
        .fetch_one(&mut *conn)
        .await?;
    let mut facets: serde_json::Map<String, serde_json::Value> =
        json_col(&row.try_get::<String, _>("facets")?, "run facets")?;
    facets.extend(ev.run_facets.clone());
    // Terminal states win whatever the delivery order.
    let state: String = row.try_get("state")?;
    let terminal = |s: &str| matches!(s, "COMPLETE" | "FAIL" | "ABORT");
    let state = if terminal(&state) && !terminal(&ev.event_type) {
        state
    } else {
        ev.event_type.clone()
    };
    // The run's first START and its last COMPLETE.
    let (started, completed) = match ev.event_type.as_str() {
        "START" => (Some(ev.event_time), None),
        "COMPLETE" => (None, Some(ev.event_time)),
        _ => (None, None),
    };
    sqlx::query(
        "UPDATE lineage_runs SET state = $2, facets = $3, \
         started_at = CASE WHEN started_at IS NULL OR $4 < started_at THEN COALESCE($4, started_at) \
         ELSE started_at END, \
         completed_at = CASE WHEN completed_at IS NULL OR $5 > completed_at \
         THEN COALESCE($5, completed_at) ELSE completed_at END WHERE run_id = $1",
    )
    .bind(&ev.run_id)
    .bind(&state)
    .bind(serde_json::Value::Object(facets).to_string())
    .bind(started)
    .bind(completed)
    .execute(&mut *conn)
    .await?;
    for (direction, list) in [("in", &ev.inputs), ("out", &ev.outputs)] {
        for d in list {
            sqlx::query(
                "INSERT INTO lineage_io (run_id, direction, namespace, name, version) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (run_id, direction, namespace, name) DO UPDATE SET \
                 version = COALESCE(excluded.version, lineage_io.version)",
            )
            .bind(&ev.run_id)
            .bind(direction)
            .bind(&d.namespace)
            .bind(&d.name)
            .bind(d.version.as_deref())
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(true)
}

/// A completed run.
#[derive(Debug, Clone)]
pub struct Run {
    pub run_id: String,
    pub job_namespace: String,
    pub job_name: String,
    pub completed_at: Millis,
    pub facets: serde_json::Map<String, serde_json::Value>,
}

fn run_from(r: &AnyRow) -> Result<Run> {
    Ok(Run {
        run_id: r.try_get("run_id")?,
        job_namespace: r.try_get("job_namespace")?,
        job_name: r.try_get("job_name")?,
        completed_at: r.try_get("completed_at")?,
        facets: json_col(&r.try_get::<String, _>("facets")?, "run facets")?,
    })
}

impl Store {
    /// Completed runs of a job (by name, any case) in `[from, to]`, oldest first.
    pub async fn lineage_runs_of_job(
        &self,
        job_name: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<Run>> {
        let rows = sqlx::query(
            "SELECT run_id, job_namespace, job_name, completed_at, facets FROM lineage_runs \
             WHERE LOWER(job_name) = $1 AND state = 'COMPLETE' AND completed_at >= $2 AND completed_at <= $3 \
             ORDER BY completed_at, run_id",
        )
        .bind(job_name.to_lowercase())
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_from).collect()
    }

    /// What a run read (`in`) or wrote (`out`).
    pub async fn lineage_datasets(&self, run_id: &str, direction: &str) -> Result<Vec<DatasetRef>> {
        let rows = sqlx::query(
            "SELECT namespace, name, version FROM lineage_io WHERE run_id = $1 AND direction = $2 ORDER BY namespace, name",
        )
        .bind(run_id)
        .bind(direction)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DatasetRef {
                    namespace: r.try_get("namespace")?,
                    name: r.try_get("name")?,
                    version: r.try_get("version")?,
                })
            })
            .collect()
    }

    /// Completed runs that wrote a dataset in `[from, to]`, with the version they wrote.
    pub async fn lineage_producers(
        &self,
        namespace: &str,
        name: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<(Run, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT r.run_id, r.job_namespace, r.job_name, r.completed_at, r.facets, io.version \
             FROM lineage_io io JOIN lineage_runs r ON r.run_id = io.run_id \
             WHERE io.direction = 'out' AND io.namespace = $1 AND io.name = $2 AND r.state = 'COMPLETE' \
             AND r.completed_at >= $3 AND r.completed_at <= $4 ORDER BY r.completed_at, r.run_id",
        )
        .bind(namespace)
        .bind(name)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((run_from(r)?, r.try_get("version")?)))
            .collect()
    }
}
