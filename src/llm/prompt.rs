//! The prompts: Tera templates users can edit (`prompts/`), versioned by a hash of their content,
//! filled with the evidence bundle and trimmed by priority to a token budget.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tera::{Context, Tera};

use crate::domain::TimelineEntry;
use crate::domain::fmt_time;
use crate::domain::postmortem::Postmortem;
use crate::evidence::{Bundle, is_human};

pub const SYSTEM: &str = "system.md.tera";
pub const USER: &str = "user.md.tera";

const BUILTIN: &[(&str, &str)] = &[
    (SYSTEM, include_str!("../../prompts/system.md.tera")),
    (USER, include_str!("../../prompts/user.md.tera")),
];

/// Longest text of one timeline item in a prompt, in characters.
const MAX_ITEM_CHARS: usize = 600;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("prompt {name}: {message}")]
    Invalid { name: String, message: String },
    #[error("cannot read prompt {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Loaded prompt templates and their version.
#[derive(Clone)]
pub struct Prompts {
    tera: Tera,
    version: String,
}

impl std::fmt::Debug for Prompts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompts")
            .field("version", &self.version)
            .finish()
    }
}

/// A rendered prompt, ready to send (after redaction).
#[derive(Debug, Clone)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    /// Timeline items left out to fit the budget.
    pub omitted: usize,
}

/// A rough token count: about four characters a token for English and JSON.
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

#[derive(Serialize)]
struct IncidentCtx {
    id: String,
    title: String,
    service: String,
    severity: Option<String>,
    triggered_at: String,
    acknowledged_at: Option<String>,
    resolved_at: Option<String>,
    impact_start: String,
}

#[derive(Serialize, Clone)]
struct TimelineCtx {
    evidence_id: String,
    at: String,
    source: String,
    author: Option<String>,
    text: String,
}

impl Prompts {
    /// The built-in prompts, each replaced by a file of the same name in `dir` when present.
    /// `label` is put before the content hash in the version (`v2-3f9a…`).
    pub fn load(dir: Option<&Path>, label: Option<&str>) -> Result<Self, PromptError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        let mut hasher = Sha256::new();
        for (name, builtin) in BUILTIN {
            let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => {
                    std::fs::read_to_string(&path).map_err(|source| PromptError::Read {
                        path: path.display().to_string(),
                        source,
                    })?
                }
                None => builtin.to_string(),
            };
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
            tera.add_raw_template(name, &text)
                .map_err(|e| PromptError::Invalid {
                    name: name.to_string(),
                    message: crate::render::error_chain(&e),
                })?;
        }
        let hash = hex::encode(&hasher.finalize()[..6]);
        let version = match label.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => format!("{l}-{hash}"),
            None => hash,
        };
        Ok(Self { tera, version })
    }

    /// The prompt version: a hash of the templates' content, after the optional label.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Renders the prompts for `bundle`, whose evidence draft is `evidence`. The timeline is
    /// trimmed by priority until the whole prompt fits `token_budget`.
    pub fn render(
        &self,
        bundle: &Bundle,
        evidence: &Postmortem,
        schema: &serde_json::Value,
        token_budget: usize,
    ) -> Result<Prompt, PromptError> {
        let mut sys = Context::new();
        sys.insert(
            "schema",
            &serde_json::to_string(schema).unwrap_or_else(|_| "{}".into()),
        );
        let system = self.render_one(SYSTEM, &sys)?;

        let inc = &bundle.incident;
        let mut ctx = Context::new();
        ctx.insert(
            "incident",
            &IncidentCtx {
                id: inc.id.clone(),
                title: inc.title.clone(),
                service: inc.service.clone(),
                severity: inc.severity.map(|s| s.to_string()),
                triggered_at: fmt_time(inc.triggered_at),
                acknowledged_at: inc.acknowledged_at.map(fmt_time),
                resolved_at: inc.resolved_at.map(fmt_time),
                impact_start: evidence.impact.start.clone(),
            },
        );
        ctx.insert("candidates", &evidence.root_cause_hypotheses);
        ctx.insert("changes", &evidence.changes);
        let anomalies: Vec<serde_json::Value> = evidence
            .anomalies
            .iter()
            .map(|a| serde_json::json!({"evidence_id": a.evidence_id, "text": a.text}))
            .collect();
        ctx.insert("anomalies", &anomalies);
        ctx.insert("metrics_missing", &evidence.metrics_missing);
        ctx.insert("similar", &evidence.similar_incidents);

        // The fixed part: everything but the timeline.
        ctx.insert("timeline", &Vec::<TimelineCtx>::new());
        ctx.insert("omitted", &0usize);
        let fixed = estimate_tokens(&system) + estimate_tokens(&self.render_one(USER, &ctx)?);

        let mentioned: Vec<String> = evidence
            .root_cause_hypotheses
            .iter()
            .flat_map(|h| h.evidence_ids.iter().cloned())
            .collect();
        let items: Vec<(u8, TimelineCtx)> = bundle
            .timeline
            .iter()
            .map(|e| (priority(e, &mentioned), timeline_ctx(e)))
            .collect();
        let (kept, omitted) = fit(items, token_budget.saturating_sub(fixed));
        ctx.insert("timeline", &kept);
        ctx.insert("omitted", &omitted);
        let user = self.render_one(USER, &ctx)?;
        Ok(Prompt {
            system,
            user,
            omitted,
        })
    }

    fn render_one(&self, name: &str, ctx: &Context) -> Result<String, PromptError> {
        self.tera
            .render(name, ctx)
            .map_err(|e| PromptError::Invalid {
                name: name.to_string(),
                message: crate::render::error_chain(&e),
            })
    }
}

