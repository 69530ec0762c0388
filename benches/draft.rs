//! Drafting one incident with 5,000 timeline events (goal: under 100 ms), rendering included.

use criterion::{Criterion, criterion_group, criterion_main};
use postmortem::config::DraftingConfig;
use postmortem::domain::Change;
use postmortem::domain::{ChangeKind, IncidentId};
use postmortem::domain::{Incident, TimelineEntry, merge};
use postmortem::domain::{IncidentEvent, IncidentSnapshot};
use postmortem::draft::evidence_drafter;
use postmortem::evidence::Bundle;
use postmortem::render::Templates;

const T0: i64 = 1_800_000_000_000;

fn bundle(events: usize) -> Bundle {
    let id = IncidentId::parse("PBENCH1").unwrap();
    let snap = |status| IncidentSnapshot {
        urgency: Some("high".into()),
        number: Some(1),
        ..IncidentSnapshot::new(
            "payments-api: checkout error rate above 5%",
            "payments-api",
            status,
        )
    };
    let mut incident: Option<Incident> = None;
    for (kind, at, status) in [
        ("triggered", T0, postmortem::domain::Status::Triggered),
        (
            "acknowledged",
            T0 + 300_000,
            postmortem::domain::Status::Acknowledged,
        ),
        (
            "resolved",
            T0 + 3_600_000,
            postmortem::domain::Status::Resolved,
        ),
    ] {
        let ev = IncidentEvent {
            event_id: kind.into(),
            event_type: format!("incident.{kind}"),
            occurred_at: at,
            incident_id: id.clone(),
            agent: None,
            snapshot: Some(snap(status)),
            text: kind.into(),
            kind: kind.into(),
        };
        let inc = incident.get_or_insert_with(|| postmortem_bench_incident(&id, at));
        merge(inc, &ev);
    }
    let timeline = (0..events)
        .map(|i| TimelineEntry {
            incident_id: id.to_string(),
            evidence_id: format!("slack:C1:{}.{:06}", 1_800_000_000 + i, i),
            at: T0 + (i as i64 * 3_600_000 / events as i64),
            source: "slack".into(),
            kind: if i % 10 == 0 { "note".into() } else { "message".into() },
            author: Some(format!("user{}", i % 17)),
            text: format!(
                "message {i}: checking the pool, {} connections busy, latency p99 {} ms; maybe deploy-{} is involved",
                i % 100,
                200 + i % 900,
                i % 50
            ),
            thread: None,
            raw: None,
        })
        .collect();
    let changes = (0..50)
        .map(|i| Change {
            version: Some(format!("v1.{i}.0")),
            ..Change::new(
                format!("deploy-{i}"),
                if i % 3 == 0 { "ledger" } else { "payments-api" },
                ChangeKind::ALL[i % 8],
                format!("Change number {i} to the connection pool settings"),
                T0 - (i as i64 + 1) * 600_000,
            )
        })
        .collect();
    Bundle {
        incident: incident.unwrap(),
        timeline,
        changes,
        lookback_hours: 24.0,
        metrics: vec![],
        detected: vec![],
        metrics_missing: vec![],
        missing: vec![],
        depends_on: vec![],
    }
}

fn postmortem_bench_incident(id: &IncidentId, at: i64) -> Incident {
    postmortem::domain::Incident::new_for(id, at)
}

fn bench(c: &mut Criterion) {
    let b = bundle(5_000);
    let templates = Templates::load(None).unwrap();
    let cfg = DraftingConfig::default();
    c.bench_function("draft_5000_events", |bench| {
        bench.iter(|| {
            let mut doc = evidence_drafter::draft(&b, &cfg, b.incident.triggered_at);
            doc.markdown = templates.markdown(&doc).unwrap();
            doc
        })
    });
}

/// The same, split: ranking and sections alone, and the Markdown rendering alone.
fn parts(c: &mut Criterion) {
    let b = bundle(5_000);
    let templates = Templates::load(None).unwrap();
    let cfg = DraftingConfig::default();
    c.bench_function("draft_5000_events_sections_only", |bench| {
        bench.iter(|| evidence_drafter::draft(&b, &cfg, b.incident.triggered_at))
    });
    let doc = evidence_drafter::draft(&b, &cfg, b.incident.triggered_at);
    c.bench_function("draft_5000_events_render_only", |bench| {
        bench.iter(|| templates.markdown(&doc).unwrap())
    });
    c.bench_function("draft_5000_events_evidence_hash", |bench| {
        bench.iter(|| b.hash())
    });
}

criterion_group!(benches, bench, parts);
criterion_main!(benches);
