//! Similar-incident search over 100,000 incidents: top-10 latency (by incident and by free text)
//! and the index's memory. The history is the labelled fixture, varied into 100,000 incidents with
//! shuffled, dropped and invented words so the vocabulary and postings grow like a real history's.
//!
//! `cargo bench --bench similar` prints criterion's figures, then p50/p99 over 2,000 queries of
//! each kind and the index's size.

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use postmortem::patterns::similar::index::Index;

#[path = "common/mod.rs"]
mod common;
use common::{Rng, history};

const N: usize = 100_000;

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((p * v.len() as f64).ceil() as usize)
        .saturating_sub(1)
        .min(v.len() - 1)]
}

fn bench(c: &mut Criterion) {
    let docs = history(N);
    let before = rss_bytes();
    let started = Instant::now();
    let mut index = Index::default();
    for d in docs {
        index.upsert(d);
    }
    index.prepare();
    let build = started.elapsed();
    let after = rss_bytes();
    println!(
        "indexed {} incidents in {:.2} s; index ≈ {:.0} MiB (its own count), RSS +{:.0} MiB",
        index.len(),
        build.as_secs_f64(),
        index.heap_bytes() as f64 / 1048576.0,
        after.saturating_sub(before) as f64 / 1048576.0
    );

    let questions = [
        "db connections maxed out after deploy",
        "certificate expired on the gateway",
        "consumers lagging behind, backlog growing",
        "pods OOMKilled, memory climbing",
        "disk full on the log volume",
        "payment provider returning 503",
    ];
    let mut rng = Rng(42);
    let mut by_incident = Vec::new();
    let mut by_text = Vec::new();
    for i in 0..2000 {
        let slot = rng.below(N) as u32;
        let t = Instant::now();
        let q = index.doc_query(slot);
        std::hint::black_box(index.top_k(&q, 10, Some(slot), &|_| true));
        by_incident.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let q = index.text_query(questions[i % questions.len()]);
        std::hint::black_box(index.top_k(&q, 10, None, &|_| true));
        by_text.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "top-10 by incident: p50 {:.2} ms, p99 {:.2} ms; by free text: p50 {:.2} ms, p99 {:.2} ms (2,000 queries each)",
        percentile(by_incident.clone(), 0.5),
        percentile(by_incident, 0.99),
        percentile(by_text.clone(), 0.5),
        percentile(by_text, 0.99)
    );

    let mut n = 0u32;
    c.bench_function("similar_top10_by_incident_100k", |b| {
        b.iter(|| {
            n = (n + 7919) % N as u32;
            let q = index.doc_query(n);
            index.top_k(&q, 10, Some(n), &|_| true)
        })
    });
    let mut i = 0;
    c.bench_function("similar_top10_by_text_100k", |b| {
        b.iter(|| {
            i = (i + 1) % questions.len();
            let q = index.text_query(questions[i]);
            index.top_k(&q, 10, None, &|_| true)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench
}
criterion_main!(benches);
