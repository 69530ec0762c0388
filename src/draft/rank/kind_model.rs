//! What kind of cause an incident's words read like, learned from labelled incidents: a
//! multinomial naive Bayes classifier over which words the incident's timeline uses (as
//! scikit-learn's `MultinomialNB` on binary counts). The rules in [`super::reading`] and [`super::changes`] find the candidates and score
//! them; this model's posterior, learned from the incidents bundled with the tool
//! (`fixtures/golden`: every kind of cause, written by a dozen hands), weighs each candidate's
//! kind beside them, so wording the rules have no word for still counts ([`super::rank`]).
//!
//! - Words: lower-cased runs of two or more ASCII letters between word boundaries ("v1.42" and
//!   "deploy-4821" give "deploy", not "v"), counted once per incident; a word is kept when at
//!   least [`MIN_INCIDENTS`] training incidents use it.
//! - Classes: the six kinds a cause can be (`change`, `upstream_change`, `external`, `load`,
//!   `expiry`, `infrastructure`); never `unknown`.
//! - P(word | kind) = (incidents of the kind using it + α) / (their word total + α · vocabulary);
//!   the prior is each kind's share of the training incidents; the posterior is normalised with
//!   log-sum-exp, since a whole incident's joint log-likelihood (−1,000 and below) underflows
//!   when exponentiated directly.
//!
//! Not linfa-bayes: its 0.8.1 `MultinomialNb` prints every fitted class to stderr (a `dbg!` left
//! in `fit`) and its `predict_proba` exponentiates the joint log-likelihood directly, so it
//! returns NaN for a text this long. The two lines of arithmetic are kept here instead.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::domain::postmortem::HypothesisKind;

/// Lidstone smoothing added to every word count.
pub const ALPHA: f64 = 0.5;
/// A word is in the vocabulary when at least this many training incidents use it.
pub const MIN_INCIDENTS: usize = 2;

/// The kinds a model can tell apart, in the order of [`KindModel`]'s class indices.
const CLASSES: [HypothesisKind; 6] = [
    HypothesisKind::Change,
    HypothesisKind::UpstreamChange,
    HypothesisKind::External,
    HypothesisKind::Load,
    HypothesisKind::Expiry,
    HypothesisKind::Infrastructure,
];

/// The bundled labelled incidents: import records, and the kind of each one's cause.
const INCIDENTS: &str = include_str!("../../../fixtures/golden/incidents.jsonl");
const EXPECTED: &str = include_str!("../../../fixtures/golden/expected.json");

/// A fitted classifier of an incident's text into the kind of its cause.
pub struct KindModel {
    /// ln P(word | kind), per word of the vocabulary, in [`CLASSES`] order.
    log_likelihood: HashMap<String, [f64; 6]>,
    /// ln P(kind); −∞ for a kind with no training incident.
    log_prior: [f64; 6],
}

/// P(kind | words) for each of the six kinds; sums to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posterior([f64; 6]);

impl Posterior {
    /// The probability of `kind`; `None` for `unknown`, which the model does not tell apart.
    pub fn of(&self, kind: HypothesisKind) -> Option<f64> {
        CLASSES.iter().position(|k| *k == kind).map(|i| self.0[i])
    }

    /// The most probable kind and its probability.
    #[cfg(test)]
    fn best(&self) -> (HypothesisKind, f64) {
        let i = (0..6).fold(0, |b, i| if self.0[i] > self.0[b] { i } else { b });
        (CLASSES[i], self.0[i])
    }
}

/// Why a model could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("no training incident uses a word that another one uses too")]
    NoVocabulary,
    #[error("training incident {0}: {1}")]
    Record(String, String),
}

