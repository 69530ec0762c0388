//! OpenLineage in, GitHub deployments in, and lineage-aware ranking, through HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const REBUILD: &str = "lineage:7e929185-ee70-589c-a0a1-902799ee4499";

fn reference_events() -> Value {
    serde_json::from_str(&reference("openlineage/run_events.json")).unwrap()
}

#[tokio::test]
async fn valid_events_are_stored_once_and_invalid_ones_refused_with_their_reason() {
    let app = spawn_app().await;
    let r = reference_events();
    for (kind, ev) in r["valid"].as_object().unwrap() {
        let resp = app.post_lineage(&ev.to_string()).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{kind}");
        assert_eq!(
            resp.json::<Value>().await.unwrap()["status"],
            "accepted",
            "{kind}"
        );
        let again = app.post_lineage(&ev.to_string()).await;
        assert_eq!(
            again.json::<Value>().await.unwrap()["status"],
            "duplicate",
            "{kind}: the same body again is a duplicate"
        );
    }
    for (why, case) in r["invalid"].as_object().unwrap() {
        let resp = app.post_lineage(&case["event"].to_string()).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{why}");
        let e: Value = resp.json().await.unwrap();
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains("not a valid OpenLineage RunEvent"),
            "{why}: {e}"
        );
    }
    let mut bad_time = r["valid"]["START"].clone();
    bad_time["eventTime"] = "yesterday".into();
    let e: Value = app
        .post_lineage(&bad_time.to_string())
        .await
        .json()
        .await
        .unwrap();
    assert!(e["error"].as_str().unwrap().contains("/eventTime"), "{e}");
    let r2 = app
        .http
        .post(format!("{}/api/v1/lineage", app.base))
        .body(r["valid"]["START"].to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r2.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_fee_assistant_cause_is_the_index_rebuild_found_upstream_through_lineage() {
    let app = spawn_app().await;
    app.replay_demo().await;
    let mut p = app.wait_for_postmortem("PFEE7Q1").await;
    for _ in 0..100 {
        if p["root_cause_hypotheses"][0]["evidence_ids"][0] == REBUILD {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        p = app.get_json("/api/incidents/PFEE7Q1/postmortem").await;
    }
    let hyps = p["root_cause_hypotheses"].as_array().unwrap();
    assert_eq!(
        hyps[0]["evidence_ids"][0], REBUILD,
        "{:#}",
        p["root_cause_hypotheses"]
    );
    let text = hyps[0]["hypothesis"].as_str().unwrap();
    assert!(
        text.contains("upstream of fee-assistant through lineage (1 hop)"),
        "{text}"
    );
    assert!(text.contains("s3://staging/fees_corpus"), "{text}");
    // The decoy branch (closer in time, data fee-assistant does not read) is no candidate at all.
    let all = p.to_string();
    assert!(
        !all.contains("marketing-embeddings"),
        "the decoy branch must not appear"
    );
    // The other service's deploy ranks below the lineage cause; the silent prompt change is found.
    let pos = |needle: &str| {
        hyps.iter()
            .position(|h| h["hypothesis"].as_str().unwrap().contains(needle))
    };
    if let Some(web) = pos("web-frontend") {
        assert!(web > 0);
    }
    let prompt = pos("without a version bump").expect("the prompt change seen in the run facets");
    assert!(prompt > 0 && prompt < 3, "{:#}", p["root_cause_hypotheses"]);
    // The changes section and the receipt show the lineage path.
    let md = p["markdown"].as_str().unwrap();
    assert!(md.contains("Lineage: fee-assistant reads vector://prod/fees_index ← written at version build-118 by fees-index-rebuild"), "{md}");
    assert!(
        md.contains("**Lineage paths behind the hypotheses:**"),
        "{md}"
    );
}

fn lineage_run(run: &str, job: &str, time: &str, inputs: &[&str], outputs: &[&str]) -> String {
    let ds = |names: &[&str]| -> Vec<Value> {
        names
            .iter()
            .map(|n| json!({"namespace": "warehouse", "name": n, "facets": {}}))
            .collect()
    };
    json!({
        "eventType": "COMPLETE", "eventTime": time, "producer": "https://example.com/etl",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run, "facets": {}}, "job": {"namespace": "etl", "name": job, "facets": {}},
        "inputs": ds(inputs), "outputs": ds(outputs)
    })
    .to_string()
}

#[tokio::test]
async fn the_walk_reaches_three_hops_upstream_and_ignores_unrelated_branches() {
    let app = spawn_app().await;
    let runs = [
        (
            "00000000-0000-4000-8000-000000000001",
            "orders-api",
            "2026-10-05T09:50:00Z",
            &["orders_view"][..],
            &[][..],
        ),
        (
            "00000000-0000-4000-8000-000000000002",
            "build-view",
            "2026-10-05T08:00:00Z",
            &["orders_clean"],
            &["orders_view"],
        ),
        (
            "00000000-0000-4000-8000-000000000003",
            "clean-orders",
            "2026-10-05T07:00:00Z",
            &["orders_raw"],
            &["orders_clean"],
        ),
        (
            "00000000-0000-4000-8000-000000000004",
            "ingest-orders",
            "2026-10-05T06:00:00Z",
            &[],
            &["orders_raw"],
        ),
        (
            "00000000-0000-4000-8000-000000000005",
            "unrelated-job",
            "2026-10-05T09:55:00Z",
            &["x"],
            &["y"],
        ),
    ];
    for (id, job, at, i, o) in runs {
        assert_eq!(
            app.post_lineage(&lineage_run(id, job, at, i, o))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    app.post_pagerduty(
        &pd_event(
            "O1",
            "incident.triggered",
            "PORD1",
            "triggered",
            "2026-10-05T10:00:00Z",
        )
        .replace("Payments-API", "orders-api"),
    )
    .await;
    app.post_pagerduty(
        &pd_event(
            "O2",
            "incident.resolved",
            "PORD1",
            "resolved",
            "2026-10-05T10:30:00Z",
        )
        .replace("Payments-API", "orders-api"),
    )
    .await;
    let p = app.wait_for_postmortem("PORD1").await;
    let hyps = p["root_cause_hypotheses"].as_array().unwrap();
    let ids: Vec<&str> = hyps
        .iter()
        .map(|h| h["evidence_ids"][0].as_str().unwrap())
        .collect();
    for (n, hop) in [(2, 1), (3, 2), (4, 3)] {
        let id = format!("lineage:00000000-0000-4000-8000-00000000000{n}");
        let h = hyps
            .iter()
            .find(|h| h["evidence_ids"][0] == id.as_str())
            .unwrap_or_else(|| panic!("{id} missing: {ids:?}"));
        let expect = format!("({hop} hop");
        assert!(h["hypothesis"].as_str().unwrap().contains(&expect), "{h}");
    }
    assert!(!ids.contains(&"lineage:00000000-0000-4000-8000-000000000005"));
    assert_eq!(
        ids[0], "lineage:00000000-0000-4000-8000-000000000002",
        "the nearest hop ranks first"
    );
}

/// Events from the OpenLineage project's own fixtures for Airflow, dbt, Spark and Flink
/// (`fixtures/openlineage/integrations/`, sources in its SOURCES.md): each is accepted as sent,
/// nulls included, and a repeat of the same body is a duplicate.
#[tokio::test]
async fn the_integrations_own_events_are_accepted() {
    let app = spawn_app().await;
    for name in ["airflow", "dbt", "spark", "flink"] {
        let path = format!(
            "{}/fixtures/openlineage/integrations/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let events: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(events.len() >= 4, "{name}");
        for (n, ev) in events.iter().enumerate() {
            let r = app.post_lineage(&ev.to_string()).await;
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{name}[{n}]: {body}");
            assert_eq!(body["status"], "accepted", "{name}[{n}]: {body}");
            let again: Value = app
                .post_lineage(&ev.to_string())
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(again["status"], "duplicate", "{name}[{n}]");
        }
    }
}

/// A run may send several events of one type: here two COMPLETEs, the second with the outputs.
/// Both are kept and merged, so the run that wrote the dataset the paged service reads is found.
#[tokio::test]
async fn every_event_of_a_run_is_merged_so_a_second_complete_brings_its_outputs() {
    let app = spawn_app().await;
    let run = "00000000-0000-4000-8000-0000000000c1";
    let reader = lineage_run(
        "00000000-0000-4000-8000-0000000000c0",
        "orders-api",
        "2026-10-05T09:50:00Z",
        &["orders_view"],
        &[],
    );
    let first = lineage_run(
        run,
        "build-view",
        "2026-10-05T08:00:00Z",
        &["orders_clean"],
        &[],
    );
    let second = lineage_run(
        run,
        "build-view",
        "2026-10-05T08:00:02Z",
        &[],
        &["orders_view"],
    );
    for body in [&reader, &first, &second] {
        let r: Value = app.post_lineage(body).await.json().await.unwrap();
        assert_eq!(r["status"], "accepted", "{r}");
    }
    for (event, status, at) in [
        ("O1", "triggered", "2026-10-05T10:00:00Z"),
        ("O2", "resolved", "2026-10-05T10:30:00Z"),
    ] {
        let body = pd_event(event, &format!("incident.{status}"), "PMRG1", status, at);
        app.post_pagerduty(&body.replace("Payments-API", "orders-api"))
            .await;
    }
    let p = app.wait_for_postmortem("PMRG1").await;
    let ids: Vec<&str> = p["root_cause_hypotheses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["evidence_ids"][0].as_str())
        .collect();
    assert!(ids.contains(&format!("lineage:{run}").as_str()), "{ids:?}");
}

/// The entry `evidence_id` of incident `id`'s timeline.
async fn timeline_entry(app: &TestApp, id: &str, evidence_id: &str) -> Value {
    let tl = app.get_json(&format!("/api/incidents/{id}/timeline")).await;
    tl["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["evidence_id"] == evidence_id)
        .unwrap_or_else(|| panic!("{evidence_id} is not in {id}'s timeline: {tl:#}"))
        .clone()
}

fn deployment(id: i64, state: &str, repo: &str, at: &str) -> String {
    json!({
        "action": "created",
        "deployment_status": {"id": 9, "state": state, "created_at": at, "target_url": "https://ci.example/run/9",
            "environment": "production"},
        "deployment": {"id": id, "sha": "a1b2c3d4e5f6", "ref": "v2.9.0", "environment": "production",
            "description": "Deploy v2.9.0", "creator": {"login": "octocat"}, "created_at": at,
            "url": "https://api.github.com/repos/acme/search-api/deployments/1"},
        "repository": {"full_name": repo, "name": "search-api"},
        "sender": {"login": "octocat"}
    })
    .to_string()
}

#[tokio::test]
async fn github_deployments_become_changes_of_the_mapped_service() {
    let app = spawn_app_with(|c| {
        c.github_webhook_secret = Some("gh-secret".to_string().into());
        c.services.insert(
            "search-api".into(),
            postmortem::config::ServiceMapping {
                github_repos: vec!["acme/search-engine".into()],
                ..Default::default()
            },
        );
    })
    .await;
    let body = deployment(
        4242,
        "success",
        "acme/search-engine",
        "2026-10-14T16:20:00Z",
    );
    let r = app
        .post_github("deployment_status", &body, "gh-secret")
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["evidence_ids"][0],
        "change:github:4242"
    );
    assert_eq!(
        app.post_github("deployment_status", &body, "wrong")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let pending = deployment(
        4243,
        "pending",
        "acme/search-engine",
        "2026-10-14T16:21:00Z",
    );
    let r = app
        .post_github("deployment_status", &pending, "gh-secret")
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ignored");
    let r = app
        .post_github(
            "ping",
            r#"{"zen":"Keep it logically awesome."}"#,
            "gh-secret",
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app
        .post_github("deployment_status", "{}", "gh-secret")
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    app.post_pagerduty(
        &pd_event(
            "G1",
            "incident.triggered",
            "PGH1",
            "triggered",
            "2026-10-14T16:31:00Z",
        )
        .replace("Payments-API", "search-api"),
    )
    .await;
    let entry = timeline_entry(&app, "PGH1", "change:github:4242").await;
    assert_eq!(entry["source"], "change");
    assert!(entry["text"].as_str().unwrap().contains("Deploy v2.9.0"));

    // A second `success` status of the same deployment (a re-run) after the page: the
    // deployment keeps its first success time, so it stays a candidate before the page.
    let mut rerun: Value = serde_json::from_str(&body).unwrap();
    rerun["deployment_status"]["id"] = json!(10);
    rerun["deployment_status"]["created_at"] = json!("2026-10-14T16:45:00Z");
    let r = app
        .post_github("deployment_status", &rerun.to_string(), "gh-secret")
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let entry = timeline_entry(&app, "PGH1", "change:github:4242").await;
    assert_eq!(entry["at"], "2026-10-14T16:20:00Z", "{entry}");

    let closed = spawn_app().await;
    assert_eq!(
        closed
            .post_github("deployment_status", &body, "x")
            .await
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn preview_deployments_are_marked_in_the_draft_and_never_ranked_as_a_cause() {
    let app = spawn_app_with(|c| {
        c.github_webhook_secret = Some("gh-secret".to_string().into());
    })
    .await;
    // A production config change half an hour before the page, then a Preview deployment of a
    // pull request three minutes before it (as GitHub sends it for a transient environment).
    let r = app
        .post_changes(
            &json!({"id": "cfg-901", "service": "search-api", "kind": "config",
                "summary": "Lower search timeout to 200ms", "at": "2026-10-14T16:00:00Z"})
            .to_string(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mut preview: Value = serde_json::from_str(&deployment(
        5151,
        "success",
        "acme/search-api",
        "2026-10-14T16:28:00Z",
    ))
    .unwrap();
    preview["deployment"]["environment"] = json!("Preview – search-api-pr-812");
    preview["deployment"]["production_environment"] = json!(false);
    preview["deployment"]["transient_environment"] = json!(true);
    let r = app
        .post_github("deployment_status", &preview.to_string(), "gh-secret")
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    for (id, status, at) in [
        ("PV1", "triggered", "2026-10-14T16:31:00Z"),
        ("PV2", "resolved", "2026-10-14T16:50:00Z"),
    ] {
        let event = format!("incident.{status}");
        let body = pd_event(id, &event, "PPREV1", status, at).replace("Payments-API", "search-api");
        assert_eq!(
            app.post_pagerduty(&body).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let p = app.wait_for_postmortem("PPREV1").await;
    let hyps = p["root_cause_hypotheses"].as_array().unwrap();
    assert_eq!(hyps[0]["evidence_ids"][0], "change:cfg-901", "{hyps:#?}");
    assert!(
        hyps.iter()
            .all(|h| !h["evidence_ids"].to_string().contains("github:5151")),
        "{hyps:#?}"
    );
    let listed = p["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["evidence_id"] == "change:github:5151")
        .expect("the preview deployment is listed");
    assert_eq!(listed["production"], false);
    let md = p["markdown"].as_str().unwrap();
    assert!(
        md.contains("non-production (Preview – search-api-pr-812), not a cause"),
        "{md}"
    );
}
