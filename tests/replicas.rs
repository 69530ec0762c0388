//! Two replicas of the service on one database (SQLite, or PostgreSQL when TEST_DATABASE_URL is
//! set): webhooks to either, each draft job run exactly once, the work shared.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;

fn counter(metrics: &str, needle: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(needle))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test]
async fn two_replicas_share_the_drafts_with_no_duplicates() {
    let a = spawn_app().await;
    let b = spawn_replica(&a.database_url).await;
    const N: usize = 30;
    for i in 0..N {
        let id = format!("PREP{i:03}");
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let t = pd_event(
            &format!("RT{i}"),
            "incident.triggered",
            &id,
            "triggered",
            "2026-10-05T10:00:00Z",
        );
        let r = pd_event(
            &format!("RR{i}"),
            "incident.resolved",
            &id,
            "resolved",
            "2026-10-05T10:20:00Z",
        );
        assert_eq!(
            first.post_pagerduty(&t).await.status(),
            StatusCode::ACCEPTED
        );
        // The same delivery retried to the other replica changes nothing.
        assert_eq!(
            second.post_pagerduty(&t).await.status(),
            StatusCode::ACCEPTED
        );
        assert_eq!(
            second.post_pagerduty(&r).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = a.get_json("/api/jobs?state=done&limit=1000").await["jobs"]
            .as_array()
            .unwrap()
            .len();
        if done >= N {
            assert_eq!(done, N, "one draft job per incident");
            break;
        }
        assert!(Instant::now() < deadline, "{done} of {N} drafts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..N {
        let revs = b
            .get_json(&format!("/api/incidents/PREP{i:03}/postmortem/revisions"))
            .await;
        assert_eq!(
            revs["revisions"].as_array().unwrap().len(),
            1,
            "PREP{i:03}: {revs}"
        );
    }
    let needle = r#"postmortem_job_runs_total{kind="draft",outcome="done"}"#;
    let (ran_a, ran_b) = (
        counter(&a.metrics_text().await, needle),
        counter(&b.metrics_text().await, needle),
    );
    assert_eq!(ran_a + ran_b, N as u64, "{ran_a} + {ran_b}");
    eprintln!("replica A ran {ran_a} drafts, replica B {ran_b}");
    assert!(
        ran_a > 0 && ran_b > 0,
        "both replicas work: {ran_a} + {ran_b}"
    );
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn two_replicas_run_a_scheduled_report_once() {
    // Installed long ago, down at the last scheduled time: both replicas start and catch it up.
    let (db, _dir, store) = database_down_at_last_report().await;
    store.close().await;
    let (slack_url, slack) = common::slack::start().await;
    let adjust = announcing_reports(slack_url);
    let (a, b) = tokio::join!(spawn_at(&db, adjust.clone()), spawn_at(&db, adjust));
    let month = last_scheduled_month().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while slack.posts().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give the other replica time to (wrongly) announce too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let posts = slack.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("Reliability report: {month}")),
        "{posts:?}"
    );
    let stored = a.store.stored_report(&month).await.unwrap().unwrap();
    assert!(stored.scheduled && stored.announced_at.is_some());
    a.stop().await;
    b.stop().await;
}
