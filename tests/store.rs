//! The store suite: runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

mod common;

use std::collections::BTreeSet;

use common::fresh_database;
use postmortem::domain::JobKind;
use postmortem::store::Store;
use postmortem::store::jobs::backoff_millis;

async fn store() -> (Store, Option<tempfile::TempDir>) {
    let (url, dir) = fresh_database().await;
    (Store::connect(&url).await.unwrap(), dir)
}

const NOW: i64 = 1_800_000_000_000;

#[tokio::test]
async fn migrations_are_idempotent() {
    let (s, _d) = store().await;
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();
    s.ping().await.unwrap();
}

#[tokio::test]
async fn a_due_job_is_claimed_once_and_an_expired_lease_is_claimed_again() {
    let (s, _d) = store().await;
    let id = s
        .enqueue_job(JobKind::Draft, Some("P1"), NOW)
        .await
        .unwrap();
    assert!(
        s.claim_job("a", NOW - 1, 1_000).await.unwrap().is_none(),
        "not due yet"
    );
    let job = s.claim_job("a", NOW, 1_000).await.unwrap().unwrap();
    assert_eq!(job.id, id);
    assert_eq!(job.attempts, 1);
    assert!(
        s.claim_job("b", NOW + 500, 1_000).await.unwrap().is_none(),
        "leased to a"
    );
    // a died: after the lease, b takes it over, and a can no longer complete it.
    let again = s.claim_job("b", NOW + 1_001, 1_000).await.unwrap().unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.attempts, 2);
    assert!(!s.complete_job(&id, "a", NOW + 1_100).await.unwrap());
    assert!(s.complete_job(&id, "b", NOW + 1_100).await.unwrap());
    assert_eq!(s.job(&id).await.unwrap().unwrap().state, "done");
    assert!(
        s.claim_job("c", NOW + 10_000_000, 1_000)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn failures_retry_with_backoff_then_stay_failed_and_visible() {
    let (s, _d) = store().await;
    let id = s
        .enqueue_job(JobKind::Draft, Some("P1"), NOW)
        .await
        .unwrap();
    let mut now = NOW;
    for attempt in 1..=5 {
        let job = s.claim_job("w", now, 60_000).await.unwrap().unwrap();
        assert_eq!(job.attempts, attempt);
        s.fail_job(&job, "w", "boom", now).await.unwrap();
        let after = s.job(&id).await.unwrap().unwrap();
        assert_eq!(after.last_error.as_deref(), Some("boom"));
        if attempt < 5 {
            assert_eq!(after.state, "pending");
            assert_eq!(after.run_at, now + backoff_millis(attempt));
            assert!(
                s.claim_job("w", now + backoff_millis(attempt) - 1, 60_000)
                    .await
                    .unwrap()
                    .is_none()
            );
            now += backoff_millis(attempt);
        } else {
            assert_eq!(after.state, "failed");
        }
    }
    let counts = s.job_counts().await.unwrap();
    assert_eq!(counts, vec![("failed".to_string(), 1)]);
}

#[tokio::test]
async fn released_jobs_go_back_to_pending_untouched() {
    let (s, _d) = store().await;
    let id = s
        .enqueue_job(JobKind::Draft, Some("P1"), NOW)
        .await
        .unwrap();
    s.claim_job("w", NOW, 60_000).await.unwrap().unwrap();
    assert_eq!(s.release_jobs("w", NOW).await.unwrap(), 1);
    let j = s.job(&id).await.unwrap().unwrap();
    assert_eq!((j.state.as_str(), j.attempts), ("pending", 0));
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_job() {
    let (s, _d) = store().await;
    let mut ids = BTreeSet::new();
    for i in 0..40 {
        ids.insert(
            s.enqueue_job(JobKind::Draft, Some(&format!("P{i}")), NOW)
                .await
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(j) = s.claim_job(&format!("w{w}"), NOW, 60_000).await.unwrap() {
                mine.push(j.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let unique: BTreeSet<String> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), 40, "each job claimed exactly once");
    assert_eq!(unique, ids);
}
