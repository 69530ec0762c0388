//! PagerDuty and change-event ingest through the real HTTP entry points.

mod common;

use common::*;
use postmortem::ingest::signature::sign_pagerduty;
use reqwest::StatusCode;
use serde_json::Value;

const REFERENCE_EVENTS: &[&str] = &[
    "incident_triggered",
    "incident_acknowledged",
    "incident_annotated",
    "incident_status_update_published",
    "incident_reopened",
    "incident_responder_added",
    "incident_resolved",
    "pagey_ping",
    "service_updated",
];

#[tokio::test]
async fn every_reference_body_is_accepted_signed_compact_and_pretty() {
    let app = spawn_app().await;
    for name in REFERENCE_EVENTS {
        let pretty = reference(&format!("pagerduty/webhooks/{name}.json"));
        let r = app.post_pagerduty(&pretty).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{name} pretty");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "accepted", "{name}");
        // The compact bytes of the same event are a different body but the same event id.
        let r = app.post_pagerduty(&compact(&pretty)).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{name} compact");
        assert_eq!(
            r.json::<Value>().await.unwrap()["status"],
            "duplicate",
            "{name}"
        );
    }
    let note = app.get_json("/api/incidents/Q3B15VLMF3ASBD/timeline").await;
    let texts: Vec<&str> = note["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Running KILL on long-running queries")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Investigating a P1 incident")),
        "status update text kept"
    );
    let inc = app.get_json("/api/incidents/PFQZPSY").await;
    assert_eq!(inc["service"], "pig208");
    assert_eq!(inc["severity"], "sev2");
    assert_eq!(inc["status"], "triggered");
}

