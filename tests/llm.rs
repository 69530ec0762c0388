//! LLM drafting against an in-process OpenAI-compatible server: the production client
//! (async-openai) talks real HTTP to it, and every case checks what was sent, what was stored and
//! what /metrics says.

mod common;

use std::time::{Duration, Instant};

use common::openai::{FakeOpenAi, Reply, good_answer, user_prompt};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const EMAIL: &str = "dana.oncall@example.com";
const SLACK_TOKEN: &str = "xoxb-2948571036-ZyXwVuTsRqPoNmLk";
const CARD: &str = "4111 1111 1111 1111";

/// A resolved payments incident with a deploy before it and a note full of secrets.
async fn resolved_incident(app: &TestApp, id: &str) {
    let r = app
        .post_changes(
            &json!({"id": "deploy-77", "service": "payments-api", "kind": "deploy",
                "summary": "Raise DB statement timeout 5s -> 30s", "at": "2026-10-02T09:40:00Z",
                "version": "v1.42.0"})
            .to_string(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    for body in [
        pd_event(
            &format!("{id}-E1"),
            "incident.triggered",
            id,
            "triggered",
            "2026-10-02T10:00:00Z",
        ),
        pd_event(
            &format!("{id}-E2"),
            "incident.acknowledged",
            id,
            "acknowledged",
            "2026-10-02T10:03:00Z",
        ),
        pd_note(
            &format!("{id}-E3"),
            id,
            "2026-10-02T10:05:00Z",
            &format!(
                "Paged {EMAIL}. Token {SLACK_TOKEN} showed up in the logs; card {CARD} declined. \
                 Rolling back deploy-77."
            ),
        ),
        pd_event(
            &format!("{id}-E4"),
            "incident.resolved",
            id,
            "resolved",
            "2026-10-02T10:30:00Z",
        ),
    ] {
        assert_eq!(
            app.post_pagerduty(&body).await.status(),
            StatusCode::ACCEPTED
        );
    }
}

async fn llm_app(fake: &FakeOpenAi, timeout_secs: u64) -> TestApp {
    let base = fake.base_url.clone();
    spawn_app_with(move |c| {
        c.llm_model = Some("test-model".into());
        c.openai_base_url = Some(base);
        c.openai_api_key = Some("sk-test-key-0123456789abcdefghij".to_string().into());
        c.llm.timeout_secs = timeout_secs;
    })
    .await
}

/// Waits until /metrics shows `needle`.
async fn wait_for_metric(app: &TestApp, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let text = app.metrics_text().await;
        if text.contains(needle) {
            return text;
        }
        assert!(Instant::now() < deadline, "no {needle} in\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn current(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/incidents/{id}/postmortem"))
        .await
}

async fn revisions(app: &TestApp, id: &str) -> Vec<Value> {
    app.get_json(&format!("/api/incidents/{id}/postmortem/revisions"))
        .await["revisions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_valid_structured_answer_becomes_the_next_revision_with_its_receipt() {
    let fake = FakeOpenAi::start(|_, body| Reply::content(&good_answer(body, vec![]))).await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM1").await;
    let metrics = wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;

    // The evidence draft first, then the model's.
    let revs = revisions(&app, "PLLM1").await;
    let drafters: Vec<&str> = revs
        .iter()
        .map(|r| r["drafter"].as_str().unwrap())
        .collect();
    assert_eq!(drafters, ["evidence", "llm"], "{revs:#?}");

    let p = current(&app, "PLLM1").await;
    assert_eq!(p["drafter"], "llm");
    assert_eq!(p["model"], "test-model");
    assert_eq!(p["revision"], 2);
    let version = p["prompt_version"].as_str().unwrap();
    assert_eq!(version.len(), 12, "{version}");
    let prov = &p["provenance"];
    assert_eq!(prov["drafter"], "llm");
    assert!(
        prov["server_host"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(prov["response_format"], "json_schema");
    assert_eq!(prov["prompt_tokens"], 1200);
    assert_eq!(prov["completion_tokens"], 300);
    assert!(prov["redactions"].as_u64().unwrap() >= 3, "{prov}");
    let trace = p["trace_id"].as_str().unwrap();
    assert!(
        trace.len() == 32 && trace.chars().all(|c| c.is_ascii_hexdigit()),
        "{trace}"
    );
    assert_eq!(
        p["root_cause_hypotheses"][0]["evidence_ids"][0],
        "change:deploy-77"
    );
    assert_eq!(p["root_cause_hypotheses"][0]["supported"], true);
    // Times come from the evidence, not the model.
    assert_eq!(p["impact"]["time_to_resolve_minutes"], 30.0);
    let md = p["markdown"].as_str().unwrap();
    assert!(
        md.contains("**Drafter:** llm · **Model:** test-model"),
        "{md}"
    );
    assert!(md.contains(version));
    assert!(md.contains("pool ran out"));

    // What was sent: the model, strict structured output, and no secret from the note.
    let bodies = fake.bodies();
    assert_eq!(bodies.len(), 1);
    let sent = &bodies[0];
    assert_eq!(sent["model"], "test-model");
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(sent["response_format"]["json_schema"]["strict"], true);
    assert_eq!(
        sent["response_format"]["json_schema"]["schema"]["additionalProperties"],
        false
    );
    let text = sent.to_string();
    for secret in [EMAIL, SLACK_TOKEN, CARD, "sk-test-key"] {
        assert!(!text.contains(secret), "{secret} reached the model");
    }
    let prompt = user_prompt(sent);
    assert!(
        prompt.contains("[EMAIL_1]")
            && prompt.contains("[SLACK_TOKEN_1]")
            && prompt.contains("[CARD_1]"),
        "{prompt}"
    );
    assert!(prompt.contains("[change:deploy-77]"), "{prompt}");
    assert_eq!(
        fake.headers(0)["authorization"].to_str().unwrap(),
        "Bearer sk-test-key-0123456789abcdefghij"
    );

    for needle in [
        r#"postmortem_llm_tokens_total{model="test-model",role="prompt"} 1200"#,
        r#"postmortem_llm_tokens_total{model="test-model",role="completion"} 300"#,
        r#"postmortem_llm_requests_total{model="test-model",outcome="ok"} 1"#,
        r#"postmortem_redactions_total{kind="EMAIL"} 1"#,
        r#"postmortem_redactions_total{kind="SLACK_TOKEN"} 1"#,
        "postmortem_llm_latency_seconds_count",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
    // Unchanged evidence: an automatic redraft adds nothing.
    app.stop().await;
}

#[tokio::test]
async fn invented_evidence_is_removed_and_its_hypothesis_marked_unsupported() {
    let fake = FakeOpenAi::start(|_, body| {
        Reply::content(&good_answer(
            body,
            vec![
                json!({"hypothesis": "A DNS change broke name resolution.", "confidence": 0.7,
                       "evidence_ids": ["change:dns-4242"]}),
                json!({"hypothesis": "Traffic doubled.", "confidence": 0.4,
                       "evidence_ids": ["metric:invented_qps", "pagerduty:NOPE"]}),
            ],
        ))
    })
    .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM2").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;
    let p = current(&app, "PLLM2").await;
    let hyps = p["root_cause_hypotheses"].as_array().unwrap();
    assert_eq!(hyps.len(), 3);
    assert_eq!(hyps[0]["supported"], true);
    assert_eq!(hyps[0]["evidence_ids"], json!(["change:deploy-77"]));
    for h in &hyps[1..] {
        assert_eq!(h["supported"], false, "{h}");
        assert_eq!(h["evidence_ids"], json!([]), "{h}");
    }
    let removed = p["provenance"]["removed_citations"].as_array().unwrap();
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert_eq!(p["provenance"]["unsupported_hypotheses"], 2);
    let md = p["markdown"].as_str().unwrap();
    let unsupported = md
        .find("Not supported by the evidence")
        .expect("shown apart");
    assert!(md[unsupported..].contains("A DNS change broke name resolution"));
    assert!(!md.contains("dns-4242"));
    app.stop().await;
}

#[tokio::test]
async fn garbage_twice_leaves_the_evidence_draft_and_one_repair_fixes_it() {
    // Always garbage: one repair attempt, then the evidence draft stands.
    let fake =
        FakeOpenAi::start(|_, _| Reply::content("Sure! Here is your postmortem: it was DNS."))
            .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM3").await;
    let metrics = wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="fallback_invalid"} 1"#,
    )
    .await;
    assert!(
        metrics
            .contains(r#"postmortem_llm_requests_total{model="test-model",outcome="invalid"} 2"#),
        "{metrics}"
    );
    assert_eq!(fake.count(), 2);
    let repair = &fake.bodies()[1];
    let roles: Vec<&str> = repair["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    let p = current(&app, "PLLM3").await;
    assert_eq!(p["drafter"], "evidence");
    assert_eq!(revisions(&app, "PLLM3").await.len(), 1);
    // The evidence draft's receipt says why the model's draft is not there.
    let why = p["provenance"]["llm_fallback"].as_str().unwrap_or_default();
    assert!(why.contains("did not match the schema"), "{p:#}");
    assert!(
        p["markdown"]
            .as_str()
            .unwrap()
            .contains("The model's draft was not used"),
        "{}",
        p["markdown"]
    );
    app.stop().await;

    // Garbage once: the repair is used.
    let fake = FakeOpenAi::start(|n, body| {
        if n == 0 {
            Reply::content("{\"summary\": \"truncated")
        } else {
            Reply::content(&good_answer(body, vec![]))
        }
    })
    .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM4").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;
    let p = current(&app, "PLLM4").await;
    assert_eq!(p["drafter"], "llm");
    assert_eq!(p["provenance"]["llm_requests"], 2);
    assert_eq!(p["provenance"]["prompt_tokens"], 2400);
    app.stop().await;
}

#[tokio::test]
async fn rate_limits_are_retried_by_the_client_and_server_errors_fall_back() {
    // 429 once (Retry-After: 0), then an answer.
    let fake = FakeOpenAi::start(|n, body| {
        if n == 0 {
            Reply::error(429, "rate_limit_error", "Rate limit reached").header("retry-after", "0")
        } else {
            Reply::content(&good_answer(body, vec![]))
        }
    })
    .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM5").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;
    assert_eq!(fake.count(), 2, "one retry, not a second retry loop");
    assert_eq!(current(&app, "PLLM5").await["drafter"], "llm");
    app.stop().await;

    // 500 every time: async-openai's three retries, then the evidence draft stands.
    let fake = FakeOpenAi::start(|_, _| Reply::error(500, "server_error", "boom")).await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM6").await;
    let metrics = wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="fallback_server_error"} 1"#,
    )
    .await;
    assert!(
        metrics.contains(
            r#"postmortem_llm_requests_total{model="test-model",outcome="server_error"} 1"#
        ),
        "{metrics}"
    );
    assert_eq!(fake.count(), 4);
    let p = current(&app, "PLLM6").await;
    assert_eq!(p["drafter"], "evidence");
    assert_eq!(
        p["root_cause_hypotheses"][0]["evidence_ids"][0],
        "change:deploy-77"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_slow_or_absent_server_leaves_the_evidence_draft() {
    let fake = FakeOpenAi::start(|_, body| {
        Reply::content(&good_answer(body, vec![])).after(Duration::from_secs(4))
    })
    .await;
    let app = llm_app(&fake, 1).await;
    resolved_incident(&app, "PLLM7").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="fallback_timeout"} 1"#,
    )
    .await;
    assert_eq!(current(&app, "PLLM7").await["drafter"], "evidence");
    assert_eq!(fake.count(), 1, "a timeout is not retried");
    app.stop().await;

    // Nothing listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(move |c| {
        c.llm_model = Some("test-model".into());
        c.openai_base_url = Some(format!("http://127.0.0.1:{port}/v1"));
    })
    .await;
    resolved_incident(&app, "PLLM8").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="fallback_unreachable"} 1"#,
    )
    .await;
    assert_eq!(current(&app, "PLLM8").await["drafter"], "evidence");
    app.stop().await;
}

