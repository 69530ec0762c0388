//! Redaction before anything leaves the process: personal data and secrets in the evidence are
//! replaced by stable placeholders (`[EMAIL_1]`, `[SLACK_TOKEN_2]`); the same value gets the same
//! placeholder throughout one prompt, so the model can still tell people and keys apart.

use std::collections::{BTreeMap, HashMap};

use regex::Regex;

/// One kind of sensitive text.
struct Rule {
    kind: String,
    re: Regex,
    /// The capture group that holds the sensitive part (0: the whole match).
    group: usize,
    /// A further check on the matched text (e.g. Luhn for card numbers).
    check: Option<fn(&str) -> bool>,
}

/// The compiled rules: built-in, then the configured patterns.
pub struct Redactor {
    rules: Vec<Rule>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// Built-in rules, most specific first: a token inside a URL or header is taken whole before the
/// looser e-mail and phone rules can see parts of it.
const BUILTIN: &[(&str, &str, usize)] = &[
    (
        "URL_PASSWORD",
        r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@",
        1,
    ),
    (
        "BEARER_TOKEN",
        r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{8,})",
        1,
    ),
    (
        "JWT",
        r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}",
        0,
    ),
    (
        "SLACK_TOKEN",
        r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{10,}",
        0,
    ),
    ("AWS_KEY", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", 0),
    (
        "GITHUB_TOKEN",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
        0,
    ),
    (
        "OPENAI_KEY",
        r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}",
        0,
    ),
    (
        "SECRET",
        r#"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token)\s*[:=]\s*["']?([^\s"',;]{4,})"#,
        1,
    ),
    (
        "EMAIL",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        0,
    ),
    ("CARD", r"\b[2-6](?:[ -]?\d){12,18}\b", 0),
    (
        "PHONE",
        r"(?:\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}\b|\(\d{3}\)\s?\d{3}[\s.-]\d{4}\b|\b\d{3}[.-]\d{3}[.-]\d{4}\b)",
        0,
    ),
];

impl Redactor {
    /// The built-in rules plus `patterns` (each a regular expression, redacted as `CUSTOM`).
    pub fn new(patterns: &[String]) -> Result<Self, regex::Error> {
        let mut rules = Vec::new();
        for (kind, re, group) in BUILTIN {
            rules.push(Rule {
                kind: (*kind).to_string(),
                re: Regex::new(re)?,
                group: *group,
                check: (*kind == "CARD").then_some(luhn as fn(&str) -> bool),
            });
        }
        for p in patterns {
            rules.push(Rule {
                kind: "CUSTOM".into(),
                re: Regex::new(p)?,
                group: 0,
                check: None,
            });
        }
        Ok(Self { rules })
    }

    /// A fresh session: placeholders are numbered per session.
    pub fn session(&self) -> Redaction<'_> {
        Redaction {
            redactor: self,
            by_value: HashMap::new(),
            originals: BTreeMap::new(),
            next: HashMap::new(),
            counts: BTreeMap::new(),
        }
    }
}

/// The redactions of one prompt: which placeholder stands for which value.
pub struct Redaction<'r> {
    redactor: &'r Redactor,
    by_value: HashMap<String, String>,
    originals: BTreeMap<String, String>,
    next: HashMap<String, usize>,
    counts: BTreeMap<String, u64>,
}

impl std::fmt::Debug for Redaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values.
        f.debug_struct("Redaction")
            .field("counts", &self.counts)
            .finish()
    }
}

