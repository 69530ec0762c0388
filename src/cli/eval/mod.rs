//! `postmortem eval [DIR]`: scores the configured drafter on a golden set. `DIR/incidents.jsonl`
//! holds import records (with timelines and changes), `DIR/expected.json` maps each incident id
//! to the evidence ids of its true cause. The set is imported into a throw-away SQLite database
//! and every incident is drafted through the real drafter (the model when one is configured).
//!
//! Scores (see [`grade`] for how a cause that is not a change is judged):
//! - top-1: the first hypothesis names the true cause;
//! - top-3: the first three hypotheses together name it;
//! - graded: incident tools' 100 / 65 / 35 / 0 scale, averaged;
//! - calibration error: how far the first hypothesis's confidence is from how often it is right;
//! - the baseline "latest change on the service" graded alike in the same run;
//! - citation validity: of every id the drafter cited, the share that exists in the evidence
//!   (for a model, counted before the verifier removed the invented ones);
//! - section completeness: of the twelve sections of every draft, the share with content (a
//!   section that says what is missing counts; an empty one does not).

pub mod grade;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::config::Config;
use crate::domain::IncidentId;
use crate::domain::postmortem::Postmortem;
use crate::store::Store;

pub const SECTIONS: [&str; 12] = [
    "## Summary",
    "## Impact",
    "## Timeline",
    "## Detected anomalies",
    "## Changes before the incident",
    "## Root-cause hypotheses",
    "## Contributing factors",
    "## What went well",
    "## What went poorly",
    "## Action items",
    "## Similar past incidents",
    "## How this draft was made",
];

/// Minimum scores; under any of them, `eval` exits 1.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub top1: f64,
    pub top3: f64,
    pub citations: f64,
    pub completeness: f64,
}

#[derive(Debug, Serialize)]
pub struct CaseResult {
    pub incident_id: String,
    pub expected: grade::Expected,
    /// The first hypothesis's kind and the ids it cites.
    pub top_kind: String,
    pub top: Vec<String>,
    pub top1: bool,
    pub top3: bool,
    pub graded: u8,
    pub confidence: f64,
    /// The baseline's grade on this incident.
    pub baseline: grade::Grade,
    pub cited: usize,
    pub invalid_citations: usize,
    pub sections_filled: usize,
    pub drafter: String,
    /// The hypotheses, best first: kind, confidence, what it says and why it ranks there.
    pub hypotheses: Vec<Ranked>,
}

/// One hypothesis as the drafter ranked it.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub kind: String,
    pub confidence: f64,
    pub hypothesis: String,
    /// The evidence ids it cites.
    pub evidence_ids: Vec<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub drafter: String,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub incidents: usize,
    pub top1_accuracy: f64,
    pub top3_accuracy: f64,
    /// Mean of the 100 / 65 / 35 / 0 grades.
    pub graded_score: f64,
    /// Expected calibration error of the first hypothesis's confidence (10 bins).
    pub calibration_error: f64,
    /// Mean confidence of first hypotheses that were right, and of those that were wrong.
    pub confidence_right: f64,
    pub confidence_wrong: f64,
    /// "The latest change on the service", on the same incidents.
    pub baseline_top1_accuracy: f64,
    pub baseline_graded_score: f64,
    /// By expected kind: (incidents, top-1, baseline top-1).
    pub by_kind: BTreeMap<String, (usize, f64, f64)>,
    pub citation_validity: f64,
    pub section_completeness: f64,
    pub cases: Vec<CaseResult>,
}

impl Report {
    /// The scores under their thresholds, named.
    pub fn failures(&self, t: &Thresholds) -> Vec<String> {
        let mut out = Vec::new();
        for (name, v, min) in [
            ("top-1 accuracy", self.top1_accuracy, t.top1),
            ("top-3 accuracy", self.top3_accuracy, t.top3),
            ("citation validity", self.citation_validity, t.citations),
            (
                "section completeness",
                self.section_completeness,
                t.completeness,
            ),
        ] {
            if v + 1e-9 < min {
                out.push(format!("{name} {v:.3} is under {min:.3}"));
            }
        }
        out
    }

