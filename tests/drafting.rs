//! Drafting through the real entry points: webhooks in, postmortem out.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

use postmortem::cli::eval::SECTIONS;

fn top_cause(p: &Value) -> String {
    p["root_cause_hypotheses"][0]["evidence_ids"][0]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn the_demo_incidents_rank_their_true_causes_above_every_decoy() {
    let app = spawn_app().await;
    app.replay_demo().await;
    for (id, cause) in [
        ("PPAY42X", "change:deploy-4821"),
        ("PFEE7Q1", "lineage:7e929185-ee70-589c-a0a1-902799ee4499"),
        ("PSRCH3K", "change:flag-912"),
        ("PAUTH9M", "change:mig-0057"),
    ] {
        let p = app.wait_for_postmortem(id).await;
        // Drafts follow late notes: wait until the draft reflects every note.
        let mut p = p;
        for _ in 0..100 {
            if top_cause(&p) == cause {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            p = app
                .get_json(&format!("/api/incidents/{id}/postmortem"))
                .await;
        }
        assert_eq!(
            top_cause(&p),
            cause,
            "{id}: {:#}",
            p["root_cause_hypotheses"]
        );
        let ids: Vec<&str> = p["root_cause_hypotheses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["evidence_ids"][0].as_str().unwrap())
            .collect();
        assert!(
            !ids.contains(&"change:flag-311"),
            "changes after the trigger are not causes"
        );
    }
}

#[tokio::test]
async fn every_citation_in_a_draft_points_at_evidence_that_exists() {
    let app = spawn_app().await;
    app.replay_demo().await;
    let p = app.wait_for_postmortem("PPAY42X").await;
    let timeline = app.get_json("/api/incidents/PPAY42X/timeline").await;
    let mut known: std::collections::BTreeSet<String> = timeline["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["evidence_id"].as_str().unwrap().to_string())
        .collect();
    // Other services' changes may be cited too: they exist in the change store.
    for c in serde_json::from_str::<Vec<Value>>(postmortem::cli::demo::CHANGE_EVENTS).unwrap() {
        known.insert(format!("change:{}", c["id"].as_str().unwrap()));
    }
    let mut cited = Vec::new();
    for section in [
        "contributing_factors",
        "what_went_well",
        "what_went_poorly",
        "action_items",
        "root_cause_hypotheses",
    ] {
        for item in p[section].as_array().unwrap() {
            for id in item["evidence_ids"].as_array().unwrap() {
                cited.push(id.as_str().unwrap().to_string());
            }
        }
    }
    assert!(cited.len() > 5);
    for id in cited {
        assert!(known.contains(&id), "cited {id} does not exist");
    }
    for h in p["root_cause_hypotheses"].as_array().unwrap() {
        assert_eq!(h["supported"], true);
        let c = h["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
    }
    assert_eq!(p["drafter"], "evidence");
    assert!(p["evidence_hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(p["trace_id"].as_str().unwrap().len(), 32);
}

#[tokio::test]
async fn the_postmortem_comes_as_json_markdown_and_html_with_every_section_in_order() {
    let app = spawn_app().await;
    app.replay_demo().await;
    app.wait_for_postmortem("PPAY42X").await;
    let md = app
        .get("/api/incidents/PPAY42X/postmortem?format=markdown")
        .await
        .text()
        .await
        .unwrap();
    let mut last = 0;
    for s in SECTIONS {
        let at = md.find(s).unwrap_or_else(|| panic!("missing {s}"));
        assert!(at >= last, "{s} out of order");
        last = at;
    }
    assert_eq!(
        app.get("/api/incidents/PPAY42X/postmortem?format=md")
            .await
            .text()
            .await
            .unwrap(),
        md
    );
    let r = app
        .get("/api/incidents/PPAY42X/postmortem?format=html")
        .await;
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let html = r.text().await.unwrap();
    assert!(html.contains("<h2 id=\"hypotheses\">Root-cause hypotheses</h2>"));
    assert!(html.contains("change:deploy-4821"));
    assert_eq!(
        app.get("/api/incidents/PPAY42X/postmortem?format=pdf")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/incidents/PNONE/postmortem").await.status(),
        StatusCode::NOT_FOUND
    );
    // Missing evidence is said, not skipped.
    assert!(md.contains("No metrics were connected"), "{md}");
}

#[tokio::test]
async fn a_requested_redraft_adds_a_revision_and_reports_its_job() {
    let app = spawn_app().await;
    app.replay_demo().await;
    let first = app.wait_for_postmortem("PSRCH3K").await;
    let rev = first["revision"].as_i64().unwrap();
    let r = app.request_redraft("PSRCH3K").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job_id = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        let job = app.get_json(&format!("/api/jobs/{job_id}")).await;
        if job["state"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let job = app.get_json(&format!("/api/jobs/{job_id}")).await;
    assert_eq!(job["state"], "done");
    let revisions = app
        .get_json("/api/incidents/PSRCH3K/postmortem/revisions")
        .await;
    let revs = revisions["revisions"].as_array().unwrap();
    assert_eq!(
        revs.last().unwrap()["revision"].as_i64().unwrap(),
        rev + 1,
        "a new revision"
    );
    assert_eq!(revs.len() as i64, rev + 1, "earlier revisions are kept");
    let r = app.request_redraft("PNOPE").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_incident_with_no_changes_or_notes_says_what_evidence_is_missing() {
    let app = spawn_app().await;
    app.post_pagerduty(&pd_event(
        "B1",
        "incident.triggered",
        "PBARE1",
        "triggered",
        "2026-10-02T10:00:00Z",
    ))
    .await;
    app.post_pagerduty(&pd_event(
        "B2",
        "incident.resolved",
        "PBARE1",
        "resolved",
        "2026-10-02T11:30:00Z",
    ))
    .await;
    let p = app.wait_for_postmortem("PBARE1").await;
    // "No cause stands out" is the answer, and says so; nothing is blamed.
    let hyps = p["root_cause_hypotheses"].as_array().unwrap();
    assert_eq!(hyps.len(), 1, "{hyps:?}");
    assert_eq!(hyps[0]["kind"], "unknown");
    assert!(hyps[0]["confidence"].as_f64().unwrap() < 0.5);
    let md = p["markdown"].as_str().unwrap();
    assert!(
        md.contains("No change was recorded on payments-api"),
        "{md}"
    );
    assert!(md.contains("Nobody acknowledged the page"), "{md}");
    assert!(md.contains("over the 60-minute target"), "{md}");
    let missing = p["missing_evidence"].to_string();
    assert!(
        missing.contains("No change events were recorded"),
        "{missing}"
    );
}

#[tokio::test]
async fn a_draft_lists_similar_past_incidents_from_the_search_with_why() {
    let app = spawn_app().await;
    app.replay_demo().await;
    let p = app.wait_for_postmortem("PPAY42X").await;
    let similar = p["similar_incidents"].as_array().unwrap();
    let past = similar
        .iter()
        .find(|s| s["id"] == "PPAY17B")
        .unwrap_or_else(|| panic!("{similar:#?}"));
    assert!(
        past["why"][0].as_str().unwrap().starts_with("shares "),
        "{past}"
    );
    assert!(
        past["why"]
            .to_string()
            .contains("same service (payments-api)"),
        "{past}"
    );
    let md = p["markdown"].as_str().unwrap();
    assert!(md.contains("- PPAY17B: "), "{md}");
}

#[tokio::test]
async fn an_incident_merged_into_another_gets_no_draft_and_its_evidence_joins_the_survivor() {
    let app = spawn_app().await;
    // As PagerDuty sends a merge: the child resolves with a `merge_resolve_reason`.
    let merged = {
        let mut v: serde_json::Value = serde_json::from_str(&pd_event(
            "M3",
            "incident.resolved",
            "PCHILD1",
            "resolved",
            "2026-10-02T14:06:00Z",
        ))
        .unwrap();
        v["event"]["data"]["resolve_reason"] = serde_json::json!({
            "type": "merge_resolve_reason",
            "incident": {"id": "PPARENT1", "type": "incident_reference"}
        });
        v.to_string()
    };
    for body in [
        pd_event(
            "M1",
            "incident.triggered",
            "PPARENT1",
            "triggered",
            "2026-10-02T14:00:00Z",
        ),
        pd_event(
            "M2",
            "incident.triggered",
            "PCHILD1",
            "triggered",
            "2026-10-02T14:02:00Z",
        ),
        pd_note(
            "M2N",
            "PCHILD1",
            "2026-10-02T14:03:00Z",
            "replica lag on the child's shard too",
        ),
        merged,
        pd_event(
            "M4",
            "incident.resolved",
            "PPARENT1",
            "resolved",
            "2026-10-02T14:40:00Z",
        ),
    ] {
        assert_eq!(
            app.post_pagerduty(&body).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let survivor = app.wait_for_postmortem("PPARENT1").await;
    let child = app.get_json("/api/incidents/PCHILD1").await;
    assert_eq!(child["merged_into"], "PPARENT1");
    assert!(child["time_to_resolve_minutes"].is_null(), "{child:#}");
    let tl = app.get_json("/api/incidents/PCHILD1/timeline").await;
    assert!(
        tl.to_string().contains("Resolved: merged into PPARENT1"),
        "{tl:#}"
    );
    // The child's note is evidence of the survivor's draft; the child has none of its own.
    assert!(
        survivor.to_string().contains("pagerduty:M2N"),
        "{survivor:#}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.get("/api/incidents/PCHILD1/postmortem").await.status(),
        StatusCode::NOT_FOUND
    );
}
