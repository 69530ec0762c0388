//! Families as stored: every family ever found (retired ones keep their row), the latest run's
//! membership, and one row per run.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, json_col};
use crate::domain::Millis;
use crate::domain::{Computed, Previous, TermVector};

/// A family as the API and the report show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StoredFamily {
    pub id: String,
    pub label: String,
    pub size: i64,
    pub incident_ids: Vec<String>,
    pub top_terms: Vec<String>,
    pub representatives: Vec<String>,
    pub typical_causes: Vec<String>,
    pub first_run: i64,
    pub last_run: i64,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// The latest run.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyRun {
    pub run: i64,
    pub computed_at: String,
    pub incidents: i64,
    pub k: i64,
    /// The incidents' newest `updated_at` when the run read them.
    #[serde(skip)]
    pub watermark: Millis,
    pub detail: serde_json::Value,
}

const COLUMNS: &str = "id, label, size, top_terms, representatives, typical_causes, first_run, \
    last_run, created_at, retired_at";

fn from_row(r: &AnyRow) -> Result<StoredFamily> {
    Ok(StoredFamily {
        id: r.try_get("id")?,
        label: r.try_get("label")?,
        size: r.try_get("size")?,
        incident_ids: Vec::new(),
        top_terms: json_col(&r.try_get::<String, _>("top_terms")?, "families.top_terms")?,
        representatives: json_col(
            &r.try_get::<String, _>("representatives")?,
            "families.representatives",
        )?,
        typical_causes: json_col(
            &r.try_get::<String, _>("typical_causes")?,
            "families.typical_causes",
        )?,
        first_run: r.try_get("first_run")?,
        last_run: r.try_get("last_run")?,
        created_at: crate::domain::fmt_time(r.try_get("created_at")?),
        retired_at: r
            .try_get::<Option<i64>, _>("retired_at")?
            .map(crate::domain::fmt_time),
    })
}

