//! Faults that must not stick: a disk that fills up and a database that goes away answer 503 (not
//! 500), `/readyz` says the database cannot take writes, and ingest recovers by itself, without a
//! restart, once the cause passes. Nothing acknowledged is lost.

mod common;

use std::io::Write;
use std::path::PathBuf;

use common::*;
use reqwest::StatusCode;

/// Unmounts the small file system when the test ends, however it ends.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

async fn readyz(app: &TestApp) -> (StatusCode, String) {
    let r = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn stored_pagerduty_events(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE source = 'pagerduty'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    n
}

fn note(n: usize) -> String {
    pd_note(
        &format!("N{n}"),
        "PDISK1",
        "2026-10-02T10:05:00Z",
        // Large enough that a few of them need new pages in the write-ahead log.
        &format!("note {n}: {}", "disk ".repeat(8_000)),
    )
}

#[tokio::test]
async fn a_full_disk_answers_503_and_ingest_recovers_when_space_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        skipped("cannot mount a 4 MiB tmpfs for the database (needs root)");
        return;
    }
    let _unmount = Unmount(mnt.clone());
    let url = format!("sqlite://{}", mnt.join("postmortem.db").display());
    let app = spawn_at(&url, |_| {}).await;

    let trigger = pd_event(
        "T1",
        "incident.triggered",
        "PDISK1",
        "triggered",
        "2026-10-02T10:00:00Z",
    );
    assert_eq!(
        app.post_pagerduty(&trigger).await.status(),
        StatusCode::ACCEPTED
    );
    let mut acknowledged = 1;

    // Fill the file system to the last byte.
    let filler = mnt.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }

    // Writes fail now: 503 so the sender retries, never 500, never a 202 for what was not stored.
    let mut failed = None;
    for n in 0..60 {
        let status = app.post_pagerduty(&note(n)).await.status();
        match status {
            StatusCode::ACCEPTED => acknowledged += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                failed = Some(n);
                break;
            }
            other => panic!("note {n} on a full disk answered {other}"),
        }
    }
    let failed = failed.expect("a full disk refuses a write within 60 notes");
    // Again: the connection whose commit failed must not poison the next write.
    assert_eq!(
        app.post_pagerduty(&note(failed)).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("cannot take writes"), "{body}");

    // Space is back: ready again and the sender's retry is stored, with no restart.
    std::fs::remove_file(&filler).unwrap();
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.post_pagerduty(&note(failed)).await.status(),
        StatusCode::ACCEPTED
    );
    acknowledged += 1;
    assert_eq!(
        app.post_pagerduty(&note(failed + 1)).await.status(),
        StatusCode::ACCEPTED
    );
    acknowledged += 1;
    // Everything acknowledged is stored, and nothing else.
    assert_eq!(stored_pagerduty_events(&app).await, acknowledged);
    app.stop().await;
}

#[tokio::test]
async fn a_database_dropped_mid_run_answers_503_not_500() {
    let app = spawn_app().await;
    let trigger = pd_event(
        "T1",
        "incident.triggered",
        "PDROP1",
        "triggered",
        "2026-10-02T10:00:00Z",
    );
    assert_eq!(
        app.post_pagerduty(&trigger).await.status(),
        StatusCode::ACCEPTED
    );
    // PostgreSQL: the test's whole schema goes (as a dropped database would); SQLite: its tables.
    let drop = match app.database_url.split("search_path]=").nth(1) {
        Some(schema) => vec![format!("DROP SCHEMA {schema} CASCADE")],
        None => vec![
            "DROP TABLE webhook_events".to_string(),
            "DROP TABLE writer_probe".to_string(),
        ],
    };
    for sql in drop {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    let body = pd_event(
        "T2",
        "incident.acknowledged",
        "PDROP1",
        "acknowledged",
        "2026-10-02T10:03:00Z",
    );
    let r = app.post_pagerduty(&body).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("cannot take writes"), "{text}");
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    app.stop().await;
}