#[tokio::test]
async fn a_hung_model_delays_no_evidence_draft_and_each_receipt_says_it_failed() {
    // The model never answers within the client's timeout.
    let fake = FakeOpenAi::start(|_, body| {
        Reply::content(&good_answer(body, vec![])).after(Duration::from_secs(60))
    })
    .await;
    let app = llm_app(&fake, 4).await;
    let ids = ["PHUNG1", "PHUNG2", "PHUNG3"];
    for id in ids {
        resolved_incident(&app, id).await;
    }
    // Every evidence draft is stored before the first model call has even timed out: drafts are
    // not queued behind the model (one at a time, the second would wait out the first timeout).
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let mut drafted = 0;
        for id in ids {
            let r = app.get(&format!("/api/incidents/{id}/postmortem")).await;
            if r.status() == StatusCode::OK {
                drafted += 1;
            }
        }
        if drafted == ids.len() {
            break;
        }
        assert!(Instant::now() < deadline, "only {drafted} drafts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = app.metrics_text().await;
    assert!(!metrics.contains("fallback_timeout"), "{metrics}");
    for id in ids {
        assert_eq!(current(&app, id).await["drafter"], "evidence");
    }
    // Then the model calls time out, side by side, and each receipt says so.
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="fallback_timeout"} 3"#,
    )
    .await;
    for id in ids {
        let p = current(&app, id).await;
        assert_eq!(p["drafter"], "evidence");
        let why = p["provenance"]["llm_fallback"].as_str().unwrap_or_default();
        assert!(why.contains("did not answer within"), "{p:#}");
    }
    assert_eq!(fake.count(), 3, "one call per incident, none retried");
    app.stop().await;
}

