//! Incident families over 100,000 incidents, and the monthly report over them.
//!
//! `cargo bench --bench families` prints:
//! - the whole pipeline (TF-IDF, randomised SVD, k chosen on a 2,000-incident sample, the
//!   refinement over every incident), with its time and memory;
//! - k-means alone on the reduced vectors with the settings scikit-learn is given (k, number of
//!   initialisations, iteration cap, tolerance, one thread), its time and inertia; the vectors and
//!   settings are written to `target/families-bench/` (`vectors.npy`, `meta.json`) for
//!   `python3 scripts/families_sklearn_bench.py target/families-bench` to run scikit-learn on the
//!   identical input;
//! - criterion's figures for the pipeline and for the report's computation.
//!
//! Run with `RAYON_NUM_THREADS=1` to hold linfa to one thread like scikit-learn.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use linfa_clustering::KMeansInit;
use ndarray::Array2;
use postmortem::domain::ActionItem;
use postmortem::domain::report::Month;
use postmortem::patterns::families::{self, Params};
use postmortem::patterns::report::{self, Inputs};
use postmortem::store::reports::ReportIncident;

#[path = "common/mod.rs"]
mod common;
use common::{Rng, history};

const N: usize = 100_000;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn inertia(x: &Array2<f32>, labels: &[usize], centroids: &Array2<f32>) -> f64 {
    x.rows()
        .into_iter()
        .zip(labels)
        .map(|(r, &c)| {
            let d = &r - &centroids.row(c);
            f64::from(d.dot(&d))
        })
        .sum()
}

/// The standard .npy v1.0 format: a header padded to 64 bytes, then little-endian f32 rows.
fn write_npy(path: &std::path::Path, x: &Array2<f32>) {
    let header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        x.nrows(),
        x.ncols()
    );
    let mut h = header.into_bytes();
    let total = 10 + h.len() + 1;
    h.extend(std::iter::repeat_n(
        b' ',
        total.next_multiple_of(64) - total,
    ));
    h.push(b'\n');
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(b"\x93NUMPY\x01\x00").unwrap();
    f.write_all(&(h.len() as u16).to_le_bytes()).unwrap();
    f.write_all(&h).unwrap();
    for v in x.iter() {
        f.write_all(&v.to_le_bytes()).unwrap();
    }
}

/// A report's inputs: the same history as incidents over ten months, with action items.
fn report_inputs(docs: &[postmortem::domain::SearchDoc]) -> Inputs {
    let mut rng = Rng(7);
    let start = Month::parse("2026-01").unwrap().start();
    let span = Month::parse("2026-11").unwrap().start() - start;
    let mut membership = HashMap::new();
    let mut families = BTreeMap::new();
    let incidents: Vec<ReportIncident> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let t = start + (i as i64 * span) / docs.len() as i64;
            let family = format!("F-{:04}", i % 12 + 1);
            families.insert(family.clone(), (family.clone(), Vec::new()));
            membership.insert(d.id.clone(), family);
            ReportIncident {
                id: d.id.clone(),
                title: d.title.clone(),
                service: format!("svc-{}", rng.below(40)),
                severity: Some(format!("sev{}", 1 + rng.below(5))),
                triggered_at: t,
                acknowledged_at: Some(t + 60_000 * (1 + rng.below(30) as i64)),
                resolved_at: Some(t + 60_000 * (10 + rng.below(600) as i64)),
                root_cause: d.root_cause.clone(),
                action_items: vec![ActionItem {
                    status: if rng.below(2) == 0 { "done" } else { "open" }.into(),
                    done_at: Some(t + 86_400_000 * 10),
                    ..ActionItem::new("Add an alert", vec![])
                }],
            }
        })
        .collect();
    let changes = (0..20_000)
        .map(|i| {
            (
                format!("svc-{}", i % 40),
                "deploy".to_string(),
                start + (i as i64 * span) / 20_000,
            )
        })
        .collect();
    Inputs {
        incidents,
        changes,
        membership,
        families,
    }
}

