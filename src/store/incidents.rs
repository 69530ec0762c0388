//! Incidents and their timelines. An incident is merged from its events so that any delivery order
//! gives the same row: first trigger is a minimum, final resolution a maximum, and status is taken
//! from the latest incident-shaped event.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Result, Store, StoreError, json_col};
use crate::domain::{
    Incident, IncidentEvent, IncidentId, Millis, Severity, Status, TimelineEntry, Transition, merge,
};

const COLUMNS: &str = "id, title, service, service_ref, status, status_at, status_event, severity, \
    urgency, number, html_url, assignees, teams, triggered_at, acknowledged_at, last_resolved_at, \
    data_at, source, summary, root_cause, resolution, merged_into";

fn from_row(row: &AnyRow) -> Result<Incident> {
    let status: String = row.try_get("status")?;
    let severity: Option<String> = row.try_get("severity")?;
    let mut inc = Incident {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        service: row.try_get("service")?,
        service_ref: row.try_get("service_ref")?,
        status: Status::parse(&status).map_err(|e| StoreError::Corrupt(e.0))?,
        status_at: row.try_get("status_at")?,
        status_event: row.try_get("status_event")?,
        severity: severity.and_then(|s| Severity::parse(&s).ok()),
        urgency: row.try_get("urgency")?,
        number: row.try_get("number")?,
        html_url: row.try_get("html_url")?,
        assignees: json_col(&row.try_get::<String, _>("assignees")?, "assignees")?,
        teams: json_col(&row.try_get::<String, _>("teams")?, "teams")?,
        triggered_at: row.try_get("triggered_at")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        resolved_at: None,
        last_resolved_at: row.try_get("last_resolved_at")?,
        data_at: row.try_get("data_at")?,
        source: row.try_get("source")?,
        summary: row.try_get("summary")?,
        root_cause: row.try_get("root_cause")?,
        resolution: row.try_get("resolution")?,
        time_to_acknowledge_minutes: None,
        time_to_resolve_minutes: None,
        merged_into: row.try_get("merged_into")?,
    };
    inc.derive();
    Ok(inc)
}

/// Applies one PagerDuty event inside the caller's transaction: upserts the incident and adds the
/// timeline entry `pagerduty:<event id>`.
pub(crate) async fn apply_event(
    conn: &mut AnyConnection,
    lock_clause: &str,
    ev: &IncidentEvent,
    now: Millis,
) -> Result<(Incident, Transition)> {
    // Make sure the row exists, then lock it (PostgreSQL) so concurrent replicas merge in turn.
    sqlx::query(
        "INSERT INTO incidents (id, triggered_at, status_at, data_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $3, $4, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(ev.incident_id.as_str())
    .bind(ev.occurred_at)
    .bind(i64::MIN)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE id = $1{lock_clause}");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(ev.incident_id.as_str())
        .fetch_one(&mut *conn)
        .await?;
    let mut inc = from_row(&row)?;
    let before = (inc.status, inc.last_resolved_at);
    merge(&mut inc, ev);
    let transition = Transition::between(before, (inc.status, inc.last_resolved_at));
    sqlx::query(
        "UPDATE incidents SET title = $2, service = $3, service_ref = $4, status = $5, \
         status_at = $6, status_event = $7, severity = $8, urgency = $9, number = $10, \
         html_url = $11, assignees = $12, teams = $13, triggered_at = $14, acknowledged_at = $15, \
         last_resolved_at = $16, data_at = $17, updated_at = $18, merged_into = $19 WHERE id = $1",
    )
    .bind(&inc.id)
    .bind(&inc.title)
    .bind(&inc.service)
    .bind(inc.service_ref.as_deref())
    .bind(inc.status.as_str())
    .bind(inc.status_at)
    .bind(&inc.status_event)
    .bind(inc.severity.map(|s| s.to_string()))
    .bind(inc.urgency.as_deref())
    .bind(inc.number)
    .bind(inc.html_url.as_deref())
    .bind(serde_json::to_string(&inc.assignees).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&inc.teams).unwrap_or_else(|_| "[]".into()))
    .bind(inc.triggered_at)
    .bind(inc.acknowledged_at)
    .bind(inc.last_resolved_at)
    .bind(inc.data_at)
    .bind(now)
    .bind(inc.merged_into.as_deref())
    .execute(&mut *conn)
    .await?;
    insert_timeline(
        conn,
        &TimelineEntry {
            incident_id: inc.id.clone(),
            evidence_id: format!("pagerduty:{}", ev.event_id),
            at: ev.occurred_at,
            source: "pagerduty".into(),
            kind: ev.kind.clone(),
            author: ev.agent.clone(),
            text: ev.text.clone(),
            thread: None,
            raw: None,
        },
    )
    .await?;
    Ok((inc, transition))
}