    /// Prints the table; with `explain`, each miss's first three hypotheses under it.
    pub fn print(&self, explain: bool) {
        println!(
            "{:<14} {:<6} {:<6} {:<10} {:<9} top hypothesis (expected)",
            "incident", "top-1", "top-3", "citations", "sections"
        );
        for c in &self.cases {
            let expected = if c.expected.culprits.is_empty() {
                c.expected.label().to_string()
            } else {
                c.expected.culprits.join(", ")
            };
            println!(
                "{:<14} {:<6} {:<6} {:<10} {:<9} {} {} ({expected})",
                c.incident_id,
                if c.top1 { "yes" } else { "no" },
                if c.top3 { "yes" } else { "no" },
                format!("{}/{}", c.cited - c.invalid_citations, c.cited),
                format!("{}/12", c.sections_filled),
                c.top_kind,
                c.top.first().map(String::as_str).unwrap_or(""),
            );
            if explain && !c.top1 {
                for (i, h) in c.hypotheses.iter().take(3).enumerate() {
                    println!(
                        "    {}. [{} {:.2}] {}",
                        i + 1,
                        h.kind,
                        h.confidence,
                        h.hypothesis
                    );
                    for r in &h.reasons {
                        println!("         - {r}");
                    }
                }
            }
        }
        println!();
        println!(
            "drafter {}{}{}",
            self.drafter,
            self.model
                .as_deref()
                .map(|m| format!(" · model {m}"))
                .unwrap_or_default(),
            self.prompt_version
                .as_deref()
                .map(|p| format!(" · prompt {p}"))
                .unwrap_or_default()
        );
        println!("incidents             {}", self.incidents);
        println!("top-1 accuracy        {:.3}", self.top1_accuracy);
        println!("top-3 accuracy        {:.3}", self.top3_accuracy);
        println!(
            "graded score          {:.1} (100 right cause, 65 one hop short, 35 right area)",
            self.graded_score
        );
        println!(
            "calibration error     {:.3} (confidence of right tops {:.2}, of wrong tops {:.2})",
            self.calibration_error, self.confidence_right, self.confidence_wrong
        );
        println!(
            "baseline              top-1 {:.3}, graded {:.1} (the latest change on the service)",
            self.baseline_top1_accuracy, self.baseline_graded_score
        );
        for (kind, (n, ours, base)) in &self.by_kind {
            println!("  {kind:<16} {n:>3} incidents  top-1 {ours:.3}  baseline {base:.3}");
        }
        println!("citation validity     {:.3}", self.citation_validity);
        println!("section completeness  {:.3}", self.section_completeness);
    }
}

/// The change-like ids a hypothesis cites (what the culprit is judged on).
fn culprits(ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter(|i| i.starts_with("change:") || i.starts_with("lineage:"))
        .cloned()
        .collect()
}

/// How many of the twelve sections have content, in a draft's Markdown.
pub fn sections_filled(markdown: &str) -> usize {
    let mut filled = 0;
    for (i, head) in SECTIONS.iter().enumerate() {
        let Some(start) = markdown.find(head) else {
            continue;
        };
        let body_start = start + head.len();
        let end = SECTIONS[i + 1..]
            .iter()
            .filter_map(|h| markdown[body_start..].find(h))
            .min()
            .map_or(markdown.len(), |e| body_start + e);
        if !markdown[body_start..end].trim().is_empty() {
            filled += 1;
        }
    }
    filled
}

/// Runs the golden set in `dir` through the drafter `config` describes.
pub async fn run(dir: &Path, mut config: Config) -> anyhow::Result<Report> {
    let incidents = dir.join("incidents.jsonl");
    let expected_path = dir.join("expected.json");
    let text = std::fs::read_to_string(&incidents)
        .with_context(|| format!("reading {}", incidents.display()))?;
    let expected = grade::parse_expected(
        &std::fs::read_to_string(&expected_path)
            .with_context(|| format!("reading {}", expected_path.display()))?,
    )
    .with_context(|| {
        format!(
            "{} is not {{\"id\": [\"change:<id>\", …] or {{\"kind\", \"culprits\"}}}}",
            expected_path.display()
        )
    })?;

    let tmp = tempfile::tempdir()?;
    config.database_url = format!("sqlite://{}", tmp.path().join("eval.db").display());
    let (config, store, _, _, drafter) = crate::app::startup::components(config).await?;
    let mut records = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record = crate::ingest::history::parse_record(line, &config)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", incidents.display(), n + 1))?;
        store.import_record(&record).await?;
        records.insert(record.id.to_string(), record);
    }

    let mut cases = Vec::new();
    let mut model = None;
    let mut prompt_version = None;
    for (id, want) in &expected {
        let iid = IncidentId::parse(id)?;
        let drafted = drafter
            .draft(&iid, true)
            .await
            .with_context(|| format!("drafting {id} (is it in incidents.jsonl?)"))?;
        let doc: &Postmortem = &drafted.postmortem;
        model = model.or(doc.header.model.clone());
        prompt_version = prompt_version.or(doc.header.prompt_version.clone());
        let record = records
            .get(id)
            .with_context(|| format!("{id} is not in incidents.jsonl"))?;
        cases.push(score(id, want, record, doc, &store).await?);
    }
    store.close().await;
    let drafter_name = if cases.iter().any(|c| c.drafter == "llm") {
        "llm".to_string()
    } else {
        drafter.drafter_name().to_string()
    };
    Ok(Report::of(cases, drafter_name, model, prompt_version))
}