impl KindModel {
    /// Fits a model on `(text, kind)` pairs, one per incident. `unknown` labels are skipped.
    pub fn fit<'t>(
        incidents: impl IntoIterator<Item = (&'t str, HypothesisKind)>,
    ) -> Result<KindModel, FitError> {
        let labelled: Vec<(BTreeSet<String>, usize)> = incidents
            .into_iter()
            .filter_map(|(text, kind)| {
                let class = CLASSES.iter().position(|k| *k == kind)?;
                Some((words(text), class))
            })
            .collect();
        let mut used_by: HashMap<&str, usize> = HashMap::new();
        for (ws, _) in &labelled {
            for w in ws {
                *used_by.entry(w.as_str()).or_default() += 1;
            }
        }
        // Per kept word, how many incidents of each kind use it.
        let mut counts: HashMap<String, [f64; 6]> = used_by
            .into_iter()
            .filter(|(_, n)| *n >= MIN_INCIDENTS)
            .map(|(w, _)| (w.to_string(), [0.0; 6]))
            .collect();
        if counts.is_empty() {
            return Err(FitError::NoVocabulary);
        }
        let mut incidents = [0.0f64; 6];
        for (ws, class) in &labelled {
            incidents[*class] += 1.0;
            for w in ws {
                if let Some(c) = counts.get_mut(w) {
                    c[*class] += 1.0;
                }
            }
        }
        let vocabulary = counts.len() as f64;
        let mut totals = [ALPHA * vocabulary; 6];
        for c in counts.values() {
            for (t, n) in totals.iter_mut().zip(c) {
                *t += n;
            }
        }
        let log_likelihood = counts
            .into_iter()
            .map(|(w, c)| {
                (
                    w,
                    std::array::from_fn(|k| ((c[k] + ALPHA) / totals[k]).ln()),
                )
            })
            .collect();
        let n: f64 = incidents.iter().sum();
        let log_prior = incidents.map(|m| (m / n).ln());
        Ok(KindModel {
            log_likelihood,
            log_prior,
        })
    }

    /// Fits a model on import records (one JSON object per line, with a `timeline` of `text`s)
    /// labelled by `expected` (incident id → `{"kind": …}`; a plain list of culprits means
    /// `change`): the format of `postmortem eval`'s sets.
    pub fn fit_records(incidents_jsonl: &str, expected_json: &str) -> Result<KindModel, FitError> {
        #[derive(Deserialize)]
        struct Entry {
            text: String,
        }
        #[derive(Deserialize)]
        struct Record {
            id: String,
            #[serde(default)]
            timeline: Vec<Entry>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Label {
            Kind { kind: HypothesisKind },
            Culprits(Vec<String>),
        }
        let labels: HashMap<String, Label> = serde_json::from_str(expected_json)
            .map_err(|e| FitError::Record("expected.json".into(), e.to_string()))?;
        let mut docs: Vec<(String, HypothesisKind)> = Vec::new();
        for (n, line) in incidents_jsonl.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r: Record = serde_json::from_str(line)
                .map_err(|e| FitError::Record(format!("line {}", n + 1), e.to_string()))?;
            let kind = match labels.get(&r.id) {
                Some(Label::Kind { kind }) => *kind,
                Some(Label::Culprits(c)) if !c.is_empty() => HypothesisKind::Change,
                _ => continue,
            };
            docs.push((text_of(r.timeline.iter().map(|e| e.text.as_str())), kind));
        }
        KindModel::fit(docs.iter().map(|(t, k)| (t.as_str(), *k)))
    }

    /// The model learned from the bundled labelled incidents, fitted once per process (some
    /// 30 ms); `None` (logged once) if they cannot be read, and ranking goes by its rules alone.
    pub fn bundled() -> Option<&'static KindModel> {
        static MODEL: OnceLock<Option<KindModel>> = OnceLock::new();
        MODEL
            .get_or_init(|| match KindModel::fit_records(INCIDENTS, EXPECTED) {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::error!(error = %e, "the cause-kind model could not be fitted; ranking uses its rules alone");
                    None
                }
            })
            .as_ref()
    }

    /// How many words the model knows.
    #[cfg(test)]
    fn vocabulary_len(&self) -> usize {
        self.log_likelihood.len()
    }

    /// P(kind | the words of `text`). A text with no known word gets the training set's prior.
    pub fn posterior(&self, text: &str) -> Posterior {
        let mut log = self.log_prior;
        for w in words(text) {
            if let Some(l) = self.log_likelihood.get(&w) {
                for (sum, x) in log.iter_mut().zip(l) {
                    *sum += x;
                }
            }
        }
        // Log-sum-exp: subtract the largest before exponentiating.
        let max = log.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut p = log.map(|l| (l - max).exp());
        let sum: f64 = p.iter().sum();
        for v in &mut p {
            *v /= sum;
        }
        Posterior(p)
    }
}