pub(crate) async fn insert_timeline(conn: &mut AnyConnection, e: &TimelineEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO timeline (incident_id, evidence_id, at, source, kind, author, text, thread) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (incident_id, evidence_id) DO NOTHING",
    )
    .bind(&e.incident_id)
    .bind(&e.evidence_id)
    .bind(e.at)
    .bind(&e.source)
    .bind(&e.kind)
    .bind(e.author.as_deref())
    .bind(&e.text)
    .bind(e.thread.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// The incidents PagerDuty merged into `id`.
    pub async fn merged_into(&self, id: &IncidentId) -> Result<Vec<IncidentId>> {
        let rows = sqlx::query("SELECT id FROM incidents WHERE merged_into = $1 ORDER BY id")
            .bind(id.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                IncidentId::parse(&id).map_err(|e| StoreError::Corrupt(e.0))
            })
            .collect()
    }
}

/// Rows of `incidents` fetched in keyset pages ordered by (`key`, `id`), `page` rows a query,
/// so a large history is never one result set.
pub(super) struct KeysetPages {
    /// The columns to select (they must include `id` and the key).
    pub columns: &'static str,
    /// An integer column (ms).
    pub key: &'static str,
    /// A fixed SQL condition every row must meet.
    pub filter: Option<&'static str>,
    /// Rows with `from <= key < until`.
    pub from: i64,
    pub until: i64,
    pub page: i64,
}

impl KeysetPages {
    /// Every matching row, in (key, id) order.
    pub async fn fetch(&self, store: &Store) -> Result<Vec<AnyRow>> {
        let (columns, key) = (self.columns, self.key);
        let filter = self.filter.map(|f| format!("{f} AND ")).unwrap_or_default();
        let sql = format!(
            "SELECT {columns} FROM incidents WHERE {filter}{key} < $1 AND ({key} > $2 OR \
             ({key} = $2 AND id > $3)) ORDER BY {key}, id LIMIT $4"
        );
        let mut out: Vec<AnyRow> = Vec::new();
        let mut after: (i64, String) = (self.from, String::new());
        loop {
            let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(self.until)
                .bind(after.0)
                .bind(&after.1)
                .bind(self.page)
                .fetch_all(store.pool())
                .await?;
            let full = rows.len() as i64 == self.page;
            if let Some(last) = rows.last() {
                after = (last.try_get(key)?, last.try_get("id")?);
            }
            out.extend(rows);
            if !full {
                return Ok(out);
            }
        }
    }
}

/// Filters for listing incidents, newest first.
#[derive(Debug, Default, Clone)]
pub struct IncidentFilter {
    pub service: Option<String>,
    pub status: Option<Status>,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub limit: i64,
    /// Continue after this `(triggered_at, id)`.
    pub after: Option<(Millis, String)>,
}

