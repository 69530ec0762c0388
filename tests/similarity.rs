//! Similar past incidents on a labelled history (`fixtures/history/`): precision@5 through the
//! HTTP API, by incident and for free-text questions, against a plain TF-IDF cosine baseline.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/history/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A plain TF-IDF cosine over the concatenated text: lower-case words, no stop words, no
/// stemming, no bigrams, no field weights.
struct Plain {
    docs: Vec<(String, HashMap<String, f64>)>,
    df: HashMap<String, f64>,
    n: f64,
}

fn words(t: &str) -> Vec<String> {
    t.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

impl Plain {
    fn new(records: &[Value]) -> Self {
        let texts: Vec<(String, Vec<String>)> = records
            .iter()
            .map(|r| {
                let t = ["title", "summary", "root_cause", "resolution"]
                    .iter()
                    .filter_map(|f| r[*f].as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                (r["id"].as_str().unwrap().to_string(), words(&t))
            })
            .collect();
        let n = texts.len() as f64;
        let mut df: HashMap<String, f64> = HashMap::new();
        for (_, w) in &texts {
            for t in w.iter().collect::<HashSet<_>>() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
        }
        let mut plain = Self {
            docs: Vec::new(),
            df,
            n,
        };
        plain.docs = texts
            .iter()
            .map(|(id, w)| (id.clone(), plain.vector(w)))
            .collect();
        plain
    }

    fn idf(&self, t: &str) -> f64 {
        ((1.0 + self.n) / (1.0 + self.df.get(t).copied().unwrap_or(0.0))).ln() + 1.0
    }

    fn vector(&self, w: &[String]) -> HashMap<String, f64> {
        let mut tf: HashMap<String, f64> = HashMap::new();
        for t in w {
            *tf.entry(t.clone()).or_default() += 1.0;
        }
        let mut v: HashMap<String, f64> = tf
            .into_iter()
            .map(|(t, c)| {
                let x = c * self.idf(&t);
                (t, x)
            })
            .collect();
        let norm = v.values().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        v.values_mut().for_each(|x| *x /= norm);
        v
    }

    fn top5(&self, q: &HashMap<String, f64>, exclude: Option<&str>) -> Vec<String> {
        let mut scored: Vec<(f64, &String)> = self
            .docs
            .iter()
            .filter(|(id, _)| Some(id.as_str()) != exclude)
            .map(|(id, v)| {
                (
                    q.iter().map(|(t, x)| x * v.get(t).unwrap_or(&0.0)).sum(),
                    id,
                )
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(5)
            .map(|(_, id)| id.clone())
            .collect()
    }
}

fn precision(hits: &[String], kind: &str, labels: &BTreeMap<String, String>) -> f64 {
    hits.iter().filter(|h| labels[*h] == kind).count() as f64 / 5.0
}

#[tokio::test]
async fn precision_at_5_on_the_labelled_history_beats_the_plain_baseline() {
    let app = spawn_app().await;
    let records = app.import_history().await;
    let labels: BTreeMap<String, String> = serde_json::from_str(&fixture("labels.json")).unwrap();
    let queries: Vec<Value> = serde_json::from_str(&fixture("queries.json")).unwrap();
    let plain = Plain::new(&records);

    let (mut ours, mut base) = (0.0, 0.0);
    for (id, kind) in &labels {
        let r = app
            .get_json(&format!("/api/incidents/{id}/similar?k=5"))
            .await;
        let hits = hit_ids(&r);
        assert_eq!(hits.len(), 5);
        assert!(!hits.contains(id));
        ours += precision(&hits, kind, &labels);
        let q = &plain.docs.iter().find(|(d, _)| d == id).unwrap().1;
        base += precision(&plain.top5(q, Some(id)), kind, &labels);
    }
    let n = labels.len() as f64;
    let (ours_inc, base_inc) = (ours / n, base / n);

    let (mut ours, mut base) = (0.0, 0.0);
    for q in &queries {
        let text = q["text"].as_str().unwrap();
        let kind = q["kind"].as_str().unwrap();
        let url = format!("/api/similar?k=5&q={}", urlencode(text));
        let r = app.get_json(&url).await;
        let hits = hit_ids(&r);
        let p = precision(&hits, kind, &labels);
        if p < 0.6 {
            eprintln!("weak query {text:?} ({kind}): {p}");
        }
        ours += p;
        base += precision(
            &plain.top5(&plain.vector(&words(text)), None),
            kind,
            &labels,
        );
    }
    let m = queries.len() as f64;
    let (ours_q, base_q) = (ours / m, base / m);
    eprintln!(
        "precision@5 by incident: {ours_inc:.3} (plain TF-IDF {base_inc:.3}); \
         free-text questions: {ours_q:.3} (plain TF-IDF {base_q:.3}); {} incidents, {} questions",
        labels.len(),
        queries.len()
    );
    assert!(
        ours_inc >= 0.95 && ours_inc > base_inc,
        "{ours_inc} vs {base_inc}"
    );
    assert!(ours_q >= 0.95 && ours_q > base_q, "{ours_q} vs {base_q}");
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn similar_answers_explain_why_and_what_fixed_it_and_reject_bad_input() {
    let app = spawn_app().await;
    app.import_history().await;
    let r = app.get_json("/api/incidents/H-0001/similar?k=3").await;
    let first = &r["similar"][0];
    for field in ["id", "title", "service", "score", "why", "fixed_by"] {
        assert!(!first[field].is_null(), "{field} in {first:#}");
    }
    assert!(
        first["why"][0].as_str().unwrap().starts_with("shares "),
        "{first:#}"
    );
    assert_eq!(r["similar"].as_array().unwrap().len(), 3);
    let scores: Vec<f64> = r["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // A single word that is an incident id means that incident.
    let by_id = app.get_json("/api/similar?q=H-0001&k=3").await;
    assert_eq!(by_id["similar"], r["similar"]);

    for (path, status) in [
        ("/api/incidents/NOPE-1/similar", StatusCode::NOT_FOUND),
        ("/api/incidents/H-0001/similar?k=0", StatusCode::BAD_REQUEST),
        (
            "/api/incidents/H-0001/similar?k=51",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/similar", StatusCode::BAD_REQUEST),
        ("/api/similar?q=%20%20", StatusCode::BAD_REQUEST),
        ("/api/similar?q=x&bogus=1", StatusCode::BAD_REQUEST),
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), status, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let r = app
        .http
        .get(format!("{}/api/similar?q=dns", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // An incident stored later is found without a restart (the index refreshes from the store).
    let line = r#"{"id": "LATE-1", "title": "TLS certificate expired on the api gateway", "service": "api-gateway", "triggered_at": "2026-11-01T10:00:00Z", "resolved_at": "2026-11-01T11:00:00Z", "root_cause": "The certificate expired because auto-renewal had failed silently", "resolution": "Renewed the certificate"}"#;
    let rec =
        postmortem::ingest::history::parse_record(line, &postmortem::config::Config::default())
            .unwrap();
    app.store.import_record(&rec).await.unwrap();
    let r = app
        .get_json("/api/similar?q=certificate%20expired%20renewal&k=5")
        .await;
    assert!(
        r["similar"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == "LATE-1"),
        "{r:#}"
    );
    app.stop().await;
}

/// A fake embeddings endpoint: each text's vector counts words of three "concepts", so texts that
/// share no word can still be close in meaning.
async fn fake_embeddings() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/v1/embeddings",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                assert_eq!(body["model"], "test-embed");
                let concepts: [&[&str]; 3] = [
                    &[
                        "tls",
                        "certificate",
                        "cert",
                        "x509",
                        "handshake",
                        "secure",
                        "negotiation",
                        "expired",
                    ],
                    &["disk", "volume", "space", "full", "inode"],
                    &["dns", "resolve", "resolution", "nxdomain", "lookup"],
                ];
                let data: Vec<Value> = body["input"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let text = t.as_str().unwrap().to_lowercase();
                        let mut v: Vec<f32> = concepts
                            .iter()
                            .map(|c| c.iter().filter(|w| text.contains(*w)).count() as f32)
                            .collect();
                        v.push(0.1);
                        serde_json::json!({"object": "embedding", "index": i, "embedding": v})
                    })
                    .collect();
                axum::Json(serde_json::json!({
                    "object": "list", "data": data, "model": "test-embed",
                    "usage": {"prompt_tokens": 10, "total_tokens": 10}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

#[tokio::test]
async fn embeddings_find_incidents_that_share_no_word_with_the_question() {
    let (url, calls) = fake_embeddings().await;
    let app = spawn_app_with(move |c| {
        c.embedding_model = Some("test-embed".into());
        c.openai_base_url = Some(url);
    })
    .await;
    let config = postmortem::config::Config::default();
    for line in [
        r#"{"id": "E-1", "title": "TLS certificate expired on the gateway", "service": "gateway", "triggered_at": "2026-05-01T10:00:00Z", "resolved_at": "2026-05-01T11:00:00Z", "root_cause": "x509 certificate not renewed"}"#,
        r#"{"id": "E-2", "title": "Handshake failures between services", "service": "mesh", "triggered_at": "2026-06-01T10:00:00Z", "resolved_at": "2026-06-01T11:00:00Z"}"#,
        r#"{"id": "E-3", "title": "Disk full on the logging volume", "service": "logs", "triggered_at": "2026-07-01T10:00:00Z", "resolved_at": "2026-07-01T11:00:00Z"}"#,
        r#"{"id": "E-4", "title": "NXDOMAIN for internal names", "service": "dns", "triggered_at": "2026-08-01T10:00:00Z", "resolved_at": "2026-08-01T11:00:00Z"}"#,
    ] {
        let r = postmortem::ingest::history::parse_record(line, &config).unwrap();
        app.store.import_record(&r).await.unwrap();
    }
    // The first query starts embedding the history in the background; wait for the vectors.
    let question = "/api/similar?q=secure%20negotiation%20broken&k=2";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let r = loop {
        let r = app.get_json(question).await;
        if r["similar"].as_array().is_some_and(|s| s.len() == 2) {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "{r:#}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let ids: Vec<&str> = r["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"E-1") && ids.contains(&"E-2"), "{r:#}");
    assert!(
        r["similar"][0]["why"]
            .to_string()
            .contains("close in meaning"),
        "{r:#}"
    );
    // Vectors are stored once: asking again embeds only the question.
    let before = calls.load(std::sync::atomic::Ordering::SeqCst);
    app.get_json(question).await;
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), before + 1);
    app.stop().await;
}

/// The incident ids of a `similar` answer, best first.
fn hit_ids(r: &Value) -> Vec<String> {
    r["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}