impl Report {
    /// The report over graded cases: the shares, means and tables.
    fn of(
        cases: Vec<CaseResult>,
        drafter_name: String,
        model: Option<String>,
        prompt_version: Option<String>,
    ) -> Report {
        let n = cases.len().max(1) as f64;
        let cited: usize = cases.iter().map(|c| c.cited).sum();
        let invalid: usize = cases.iter().map(|c| c.invalid_citations).sum();
        let share =
            |f: &dyn Fn(&CaseResult) -> bool| cases.iter().filter(|c| f(c)).count() as f64 / n;
        let mean = |v: Vec<f64>| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let mut by_kind: BTreeMap<String, (usize, f64, f64)> = BTreeMap::new();
        for c in &cases {
            let e = by_kind.entry(c.expected.label().to_string()).or_default();
            e.0 += 1;
            e.1 += f64::from(u8::from(c.top1));
            e.2 += f64::from(u8::from(c.baseline.top1));
        }
        for v in by_kind.values_mut() {
            v.1 /= v.0 as f64;
            v.2 /= v.0 as f64;
        }
        let points: Vec<(f64, bool)> = cases.iter().map(|c| (c.confidence, c.top1)).collect();
        Report {
            graded_score: mean(cases.iter().map(|c| f64::from(c.graded)).collect()),
            calibration_error: grade::calibration_error(&points),
            confidence_right: mean(
                cases
                    .iter()
                    .filter(|c| c.top1)
                    .map(|c| c.confidence)
                    .collect(),
            ),
            confidence_wrong: mean(
                cases
                    .iter()
                    .filter(|c| !c.top1)
                    .map(|c| c.confidence)
                    .collect(),
            ),
            baseline_top1_accuracy: share(&|c| c.baseline.top1),
            baseline_graded_score: mean(
                cases.iter().map(|c| f64::from(c.baseline.graded)).collect(),
            ),
            by_kind,
            drafter: drafter_name,
            model,
            prompt_version,
            incidents: cases.len(),
            top1_accuracy: cases.iter().filter(|c| c.top1).count() as f64 / n,
            top3_accuracy: cases.iter().filter(|c| c.top3).count() as f64 / n,
            citation_validity: if cited == 0 {
                0.0
            } else {
                (cited - invalid) as f64 / cited as f64
            },
            section_completeness: cases.iter().map(|c| c.sections_filled).sum::<usize>() as f64
                / (n * SECTIONS.len() as f64),
            cases,
        }
    }
}

/// How one draft did against what caused it (see [`grade`]), the baseline beside it, and its
/// citations checked against the evidence the store holds.
async fn score(
    id: &str,
    want: &grade::Expected,
    record: &crate::domain::HistoryRecord,
    doc: &Postmortem,
    store: &Store,
) -> anyhow::Result<CaseResult> {
    let hyps: Vec<&crate::domain::postmortem::Hypothesis> = doc
        .root_cause_hypotheses
        .iter()
        .filter(|h| h.supported)
        .collect();
    let service_of = |evidence_id: &str| {
        doc.changes
            .iter()
            .find(|c| c.evidence_id == evidence_id)
            .map(|c| c.service.clone())
    };
    let g = grade::grade(&hyps, want, service_of);
    // Checked here against the stored evidence, not taken from the drafter's word.
    let mut valid: std::collections::BTreeSet<String> = store
        .timeline(&IncidentId::parse(id)?)
        .await?
        .into_iter()
        .map(|e| e.evidence_id)
        .collect();
    valid.extend(doc.timeline.iter().map(|e| e.evidence_id.clone()));
    valid.extend(doc.changes.iter().map(|c| c.evidence_id.clone()));
    valid.extend(doc.anomalies.iter().map(|a| a.evidence_id.clone()));
    let ids = citations(doc);
    let cited = ids.len();
    let invalid = ids.iter().filter(|i| !valid.contains(i.as_str())).count()
        + doc.provenance.removed_citations.len();
    Ok(CaseResult {
        incident_id: id.to_string(),
        expected: want.clone(),
        top_kind: hyps.first().map_or("-", |h| h.kind.as_str()).to_string(),
        top: hyps
            .first()
            .map(|h| culprits(&h.evidence_ids))
            .unwrap_or_default(),
        top1: g.top1,
        top3: g.top3,
        graded: g.graded,
        confidence: g.confidence,
        baseline: grade::grade_baseline(record, want),
        cited: cited + doc.provenance.removed_citations.len(),
        invalid_citations: invalid,
        sections_filled: sections_filled(&doc.markdown),
        drafter: doc.header.drafter.clone(),
        hypotheses: hyps
            .iter()
            .map(|h| Ranked {
                kind: h.kind.as_str().to_string(),
                confidence: h.confidence,
                hypothesis: h.hypothesis.clone(),
                evidence_ids: h.evidence_ids.clone(),
                reasons: h.reasons.clone(),
            })
            .collect(),
    })
}

fn citations(doc: &Postmortem) -> Vec<&String> {
    doc.summary_evidence_ids
        .iter()
        .chain(
            doc.impact
                .statements
                .iter()
                .chain(&doc.contributing_factors)
                .chain(&doc.what_went_well)
                .chain(&doc.what_went_poorly)
                .flat_map(|f| &f.evidence_ids),
        )
        .chain(
            doc.root_cause_hypotheses
                .iter()
                .flat_map(|h| &h.evidence_ids),
        )
        .chain(doc.action_items.iter().flat_map(|a| &a.evidence_ids))
        .collect()
}