fn timeline_ctx(e: &TimelineEntry) -> TimelineCtx {
    let text = e.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if text.chars().count() > MAX_ITEM_CHARS {
        format!("{}…", text.chars().take(MAX_ITEM_CHARS).collect::<String>())
    } else {
        text
    };
    TimelineCtx {
        evidence_id: e.evidence_id.clone(),
        at: fmt_time(e.at),
        source: e.source.clone(),
        author: e.author.clone(),
        text,
    }
}

/// 0 keeps first: the incident's own state changes and the messages the ranker relies on; then
/// responders' other messages; then everything else.
fn priority(e: &TimelineEntry, mentioned: &[String]) -> u8 {
    if mentioned.contains(&e.evidence_id)
        || matches!(e.kind.as_str(), "triggered" | "acknowledged" | "resolved")
    {
        0
    } else if is_human(&e.kind) {
        1
    } else {
        2
    }
}

/// Keeps the most important items that fit `budget` tokens (ties: earlier first), in time order.
fn fit(items: Vec<(u8, TimelineCtx)>, budget: usize) -> (Vec<TimelineCtx>, usize) {
    let cost = |t: &TimelineCtx| {
        estimate_tokens(&t.text) + estimate_tokens(&t.evidence_id) + 12 // at, source, punctuation
    };
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (items[i].0, i));
    let mut keep = vec![false; items.len()];
    let mut used = 0;
    for i in order {
        let c = cost(&items[i].1);
        if used + c <= budget {
            used += c;
            keep[i] = true;
        }
    }
    let omitted = keep.iter().filter(|k| !**k).count();
    let kept = items
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|((_, t), _)| t)
        .collect();
    (kept, omitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(p: u8, n: usize, len: usize) -> (u8, TimelineCtx) {
        (
            p,
            TimelineCtx {
                evidence_id: format!("slack:C1:{n}"),
                at: String::new(),
                source: "slack".into(),
                author: None,
                text: "x".repeat(len),
            },
        )
    }

    #[test]
    fn trimming_keeps_priority_then_time_order() {
        let items = vec![
            item(1, 0, 400),
            item(0, 1, 400),
            item(2, 2, 400),
            item(0, 3, 400),
        ];
        let (kept, omitted) = fit(items, 350);
        let ids: Vec<&str> = kept.iter().map(|t| t.evidence_id.as_str()).collect();
        assert_eq!(ids, ["slack:C1:0", "slack:C1:1", "slack:C1:3"]);
        assert_eq!(omitted, 1);
    }

    #[test]
    fn the_version_is_a_hash_of_the_content_with_an_optional_label() {
        let a = Prompts::load(None, None).unwrap();
        let b = Prompts::load(None, Some("v2")).unwrap();
        assert_eq!(a.version().len(), 12);
        assert_eq!(b.version(), format!("v2-{}", a.version()));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(USER), "edited {{ incident.id }}").unwrap();
        let c = Prompts::load(Some(dir.path()), None).unwrap();
        assert_ne!(c.version(), a.version());
    }
}