#[tokio::test]
async fn servers_without_json_schema_get_json_object_then_a_tool_call() {
    // Rejects json_schema; answers json_object.
    let fake = FakeOpenAi::start(|_, body| match body["response_format"]["type"].as_str() {
        Some("json_schema") => Reply::error(
            400,
            "invalid_request_error",
            "response_format json_schema is not supported",
        ),
        _ => Reply::content(&good_answer(body, vec![])),
    })
    .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM9").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;
    let bodies = fake.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["response_format"]["type"], "json_object");
    let p = current(&app, "PLLM9").await;
    assert_eq!(p["provenance"]["response_format"], "json_object");
    app.stop().await;

    // Rejects any response_format; answers a forced tool call.
    let fake = FakeOpenAi::start(|_, body| {
        if body.get("response_format").is_some_and(|f| !f.is_null()) {
            Reply::error(
                400,
                "invalid_request_error",
                "unsupported parameter: response_format",
            )
        } else {
            assert_eq!(body["tool_choice"]["function"]["name"], "write_postmortem");
            assert_eq!(body["tools"][0]["function"]["strict"], true);
            Reply::tool_call(&good_answer(body, vec![]))
        }
    })
    .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM10").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;
    assert_eq!(fake.count(), 3);
    let p = current(&app, "PLLM10").await;
    assert_eq!(p["drafter"], "llm");
    assert_eq!(p["provenance"]["response_format"], "tool_call");
    app.stop().await;
}