impl Store {
    /// The incidents' count and newest `updated_at`: a run is stale when these moved.
    pub async fn incidents_watermark(&self) -> Result<(i64, Millis)> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS w FROM incidents")
                .fetch_one(self.pool())
                .await?;
        Ok((row.try_get("n")?, row.try_get("w")?))
    }

    pub async fn latest_family_run(&self) -> Result<Option<FamilyRun>> {
        let row = sqlx::query(
            "SELECT run, computed_at, incidents, k, watermark, detail FROM family_runs \
             ORDER BY run DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(FamilyRun {
                run: r.try_get("run")?,
                computed_at: crate::domain::fmt_time(r.try_get("computed_at")?),
                incidents: r.try_get("incidents")?,
                k: r.try_get("k")?,
                watermark: r.try_get("watermark")?,
                detail: json_col(&r.try_get::<String, _>("detail")?, "family_runs.detail")?,
            })
        })
        .transpose()
    }

    /// The active families' term-space centroids, the first free family number, and the latest
    /// run (the base a new run must be saved on).
    pub async fn family_matching_state(&self) -> Result<(Vec<Previous>, u64, i64)> {
        let base = sqlx::query("SELECT COALESCE(MAX(run), 0) AS n FROM family_runs")
            .fetch_one(self.pool())
            .await?
            .try_get::<i64, _>("n")?;
        let rows =
            sqlx::query("SELECT id, centroid FROM families WHERE retired_at IS NULL ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        let mut members = self.family_members().await?;
        let previous = rows
            .iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let mut members = members.remove(&id).unwrap_or_default();
                members.sort();
                Ok(Previous {
                    centroid: json_col::<TermVector>(
                        &r.try_get::<String, _>("centroid")?,
                        "families.centroid",
                    )?,
                    id,
                    members,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let row = sqlx::query("SELECT COALESCE(MAX(number), 0) AS n FROM families")
            .fetch_one(self.pool())
            .await?;
        let next = row.try_get::<i64, _>("n")? as u64 + 1;
        Ok((previous, next, base))
    }

    /// Stores a run computed against run `base`: its families (new or updated), the retired
    /// ones, and the new membership. `None` when another run was stored since `base` (by another
    /// process): the computation matched stale families and must be redone.
    pub async fn save_family_run(
        &self,
        computed: &Computed,
        base: i64,
        watermark: Millis,
        at: Millis,
        detail: &serde_json::Value,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT COALESCE(MAX(run), 0) AS n FROM family_runs")
            .fetch_one(&mut *tx)
            .await?;
        if row.try_get::<i64, _>("n")? != base {
            return Ok(None);
        }
        let run = base + 1;
        let inserted = sqlx::query(
            "INSERT INTO family_runs (run, computed_at, incidents, k, watermark, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(run)
        .bind(at)
        .bind(computed.incidents as i64)
        .bind(computed.k as i64)
        .bind(watermark)
        .bind(detail.to_string())
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Another writer stored run `base + 1` first (PostgreSQL's row locks let both read
            // the same base): the same as a stale base.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        for f in &computed.families {
            upsert_family(&mut tx, f, run, at).await?;
        }
        for id in &computed.retired {
            sqlx::query("UPDATE families SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        replace_members(&mut tx, computed).await?;
        tx.commit().await?;
        Ok(Some(run))
    }

    /// Families with their members; retired ones too when asked.
    pub async fn families(&self, include_retired: bool) -> Result<Vec<StoredFamily>> {
        let filter = if include_retired {
            ""
        } else {
            " WHERE retired_at IS NULL"
        };
        let sql = format!("SELECT {COLUMNS} FROM families{filter} ORDER BY size DESC, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        let mut families = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        let members = self.family_members().await?;
        for f in &mut families {
            if let Some(ids) = members.get(&f.id) {
                f.incident_ids = ids.clone();
            }
        }
        Ok(families)
    }

    /// Family id → its incidents, nearest the centre first.
    pub async fn family_members(&self) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT incident_id, family_id FROM family_members ORDER BY family_id, rank",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for r in rows {
            out.entry(r.try_get("family_id")?)
                .or_default()
                .push(r.try_get("incident_id")?);
        }
        Ok(out)
    }
}

/// Inserts or updates one family of run `run`. A retired id can come back only through matching,
/// which reads active ones; an upsert keeps the row's history (first run, creation time).
async fn upsert_family(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    f: &crate::domain::Family,
    run: i64,
    at: Millis,
) -> Result<()> {
    let number: i64 =
        f.id.trim_start_matches("F-")
            .parse()
            .map_err(|_| super::StoreError::Corrupt(format!("family id {}", f.id)))?;
    let json = |v: &Vec<String>| serde_json::to_string(v).expect("strings serialise");
    let centroid = serde_json::to_string(&f.centroid).expect("terms serialise");
    // A retired id can come back only through matching, which reads active ones; an
    // upsert keeps the row's history (first run, creation time) either way.
    sqlx::query(
        "INSERT INTO families (id, number, label, size, top_terms, representatives, \
         typical_causes, centroid, first_run, last_run, created_at, retired_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, NULL) \
         ON CONFLICT (id) DO UPDATE SET label = excluded.label, size = excluded.size, \
         top_terms = excluded.top_terms, representatives = excluded.representatives, \
         typical_causes = excluded.typical_causes, centroid = excluded.centroid, \
         last_run = excluded.last_run, retired_at = NULL",
    )
    .bind(&f.id)
    .bind(number)
    .bind(&f.label)
    .bind(f.size as i64)
    .bind(json(&f.top_terms))
    .bind(json(&f.representatives))
    .bind(json(&f.typical_causes))
    .bind(centroid)
    .bind(run)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces every family membership with this run's, in multi-row inserts (100,000 members in a
/// few hundred statements).
async fn replace_members(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    computed: &Computed,
) -> Result<()> {
    sqlx::query("DELETE FROM family_members")
        .execute(&mut **tx)
        .await?;
    // Multi-row inserts: 100,000 members in a few hundred statements.
    const CHUNK: usize = 300;
    let members: Vec<(&str, &str, i64)> = computed
        .families
        .iter()
        .flat_map(|f| {
            f.incident_ids
                .iter()
                .enumerate()
                .map(move |(rank, id)| (id.as_str(), f.id.as_str(), rank as i64))
        })
        .collect();
    for chunk in members.chunks(CHUNK) {
        let mut sql =
            String::from("INSERT INTO family_members (incident_id, family_id, rank) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (incident, family, rank) in chunk {
            q = q.bind(*incident).bind(*family).bind(*rank);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