/// One incident's text for the model: its timeline's texts, joined.
pub fn text_of<'t>(texts: impl IntoIterator<Item = &'t str>) -> String {
    texts.into_iter().collect::<Vec<_>>().join("\n")
}

/// The distinct words of `text`: lower-cased runs of two or more ASCII letters that are whole
/// tokens (a token is a run of letters, digits and `_`).
pub fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(str::to_ascii_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_whole_alphabetic_tokens_once() {
        let w = words("Rolled back deploy-4821 (v1.42.0); cert_2 EXPIRED, expired again. a I");
        let got: Vec<&str> = w.iter().map(String::as_str).collect();
        assert_eq!(got, ["again", "back", "deploy", "expired", "rolled"]);
    }

    #[test]
    fn learns_the_words_of_each_kind() {
        let train = [
            (
                "the tls certificate expired overnight",
                HypothesisKind::Expiry,
            ),
            ("certificate expired, renewed it", HypothesisKind::Expiry),
            (
                "traffic surge from the campaign, scaled out",
                HypothesisKind::Load,
            ),
            ("campaign traffic doubled, scaled out", HypothesisKind::Load),
            (
                "the vendor status page shows an outage",
                HypothesisKind::External,
            ),
            (
                "vendor outage on their status page",
                HypothesisKind::External,
            ),
            (
                "rolled back our deploy and errors stopped",
                HypothesisKind::Change,
            ),
            ("rolled back the deploy, fixed", HypothesisKind::Change),
            (
                "their team rolled back their release upstream",
                HypothesisKind::UpstreamChange,
            ),
            (
                "upstream team rolled back their release",
                HypothesisKind::UpstreamChange,
            ),
            (
                "disk failed on the node, replaced hardware",
                HypothesisKind::Infrastructure,
            ),
            (
                "node hardware failed, disk replaced",
                HypothesisKind::Infrastructure,
            ),
            ("nothing known here", HypothesisKind::Unknown),
        ];
        let m = KindModel::fit(train.iter().map(|(t, k)| (*t, *k))).unwrap();
        let p = m.posterior("looks like the certificate expired");
        assert_eq!(p.best().0, HypothesisKind::Expiry, "{p:?}");
        assert!(p.best().1 > 0.5, "{p:?}");
        assert_eq!(
            m.posterior("a surge of campaign traffic").best().0,
            HypothesisKind::Load
        );
        assert_eq!(p.of(HypothesisKind::Unknown), None);
        let total: f64 = p.0.iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
        // No known word: the prior (two of each of the six kinds), never NaN.
        let prior = m.posterior("zzz qqq");
        assert!(
            prior.0.iter().all(|v| (v - 1.0 / 6.0).abs() < 1e-9),
            "{prior:?}"
        );
    }

    #[test]
    fn a_long_text_does_not_underflow() {
        let m = KindModel::bundled().expect("the bundled set fits");
        let long = "the certificate expired and was renewed ".repeat(400);
        let p = m.posterior(&long);
        assert!(p.0.iter().all(|v| v.is_finite()), "{p:?}");
        assert_eq!(p.best().0, HypothesisKind::Expiry);
    }

    #[test]
    fn the_bundled_model_is_fitted_from_every_labelled_incident() {
        let m = KindModel::bundled().expect("the bundled set fits");
        assert!(m.vocabulary_len() > 1000, "{}", m.vocabulary_len());
    }

    #[test]
    fn bad_records_are_named() {
        let e = KindModel::fit_records("{\"id\": 1}\n", "{}").err().unwrap();
        assert!(e.to_string().starts_with("training incident line 1"), "{e}");
    }
}