/// llama.cpp's Python server (llama-cpp-python 0.3) refuses `json_schema` with a 500 whose body
/// names `response_format`; a server that also refuses tools gets the schema in the prompt alone.
/// Each is remembered: the next draft (here a redraft) asks the accepted way first.
#[tokio::test]
async fn a_refusal_sent_as_a_500_falls_back_and_is_remembered_down_to_the_prompt_alone() {
    const LLAMA_500: &str = "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', \
        'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", \
        'input': 'json_schema'}";
    let fake = FakeOpenAi::start(|_, body| match body["response_format"]["type"].as_str() {
        Some("json_schema") => Reply::error(500, "internal_server_error", LLAMA_500),
        _ => Reply::content(&good_answer(body, vec![])),
    })
    .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM11").await;
    let metrics = wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;
    assert!(
        metrics.contains(
            r#"postmortem_llm_requests_total{model="test-model",outcome="format_refused"} 1"#
        ),
        "{metrics}"
    );
    let p = current(&app, "PLLM11").await;
    assert_eq!(p["drafter"], "llm");
    assert_eq!(p["provenance"]["response_format"], "json_object");
    let asked = fake.count();
    assert!(app.request_redraft("PLLM11").await.status().is_success());
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 2"#,
    )
    .await;
    let bodies = fake.bodies();
    assert_eq!(bodies.len(), asked + 1, "the second draft asks once");
    assert_eq!(bodies[asked]["response_format"]["type"], "json_object");
    app.stop().await;

    // Refuses response_format and tools alike: the schema in the system prompt is all.
    let fake = FakeOpenAi::start(|_, body| {
        if body.get("response_format").is_some_and(|f| !f.is_null()) {
            Reply::error(
                422,
                "invalid_request_error",
                "response_format is not supported",
            )
        } else if body.get("tools").is_some_and(|t| !t.is_null()) {
            Reply::error(400, "invalid_request_error", "tools are not supported")
        } else {
            let system = body["messages"][0]["content"].as_str().unwrap_or_default();
            assert!(system.contains("root_cause_hypotheses"), "{system}");
            Reply::content(&good_answer(body, vec![]))
        }
    })
    .await;
    let app = llm_app(&fake, 30).await;
    resolved_incident(&app, "PLLM13").await;
    wait_for_metric(
        &app,
        r#"postmortem_drafts_total{drafter="llm",outcome="ok"} 1"#,
    )
    .await;
    assert_eq!(fake.count(), 4);
    let p = current(&app, "PLLM13").await;
    assert_eq!(p["provenance"]["response_format"], "prompt");
    app.stop().await;
}