#[tokio::test]
async fn a_body_signed_with_the_previous_secret_or_among_several_signatures_is_accepted() {
    let app = spawn_app().await;
    let body = reference("pagerduty/webhooks/incident_triggered.json");
    let old = sign_pagerduty(PD_OLD_SECRET, body.as_bytes());
    let r = app.post_pagerduty_signed(&body, Some(&old)).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let both = format!("v1=0000,{}", sign_pagerduty("unknown", body.as_bytes()));
    let r = app.post_pagerduty_signed(&body, Some(&both)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let rotating = format!(
        "{}, {}",
        sign_pagerduty("unknown", body.as_bytes()),
        sign_pagerduty(PD_SECRET, body.as_bytes())
    );
    let r = app.post_pagerduty_signed(&body, Some(&rotating)).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn tampered_or_unsigned_webhooks_are_rejected_with_401_and_stored_nowhere() {
    let app = spawn_app().await;
    let body = reference("pagerduty/webhooks/incident_triggered.json");
    let sig = sign_pagerduty(PD_SECRET, body.as_bytes());
    let tampered = body.replace("Test Incident 3", "Test Incident 4");
    let r = app.post_pagerduty_signed(&tampered, Some(&sig)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("X-PagerDuty-Signature")
    );
    let r = app.post_pagerduty_signed(&body, None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/incidents/PFQZPSY").await.status(),
        StatusCode::NOT_FOUND
    );
    let metrics = app.metrics_text().await;
    assert!(
        metrics
            .contains(r#"postmortem_webhooks_total{outcome="unauthorized",source="pagerduty"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn unset_webhook_secrets_answer_503_so_pagerduty_retries() {
    let app = spawn_app_with(|c| c.pagerduty_webhook_secrets.clear()).await;
    let body = reference("pagerduty/webhooks/incident_triggered.json");
    let r = app.post_pagerduty(&body).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("PAGERDUTY_WEBHOOK_SECRETS")
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_json_errors() {
    let app = spawn_app().await;
    for bad in [
        "not json",
        "{}",
        r#"{"event":{"id":"x","event_type":"incident.triggered","occurred_at":"yesterday","data":{}}}"#,
    ] {
        let r = app.post_pagerduty(bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"].is_string(), "{bad}");
    }
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let r = app.post_pagerduty(&big).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["detail"]["limit_bytes"], 1024 * 1024);
}

#[tokio::test]
async fn events_in_any_order_and_repeated_give_one_correct_incident() {
    let events = [
        pd_event(
            "E1",
            "incident.triggered",
            "PORDER1",
            "triggered",
            "2026-10-02T14:00:00Z",
        ),
        pd_event(
            "E2",
            "incident.acknowledged",
            "PORDER1",
            "acknowledged",
            "2026-10-02T14:05:00Z",
        ),
        pd_note("E3", "PORDER1", "2026-10-02T14:10:00Z", "Pool exhausted"),
        pd_event(
            "E4",
            "incident.resolved",
            "PORDER1",
            "resolved",
            "2026-10-02T14:30:00Z",
        ),
    ];
    let mut outcomes = Vec::new();
    for order in [[0, 1, 2, 3], [3, 2, 1, 0], [3, 0, 2, 1]] {
        let app = spawn_app().await;
        for i in order {
            assert_eq!(
                app.post_pagerduty(&events[i]).await.status(),
                StatusCode::ACCEPTED
            );
        }
        // Repeats, as PagerDuty's at-least-once delivery sends them.
        for e in &events {
            let r = app.post_pagerduty(e).await;
            assert_eq!(r.json::<Value>().await.unwrap()["status"], "duplicate");
        }
        let inc = app.get_json("/api/incidents/PORDER1").await;
        let tl = app.get_json("/api/incidents/PORDER1/timeline").await;
        assert_eq!(
            tl["timeline"].as_array().unwrap().len(),
            4,
            "each event once"
        );
        outcomes.push((inc, tl));
    }
    let (inc, _) = &outcomes[0];
    assert_eq!(inc["status"], "resolved");
    assert_eq!(inc["service"], "payments-api");
    assert_eq!(inc["triggered_at"], "2026-10-02T14:00:00Z");
    assert_eq!(inc["acknowledged_at"], "2026-10-02T14:05:00Z");
    assert_eq!(inc["resolved_at"], "2026-10-02T14:30:00Z");
    assert_eq!(inc["time_to_resolve_minutes"], 30.0);
    assert_eq!(inc["time_to_acknowledge_minutes"], 5.0);
    for o in &outcomes[1..] {
        assert_eq!(o, &outcomes[0], "delivery order changed the result");
    }
}

#[tokio::test]
async fn a_reopen_extends_the_incident_and_cancels_the_pending_draft() {
    let app = spawn_app_with(|c| c.draft_delay_secs = 3600).await;
    let id = "PREOPEN";
    for e in [
        pd_event(
            "R1",
            "incident.triggered",
            id,
            "triggered",
            "2026-10-02T10:00:00Z",
        ),
        pd_event(
            "R2",
            "incident.resolved",
            id,
            "resolved",
            "2026-10-02T10:20:00Z",
        ),
    ] {
        app.post_pagerduty(&e).await;
    }
    let jobs = app.get_json(&format!("/api/jobs?incident_id={id}")).await;
    assert_eq!(jobs["jobs"][0]["state"], "pending");
    app.post_pagerduty(&pd_event(
        "R3",
        "incident.reopened",
        id,
        "triggered",
        "2026-10-02T10:30:00Z",
    ))
    .await;
    let inc = app.get_json(&format!("/api/incidents/{id}")).await;
    assert_eq!(inc["status"], "triggered");
    assert!(inc["resolved_at"].is_null());
    let jobs = app.get_json(&format!("/api/jobs?incident_id={id}")).await;
    assert_eq!(jobs["jobs"][0]["state"], "cancelled");
    app.post_pagerduty(&pd_event(
        "R4",
        "incident.resolved",
        id,
        "resolved",
        "2026-10-02T11:00:00Z",
    ))
    .await;
    let inc = app.get_json(&format!("/api/incidents/{id}")).await;
    assert_eq!(inc["resolved_at"], "2026-10-02T11:00:00Z");
    assert_eq!(inc["time_to_resolve_minutes"], 60.0);
    let jobs = app
        .get_json(&format!("/api/jobs?incident_id={id}&state=pending"))
        .await;
    assert_eq!(
        jobs["jobs"].as_array().unwrap().len(),
        1,
        "the next resolution schedules a new draft"
    );
}

#[tokio::test]
async fn unknown_event_types_and_pings_get_a_2xx() {
    let app = spawn_app().await;
    let unknown = r#"{"event":{"id":"U1","event_type":"incident.conference_bridge.updated","resource_type":"incident","occurred_at":"2026-10-02T10:00:00Z","agent":null,"client":null,"data":{"incident":{"id":"PUNK1","type":"incident_reference"},"type":"conference_bridge"}}}"#;
    assert_eq!(
        app.post_pagerduty(unknown).await.status(),
        StatusCode::ACCEPTED
    );
    let future = r#"{"event":{"id":"U2","event_type":"widget.exploded","resource_type":"widget","occurred_at":"2026-10-02T10:00:00Z","data":{"type":"widget"}}}"#;
    assert_eq!(
        app.post_pagerduty(future).await.status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn change_events_of_both_formats_are_stored_idempotently() {
    let app = spawn_app().await;
    let ours = r#"{"id":"deploy-4821","service":"payments-api","kind":"config","summary":"Raise DB statement timeout 5s -> 30s","at":"2026-10-02T14:12:00Z","version":"v1.42.0"}"#;
    let r = app.post_changes(ours).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["evidence_ids"][0], "change:deploy-4821");
    assert_eq!(v["status"], "accepted");
    assert_eq!(
        app.post_changes(ours).await.json::<Value>().await.unwrap()["status"],
        "duplicate"
    );

    let reference: Value =
        serde_json::from_str(&reference("pagerduty/change_events.json")).unwrap();
    let pd = reference["example_request_go_pagerduty_exact_bytes"]
        .as_str()
        .unwrap();
    let r = app.post_changes(pd).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    let id = v["evidence_ids"][0].as_str().unwrap().to_string();
    assert!(id.starts_with("change:pd:"), "{id}");
    let docs = reference["example_request_docs"].to_string();
    let r = app.post_changes(&docs).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "+0000 timestamps are accepted"
    );
    let stored = app
        .store
        .change(id.trim_start_matches("change:"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.service, "test runner",
        "unmapped routing key falls back to the source"
    );
}

#[tokio::test]
async fn change_events_need_the_ingest_token_and_valid_fields() {
    let app = spawn_app().await;
    let r = app
        .http
        .post(format!("{}/webhooks/changes", app.base))
        .bearer_auth("wrong")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.post_changes(r#"{"id":"x","service":"s","kind":"rollout","summary":"s","at":"2026-10-02T14:12:00Z"}"#).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("kind"), "{e}");
    let r = app
        .post_changes(r#"{"routing_key":"k","payload":{"source":"ci"}}"#)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let closed = spawn_app_with(|c| c.ingest_token = None).await;
    assert_eq!(
        closed.post_changes("{}").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// Every incident event type PagerDuty documents (`fixtures/reference/pagerduty/docs/`, the
/// examples of PagerDuty's webhook documentation, one incident) is accepted and reads in the
/// timeline as what happened, never as its raw type name.
#[tokio::test]
async fn every_documented_pagerduty_event_type_reads_as_what_happened() {
    let app = spawn_app().await;
    let expected = [
        ("triggered", "Incident triggered: A little bump in the road"),
        ("acknowledged", "Acknowledged"),
        ("unacknowledged", "Acknowledgement timed out"),
        ("reassigned", "Reassigned to"),
        ("escalated", "Escalated to"),
        ("priority_updated", "Priority set to P1"),
        ("delegated", "Delegated to"),
        ("annotated", "I sure am glad we are using PagerDuty!"),
        (
            "status_update_published",
            "A fix for this incident is being developed",
        ),
        ("responder_added", "Responder Maeve asked to help"),
        ("responder_replied", "Responder Maeve joined"),
        (
            "conference_bridge_updated",
            "Conference bridge set: https://example.com, +1-555-555-5555",
        ),
        ("custom_field_values_updated", "environment = production"),
        ("incident_type_changed", "Incident type changed to major"),
        (
            "role_assigned",
            "Role Display Name assigned to User 1810194",
        ),
        (
            "task_created",
            "Task created: A thing that needs to be done (todo)",
        ),
        (
            "task_updated",
            "Task updated: A thing that needs to be done",
        ),
        (
            "task_completed",
            "Task completed: A thing that needs to be done (done)",
        ),
        (
            "action_invocation_created",
            "Automation action A Helpful Action: created",
        ),
        (
            "action_invocation_updated",
            "Automation action A Helpful Action",
        ),
        (
            "action_invocation_terminated",
            "Automation action A Helpful Action",
        ),
        (
            "workflow_started",
            "Incident workflow A Workflow Name started",
        ),
        (
            "workflow_completed",
            "Incident workflow A Workflow Name completed",
        ),
        ("service_updated", "Moved to service"),
        ("resolved", "Resolved"),
    ];
    let mut ids = Vec::new();
    for (name, _) in expected {
        let body = reference(&format!("pagerduty/docs/{name}.json"));
        let r = app.post_pagerduty(&body).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{name}");
        let v: Value = serde_json::from_str(&body).unwrap();
        ids.push(format!("pagerduty:{}", v["event"]["id"].as_str().unwrap()));
    }
    let tl = app.get_json("/api/incidents/PGR0VU2/timeline").await;
    let entries = tl["timeline"].as_array().unwrap();
    for ((name, want), id) in expected.iter().zip(&ids) {
        let e = entries
            .iter()
            .find(|e| e["evidence_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{name} ({id}) is not in the timeline: {tl:#}"));
        let text = e["text"].as_str().unwrap();
        assert!(text.contains(want), "{name}: {text:?} should say {want:?}");
        assert!(!text.contains("incident."), "{name}: {text:?}");
    }
    // The draft reads as prose: one status update is "a status update", not "1 status update(s)".
    app.wait_for_postmortem("PGR0VU2").await;
    let md = app
        .get("/api/incidents/PGR0VU2/postmortem?format=markdown")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        md.contains("Stakeholders were kept informed with a status update."),
        "{md}"
    );
    assert!(!md.contains("(s)"), "{md}");
}