impl Store {
    pub async fn incident(&self, id: &IncidentId) -> Result<Option<Incident>> {
        let sql = format!("SELECT {COLUMNS} FROM incidents WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A page of incidents, newest first, with the cursor for the next page.
    pub async fn incidents(&self, f: &IncidentFilter) -> Result<Vec<Incident>> {
        let mut sql = format!("SELECT {COLUMNS} FROM incidents WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        // Only constant fragments and numbered placeholders go into the SQL text.
        if f.service.is_some() {
            sql += &format!(" AND service = {}", next());
        }
        if f.status.is_some() {
            sql += &format!(" AND status = {}", next());
        }
        if f.since.is_some() {
            sql += &format!(" AND triggered_at >= {}", next());
        }
        if f.until.is_some() {
            sql += &format!(" AND triggered_at < {}", next());
        }
        if f.after.is_some() {
            let (a, b) = (next(), next());
            sql += &format!(" AND (triggered_at < {a} OR (triggered_at = {a} AND id < {b}))");
        }
        sql += &format!(" ORDER BY triggered_at DESC, id DESC LIMIT {}", next());
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(s) = &f.service {
            q = q.bind(s.clone());
        }
        if let Some(s) = f.status {
            q = q.bind(s.as_str());
        }
        if let Some(s) = f.since {
            q = q.bind(s);
        }
        if let Some(u) = f.until {
            q = q.bind(u);
        }
        if let Some((at, id)) = &f.after {
            q = q.bind(*at).bind(id.clone());
        }
        q = q.bind(f.limit);
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn timeline(&self, id: &IncidentId) -> Result<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT incident_id, evidence_id, at, source, kind, author, text, thread, raw FROM timeline \
             WHERE incident_id = $1 ORDER BY at, evidence_id",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TimelineEntry {
                    incident_id: r.try_get("incident_id")?,
                    evidence_id: r.try_get("evidence_id")?,
                    at: r.try_get("at")?,
                    source: r.try_get("source")?,
                    kind: r.try_get("kind")?,
                    author: r.try_get("author")?,
                    text: r.try_get("text")?,
                    thread: r.try_get("thread")?,
                    raw: r.try_get("raw")?,
                })
            })
            .collect()
    }

    pub async fn count_incidents(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM incidents")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IncidentSnapshot;

    fn ev(id: &str, kind: &str, at: Millis, status: Option<Status>) -> IncidentEvent {
        IncidentEvent {
            event_id: id.into(),
            event_type: format!("incident.{kind}"),
            occurred_at: at,
            incident_id: IncidentId::parse("P1").unwrap(),
            agent: None,
            snapshot: status.map(|status| IncidentSnapshot {
                urgency: Some("high".into()),
                number: Some(1),
                ..IncidentSnapshot::new(format!("title at {at}"), "svc", status)
            }),
            text: kind.into(),
            kind: kind.into(),
        }
    }

    fn fold(events: &[IncidentEvent]) -> Incident {
        let id = IncidentId::parse("P1").unwrap();
        let mut inc = Incident::new_for(&id, events[0].occurred_at);
        for e in events {
            merge(&mut inc, e);
        }
        inc
    }

    #[test]
    fn every_delivery_order_and_repetition_gives_the_same_incident() {
        let events = vec![
            ev("a", "triggered", 1_000, Some(Status::Triggered)),
            ev("b", "acknowledged", 2_000, Some(Status::Acknowledged)),
            ev("c", "annotated", 2_500, None),
            ev("d", "resolved", 3_000, Some(Status::Resolved)),
            ev("e", "reopened", 4_000, Some(Status::Triggered)),
            ev("f", "resolved", 5_000, Some(Status::Resolved)),
        ];
        let expected = fold(&events);
        assert_eq!(expected.status, Status::Resolved);
        assert_eq!(expected.triggered_at, 1_000);
        assert_eq!(expected.acknowledged_at, Some(2_000));
        assert_eq!(
            expected.resolved_at,
            Some(5_000),
            "a reopen extends the incident"
        );
        assert_eq!(expected.time_to_resolve_minutes, Some(4_000.0 / 60_000.0));
        // All rotations and reversals, plus duplicates.
        for r in 0..events.len() {
            let mut order = events.clone();
            order.rotate_left(r);
            assert_eq!(fold(&order), expected, "rotation {r}");
            order.reverse();
            assert_eq!(fold(&order), expected, "reversed rotation {r}");
            let mut dup = order.clone();
            dup.extend(order.iter().cloned());
            assert_eq!(fold(&dup), expected, "duplicated rotation {r}");
        }
    }

    #[test]
    fn a_reopened_incident_is_open_with_no_resolution() {
        let inc = fold(&[
            ev("a", "triggered", 1_000, Some(Status::Triggered)),
            ev("d", "resolved", 3_000, Some(Status::Resolved)),
            ev("e", "reopened", 4_000, Some(Status::Triggered)),
        ]);
        assert_eq!(inc.status, Status::Triggered);
        assert_eq!(inc.resolved_at, None);
        assert_eq!(inc.time_to_resolve_minutes, None);
    }
}