fn bench(c: &mut Criterion) {
    let docs = history(N);
    let params = Params::default();

    let started = Instant::now();
    let computed = families::compute(&docs, &[], 1, &params);
    println!(
        "families over {} incidents: k = {} in {:.2} s, peak RSS {:.0} MiB",
        computed.incidents,
        computed.k,
        started.elapsed().as_secs_f64(),
        rss_mib()
    );

    // k-means alone, on the vectors scikit-learn gets, with its settings.
    let (_, x) = families::vectors(&docs, &params);
    let k = computed.k.max(2);
    let (n_init, max_iter, tol) = (10usize, 300u64, 1e-4f32);
    let kparams = Params {
        max_iterations: max_iter,
        tolerance: tol,
        ..params.clone()
    };
    // linfa's own k-means++ seeding, then greedy k-means++ seeds (what the pipeline uses).
    let mut linfa_pp = (f64::INFINITY, f64::INFINITY);
    let mut best = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        let t = Instant::now();
        let (labels, centroids) =
            families::fit(x.view(), k, KMeansInit::KMeansPlusPlus, n_init, &kparams, 0).unwrap();
        let secs = t.elapsed().as_secs_f64();
        if secs < linfa_pp.0 {
            linfa_pp = (secs, inertia(&x, labels.as_slice().unwrap(), &centroids));
        }
        let t = Instant::now();
        let (_, _, greedy_inertia) = families::fit_best(x.view(), k, n_init, &kparams, 0).unwrap();
        let secs = t.elapsed().as_secs_f64();
        if secs < best.0 {
            best = (secs, greedy_inertia);
        }
    }
    // Our pipeline's way: k-means on the sample, one refinement over everything.
    let t = Instant::now();
    // 2,000 incidents spread over the history (4999 is prime to 100,000 and to the fixture's 480).
    let mut sample: Vec<usize> = (0..2000).map(|i| i * 4999 % x.nrows()).collect();
    sample.sort_unstable();
    let xs = x.select(ndarray::Axis(0), &sample);
    let (_, c0, _) = families::fit_best(xs.view(), k, n_init, &kparams, 0).unwrap();
    let (labels, centroids) =
        families::fit(x.view(), k, KMeansInit::Precomputed(c0), 1, &kparams, 0).unwrap();
    let sample_secs = t.elapsed().as_secs_f64();
    let sample_inertia = inertia(&x, labels.as_slice().unwrap(), &centroids);
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    println!(
        "k-means on {}×{} (k = {k}, n_init = {n_init}, max_iter = {max_iter}, tol = {tol}, rayon threads = {}): linfa with its k-means++ {:.2} s, inertia {:.2}; with greedy k-means++ {:.2} s, inertia {:.2}; sample-then-refine {:.2} s, inertia {:.2}",
        x.nrows(),
        x.ncols(),
        if threads == 0 {
            "all".to_string()
        } else {
            threads.to_string()
        },
        linfa_pp.0,
        linfa_pp.1,
        best.0,
        best.1,
        sample_secs,
        sample_inertia
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/families-bench");
    std::fs::create_dir_all(&dir).unwrap();
    write_npy(&dir.join("vectors.npy"), &x);
    std::fs::write(
        dir.join("meta.json"),
        serde_json::json!({
            "k": k, "n_init": n_init, "max_iter": max_iter, "tol": tol, "seed": 0,
            "threads": threads.max(1), "inertia": best.1, "seconds": best.0,
            "sample_then_refine_seconds": sample_secs, "sample_then_refine_inertia": sample_inertia,
            "linfa_plusplus_seconds": linfa_pp.0, "linfa_plusplus_inertia": linfa_pp.1,
        })
        .to_string(),
    )
    .unwrap();
    println!("wrote {}/vectors.npy and meta.json", dir.display());

    let inputs = report_inputs(&docs);
    let month = Month::parse("2026-10").unwrap();
    let mut group = c.benchmark_group("families");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("pipeline_100k", |b| {
        b.iter(|| families::compute(&docs, &[], 1, &params))
    });
    group.bench_function("report_compute_100k", |b| {
        b.iter(|| report::compute(&inputs, month, 24.0, "http://x", 0))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
