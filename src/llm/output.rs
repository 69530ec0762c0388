//! What the model is asked to write (a strict JSON schema generated from these types), and the
//! verifier that stands between its answer and the store: only ids that exist in the evidence stay
//! cited, a hypothesis left without a valid citation is marked unsupported, and everything the
//! evidence fixes (times, durations, the timeline, changes, anomalies) comes from the evidence
//! draft, never from the model.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;
#[cfg(test)]
use serde_json::Map;
use serde_json::Value;

use crate::domain::ActionItem;
use crate::domain::postmortem::{Finding, Hypothesis, HypothesisKind, Postmortem};

/// A statement and the evidence ids it rests on.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmFinding {
    pub text: String,
    pub evidence_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmHypothesis {
    /// What kind of cause: a change on the incident's service, a change upstream of it, an
    /// external provider, load, an expiry, infrastructure, or unknown (no cause stands out).
    #[serde(default)]
    pub kind: HypothesisKind,
    /// One sentence: what caused the incident and how (a change, or what the evidence says).
    pub hypothesis: String,
    /// 0 to 1.
    pub confidence: f64,
    pub evidence_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmActionItem {
    pub text: String,
    /// Only when the evidence names one.
    pub owner: Option<String>,
    pub evidence_ids: Vec<String>,
}

/// The postmortem's narrative, as the model writes it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmDraft {
    /// Two to four sentences: what happened, the impact, the most likely cause, the fix.
    pub summary: String,
    pub summary_evidence_ids: Vec<String>,
    /// Statements about customer and system impact.
    pub impact: Vec<LlmFinding>,
    /// Most likely first.
    pub root_cause_hypotheses: Vec<LlmHypothesis>,
    pub contributing_factors: Vec<LlmFinding>,
    pub what_went_well: Vec<LlmFinding>,
    pub what_went_poorly: Vec<LlmFinding>,
    pub action_items: Vec<LlmActionItem>,
}

/// The JSON schema of [`LlmDraft`] in the form OpenAI's strict structured output accepts: every
/// object closed (`additionalProperties: false`) with every property required (optional ones are
/// nullable), no `format`s, no meta keys.
pub fn strict_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(LlmDraft)).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut schema {
        m.remove("$schema");
        m.remove("title");
    }
    make_strict(&mut schema);
    schema
}

fn make_strict(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("format");
            m.remove("minimum");
            m.remove("maximum");
            if m.get("type").and_then(Value::as_str) == Some("object")
                || m.contains_key("properties")
            {
                let keys: Vec<Value> = m
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().map(Value::String).collect())
                    .unwrap_or_default();
                m.insert("required".into(), Value::Array(keys));
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, child) in m.iter_mut() {
                make_strict(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(make_strict),
        _ => {}
    }
}

/// What the verifier changed, for the draft's receipt.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Verification {
    /// Cited ids that do not exist in the evidence (removed).
    pub unknown_ids: BTreeSet<String>,
    /// Hypotheses left without a valid citation (kept, marked unsupported).
    pub unsupported: usize,
}

/// Merges the model's answer into the evidence draft, verifying every citation against `valid`.
pub fn verify_into(
    answer: LlmDraft,
    evidence: &Postmortem,
    valid: &BTreeSet<String>,
) -> (Postmortem, Verification) {
    let mut v = Verification::default();
    let mut keep = |ids: Vec<String>| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in ids {
            let id = id.trim().trim_matches(['[', ']', '`']).to_string();
            if valid.contains(&id) {
                if !out.contains(&id) {
                    out.push(id);
                }
            } else if !id.is_empty() {
                v.unknown_ids.insert(id);
            }
        }
        out
    };
    let findings = |list: Vec<LlmFinding>, keep: &mut dyn FnMut(Vec<String>) -> Vec<String>| {
        list.into_iter()
            .filter(|f| !f.text.trim().is_empty())
            .map(|f| Finding::new(f.text.trim(), keep(f.evidence_ids)))
            .collect::<Vec<_>>()
    };

    let mut doc = evidence.clone();
    doc.summary = answer.summary.trim().to_string();
    doc.summary_evidence_ids = keep(answer.summary_evidence_ids);
    doc.impact.statements = findings(answer.impact, &mut keep);
    doc.contributing_factors = findings(answer.contributing_factors, &mut keep);
    doc.what_went_well = findings(answer.what_went_well, &mut keep);
    doc.what_went_poorly = findings(answer.what_went_poorly, &mut keep);
    doc.action_items = answer
        .action_items
        .into_iter()
        .filter(|a| !a.text.trim().is_empty())
        .map(|a| ActionItem {
            owner: a.owner.filter(|o| !o.trim().is_empty()),
            ..ActionItem::new(a.text.trim(), keep(a.evidence_ids))
        })
        .collect();

    let mut hypotheses: Vec<Hypothesis> = answer
        .root_cause_hypotheses
        .into_iter()
        .filter(|h| !h.hypothesis.trim().is_empty())
        .map(|h| {
            let ids = keep(h.evidence_ids);
            Hypothesis {
                rank: 0,
                kind: h.kind,
                hypothesis: h.hypothesis.trim().to_string(),
                confidence: if h.confidence.is_finite() {
                    (h.confidence.clamp(0.0, 1.0) * 100.0).round() / 100.0
                } else {
                    0.0
                },
                supported: !ids.is_empty(),
                evidence_ids: ids,
                reasons: Vec::new(),
            }
        })
        .collect();
    // Supported ones first, in the model's order; unsupported ones after, shown apart.
    hypotheses.sort_by_key(|h| !h.supported);
    for (i, h) in hypotheses.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    v.unsupported = hypotheses.iter().filter(|h| !h.supported).count();
    doc.root_cause_hypotheses = hypotheses;
    (doc, v)
}

/// Parses the model's text as [`LlmDraft`], tolerating a Markdown code fence around it.
pub fn parse(text: &str) -> Result<LlmDraft, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .map(|r| r.trim_end().trim_end_matches("```"))
        .unwrap_or(t)
        .trim();
    serde_json::from_str::<LlmDraft>(t).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(v: &Value, f: &mut dyn FnMut(&Map<String, Value>)) {
        match v {
            Value::Object(m) => {
                f(m);
                m.values().for_each(|c| walk(c, f));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, f)),
            _ => {}
        }
    }

    #[test]
    fn the_schema_is_strict() {
        let s = strict_schema();
        let mut objects = 0;
        walk(&s, &mut |m| {
            if let Some(props) = m.get("properties").and_then(Value::as_object) {
                objects += 1;
                assert_eq!(m["additionalProperties"], Value::Bool(false));
                let req: BTreeSet<&str> = m["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                let keys: BTreeSet<&str> = props.keys().map(String::as_str).collect();
                assert_eq!(req, keys);
            }
            assert!(!m.contains_key("format"), "{m:?}");
        });
        assert!(objects >= 4, "{s}");
        // The owner stays optional by being nullable.
        let text = s.to_string();
        assert!(text.contains("\"null\""), "{text}");
    }

    #[test]
    fn fenced_json_parses() {
        let body = r#"{"summary":"s","summary_evidence_ids":[],"impact":[],"root_cause_hypotheses":[],
            "contributing_factors":[],"what_went_well":[],"what_went_poorly":[],"action_items":[]}"#;
        assert!(parse(&format!("```json\n{body}\n```")).is_ok());
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"summary":"s"}"#).is_err());
    }
}