impl Redaction<'_> {
    /// `text` with every sensitive value replaced by its placeholder.
    pub fn redact(&mut self, text: &str) -> String {
        let mut out = text.to_string();
        for rule in &self.redactor.rules {
            if !rule.re.is_match(&out) {
                continue;
            }
            let mut result = String::with_capacity(out.len());
            let mut last = 0;
            for caps in rule.re.captures_iter(&out) {
                let Some(m) = caps.get(rule.group) else {
                    continue;
                };
                // Placeholders from earlier rules are never redacted again.
                if m.as_str().starts_with('[') || rule.check.is_some_and(|c| !c(m.as_str())) {
                    continue;
                }
                result.push_str(&out[last..m.start()]);
                result.push_str(&self.placeholder(&rule.kind, m.as_str()));
                last = m.end();
            }
            result.push_str(&out[last..]);
            out = result;
        }
        out
    }

    fn placeholder(&mut self, kind: &str, value: &str) -> String {
        *self.counts.entry(kind.to_string()).or_default() += 1;
        if let Some(p) = self.by_value.get(value) {
            return p.clone();
        }
        let n = self.next.entry(kind.to_string()).or_insert(0);
        *n += 1;
        let p = format!("[{kind}_{n}]");
        self.by_value.insert(value.to_string(), p.clone());
        self.originals.insert(p.clone(), value.to_string());
        p
    }

    /// `text` with the placeholders put back.
    pub fn restore(&self, text: &str) -> String {
        if !text.contains('[') {
            return text.to_string();
        }
        let mut out = text.to_string();
        // Longest first, so `[EMAIL_12]` is not read as `[EMAIL_1]` + `2]`.
        let mut keys: Vec<&String> = self.originals.keys().collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        for k in keys {
            out = out.replace(k.as_str(), &self.originals[k]);
        }
        out
    }

    /// Redactions by kind (each occurrence counts).
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// The Luhn checksum, over the digits of `s` (spaces and dashes ignored).
fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> (String, BTreeMap<String, u64>) {
        let r = Redactor::new(&["ACME-[0-9]{6}".into()]).unwrap();
        let mut s = r.session();
        let out = s.redact(text);
        assert_eq!(s.restore(&out), text, "restore is exact");
        (out, s.counts().clone())
    }

    #[test]
    fn personal_data_and_secrets_are_replaced() {
        let cases = [
            ("mail dana@example.com now", "mail [EMAIL_1] now"),
            ("call +1 415 555 0134 asap", "call [PHONE_1] asap"),
            ("call (415) 555-0134", "call [PHONE_1]"),
            ("card 4111 1111 1111 1111 failed", "card [CARD_1] failed"),
            ("token xoxb-1234567890-abcdefghij", "token [SLACK_TOKEN_1]"),
            ("key AKIAIOSFODNN7EXAMPLE leaked", "key [AWS_KEY_1] leaked"),
            (
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789 in logs",
                "[GITHUB_TOKEN_1] in logs",
            ),
            ("sk-proj-abcdefghijklmnopqrstuvwx", "[OPENAI_KEY_1]"),
            (
                "Authorization: Bearer abc.def-ghi_jkl",
                "Authorization: Bearer [BEARER_TOKEN_1]",
            ),
            (
                "postgres://app:hunter2pass@db:5432/x",
                "postgres://app:[URL_PASSWORD_1]@db:5432/x",
            ),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abcdefghijk",
                "jwt [JWT_1]",
            ),
            ("password=Sup3rS3cret!", "password=[SECRET_1]"),
            (
                "customer ACME-123456 affected",
                "customer [CUSTOM_1] affected",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input).0, want, "{input}");
        }
    }

    #[test]
    fn ordinary_evidence_is_left_alone() {
        for text in [
            "Deploy v1.42.0 at 2026-10-02T14:12:00Z raised p99 to 4.2s",
            "card 4111 1111 1111 1112 is not a valid number",
            "error ratio 0.31 on 12 hosts, build 20261002141200",
            "rolled back deploy-4821",
        ] {
            let (out, counts) = redact(text);
            assert_eq!(out, text);
            assert!(counts.is_empty(), "{text}: {counts:?}");
        }
    }

    #[test]
    fn the_same_value_gets_the_same_placeholder() {
        let (out, counts) = redact("a@x.io wrote to b@x.io, then a@x.io again");
        assert_eq!(out, "[EMAIL_1] wrote to [EMAIL_2], then [EMAIL_1] again");
        assert_eq!(counts["EMAIL"], 3);
    }
}
