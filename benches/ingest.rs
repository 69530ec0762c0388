//! Signature check + parse of a PagerDuty webhook: the CPU work on the ingest hot path.

use criterion::{Criterion, criterion_group, criterion_main};
use postmortem::config::Config;
use postmortem::ingest::{pagerduty, signature};
use secrecy::SecretString;

fn bench(c: &mut Criterion) {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/pagerduty.jsonl"
    ))
    .unwrap();
    let line = body.split(|b| *b == b'\n').next().unwrap().to_vec();
    let secrets = vec![
        SecretString::from("old-secret"),
        SecretString::from("current-secret"),
    ];
    let header = signature::sign_pagerduty("current-secret", &line);
    let config = Config::default();
    c.bench_function("pagerduty_verify_and_parse", |b| {
        b.iter(|| {
            assert!(signature::verify_pagerduty(&secrets, Some(&header), &line));
            pagerduty::parse(&line, &config).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