/// The real llama.cpp Python server (llama-cpp-python 0.3 from `POSTMORTEM_TEST_LLAMA_PYTHON`,
/// the SmolLM2 model from `POSTMORTEM_TEST_LLAMA_MODEL`; `.ci/run` installs both): it refuses
/// `json_schema`, the client falls back to `json_object` and the server drafts. A model of 135M
/// parameters may not fill the schema: then its answer, not the server, is why the evidence
/// draft stands.
#[tokio::test]
async fn a_real_llama_cpp_server_without_json_schema_is_asked_with_json_object() {
    let (Some(python), Some(model)) = (
        std::env::var_os("POSTMORTEM_TEST_LLAMA_PYTHON"),
        std::env::var_os("POSTMORTEM_TEST_LLAMA_MODEL"),
    ) else {
        skipped("POSTMORTEM_TEST_LLAMA_PYTHON and POSTMORTEM_TEST_LLAMA_MODEL are not set");
        return;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // The server's log, shown when the test fails.
    let server_log = tempfile::NamedTempFile::new().unwrap();
    let log = || {
        let text = std::fs::read_to_string(server_log.path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    let _server = tokio::process::Command::new(python)
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--n_ctx", "8192", "--model_alias", "smollm2"])
        .stdout(std::process::Stdio::null())
        .stderr(server_log.reopen().unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("starting llama_cpp.server");
    let base = format!("http://127.0.0.1:{port}/v1");
    postmortem::app::startup::install_crypto_provider();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !http
        .get(format!("{base}/models"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            Instant::now() < deadline,
            "llama_cpp.server did not start:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let app = spawn_app_with(move |c| {
        c.llm_model = Some("smollm2".into());
        c.openai_base_url = Some(base);
        c.llm.timeout_secs = 300;
        c.llm.max_output_tokens = 400;
        c.llm.token_budget = 4_000;
    })
    .await;
    resolved_incident(&app, "PLLAMA1").await;
    let deadline = Instant::now() + Duration::from_secs(600);
    let metrics = loop {
        let text = app.metrics_text().await;
        if text.contains(r#"postmortem_drafts_total{drafter="llm""#) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no LLM draft outcome in\n{text}\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        metrics.contains(
            r#"postmortem_llm_requests_total{model="smollm2",outcome="format_refused"} 1"#
        ),
        "json_schema was refused once: {metrics}\n{}",
        log()
    );
    assert!(
        metrics.contains(r#"postmortem_llm_requests_total{model="smollm2",outcome="ok"}"#),
        "the server answered json_object: {metrics}"
    );
    let p = current(&app, "PLLAMA1").await;
    eprintln!(
        "llama.cpp: drafter {}, response_format {}, fallback {}",
        p["drafter"], p["provenance"]["response_format"], p["provenance"]["llm_fallback"]
    );
    match p["drafter"].as_str() {
        Some("llm") => assert_eq!(p["provenance"]["response_format"], "json_object"),
        _ => {
            let why = p["provenance"]["llm_fallback"].as_str().unwrap_or_default();
            assert!(why.contains("did not match the schema"), "{p:#}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn each_draft_emits_openlineage_start_and_complete_that_validate() {
    use std::sync::{Arc, Mutex};
    let events: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = events.clone();
    let router = axum::Router::new().route(
        "/api/v1/lineage",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(v);
                StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let fake = FakeOpenAi::start(|_, body| Reply::content(&good_answer(body, vec![]))).await;
    let base = fake.base_url.clone();
    let app = spawn_app_with(move |c| {
        c.llm_model = Some("test-model".into());
        c.openai_base_url = Some(base);
        c.openlineage_url = Some(url);
    })
    .await;
    resolved_incident(&app, "PLLM11").await;
    // Two runs: the evidence draft, then the model's draft over it.
    wait_for_metric(
        &app,
        r#"postmortem_openlineage_events_total{outcome="ok"} 4"#,
    )
    .await;

    let schema: Value =
        serde_json::from_str(include_str!("../src/ingest/OpenLineage.json")).unwrap();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let all = events.lock().unwrap().clone();
    assert_eq!(all.len(), 4);
    for e in &all {
        let errors: Vec<String> = validator.iter_errors(e).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{e:#}");
    }
    assert_eq!(all[1]["eventType"], "COMPLETE");
    assert_eq!(
        all[1]["run"]["facets"]["postmortem_draft"]["drafter"],
        "evidence"
    );
    let events = &all[2..];
    assert_eq!(events[0]["eventType"], "START");
    assert_eq!(events[1]["eventType"], "COMPLETE");
    assert_eq!(events[0]["run"]["runId"], events[1]["run"]["runId"]);
    assert_eq!(events[1]["job"]["name"], "postmortem.drafter");
    let facet = &events[1]["run"]["facets"]["postmortem_draft"];
    assert_eq!(facet["model"], "test-model");
    assert_eq!(facet["drafter"], "llm");
    let p = current(&app, "PLLM11").await;
    assert_eq!(facet["promptVersion"], p["prompt_version"]);
    assert_eq!(events[1]["outputs"][0]["name"], "postmortems/PLLM11");
    assert_eq!(
        events[1]["outputs"][0]["facets"]["version"]["datasetVersion"],
        "2"
    );
    assert!(
        events[1]["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "incidents/PLLM11")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_demo_with_a_local_model_drafts_with_it_and_exports_the_draft_spans() {
    use std::sync::{Arc, Mutex};
    // An OTLP/HTTP collector that keeps every body it receives.
    let bodies: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = bodies.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let fake = FakeOpenAi::start(|_, body| Reply::content(&good_answer(body, vec![]))).await;

    let base = fake.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_postmortem"))
            .arg("demo")
            .env_remove("DATABASE_URL")
            .env("POSTMORTEM_LLM_MODEL", "test-model")
            .env("OPENAI_BASE_URL", base)
            .env("OPENAI_API_KEY", "sk-demo-0123456789abcdefghijkl")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("**Drafter:** llm · **Model:** test-model · **Prompt version:** "),
        "{stdout}"
    );
    assert!(stdout.contains("drafted by the llm drafter"), "{stdout}");
    // Every demo incident was sent to the model, and no secret went with it.
    assert!(fake.count() >= 5, "{}", fake.count());
    let trace = stdout
        .lines()
        .find_map(|l| l.strip_prefix("- **Trace id:** `"))
        .and_then(|l| l.split('`').next())
        .expect("a trace id line")
        .to_string();
    let exported = bodies.lock().unwrap().join("\n");
    assert!(
        exported.to_lowercase().contains(&trace.to_lowercase()),
        "trace {trace} not among the exported spans: {}",
        &exported[..exported.len().min(2000)]
    );
    assert!(exported.contains("\"draft\""), "the draft span is exported");
}
