//! The binary itself: the demo, CLI errors, and a SIGKILL under load losing nothing acknowledged.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use postmortem::ingest::signature::sign_pagerduty;
use reqwest::StatusCode;
use tokio::sync::Mutex;

const BIN: &str = env!("CARGO_BIN_EXE_postmortem");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &str, port: u16) -> Child {
    Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db)
        .env("POSTMORTEM_LISTEN", format!("127.0.0.1:{port}"))
        .env("PAGERDUTY_WEBHOOK_SECRETS", PD_SECRET)
        .env("POSTMORTEM_API_TOKEN", API_TOKEN)
        .env("POSTMORTEM_DRAFT_DELAY_SECS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts")
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} never became healthy");
}

#[tokio::test]
async fn a_sigkill_under_load_loses_no_acknowledged_event_and_pending_drafts_complete() {
    let (db, _dir) = fresh_database().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut server = serve(&db, port);
    wait_healthy(&http, &base).await;

    let acked = Arc::new(Mutex::new(Vec::<(String, String, bool)>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for w in 0..4 {
        let (http, base, acked, count) = (http.clone(), base.clone(), acked.clone(), count.clone());
        senders.push(tokio::spawn(async move {
            for i in 0..100 {
                let inc = format!("PK{w}X{i}");
                for (kind, status, minute) in
                    [("triggered", "triggered", 10), ("resolved", "resolved", 40)]
                {
                    let eid = format!("{inc}-{kind}");
                    let body = pd_event(
                        &eid,
                        &format!("incident.{kind}"),
                        &inc,
                        status,
                        &format!("2026-10-02T10:{minute}:00Z"),
                    );
                    let sent = http
                        .post(format!("{base}/webhooks/pagerduty"))
                        .header(
                            "x-pagerduty-signature",
                            sign_pagerduty(PD_SECRET, body.as_bytes()),
                        )
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::ACCEPTED => {
                            acked
                                .lock()
                                .await
                                .push((inc.clone(), eid, kind == "resolved"));
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => return, // the server is gone
                    }
                }
            }
        }));
    }
    while count.load(Ordering::SeqCst) < 150 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
    server.wait().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    assert!(acked.len() >= 150);
    let restarted = Instant::now();

    let mut server = serve(&db, port);
    wait_healthy(&http, &base).await;
    let get = |path: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}{path}"))
                .bearer_auth(API_TOKEN)
                .send()
                .await
                .unwrap()
        }
    };
    for (inc, eid, _) in &acked {
        let r = get(format!("/api/incidents/{inc}/timeline")).await;
        assert_eq!(r.status(), StatusCode::OK, "{inc} lost");
        let tl: serde_json::Value = r.json().await.unwrap();
        let wanted = format!("pagerduty:{eid}");
        assert!(
            tl["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["evidence_id"] == wanted.as_str()),
            "acknowledged {wanted} lost"
        );
    }
    eprintln!(
        "SIGKILL: {} webhooks acknowledged before the kill, all present after the restart",
        acked.len()
    );
    // Every acknowledged resolution had a draft scheduled; they complete after the restart.
    let deadline = Instant::now() + Duration::from_secs(60);
    for (inc, _, resolved) in acked.iter().filter(|a| a.2) {
        assert!(*resolved);
        loop {
            if get(format!("/api/incidents/{inc}/postmortem"))
                .await
                .status()
                == StatusCode::OK
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the draft of {inc} never completed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    eprintln!(
        "SIGKILL: {} pending drafts completed {:.1} s after the restart",
        acked.iter().filter(|a| a.2).count(),
        restarted.elapsed().as_secs_f64()
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn the_demo_prints_the_payments_postmortem_and_a_line_per_other_incident() {
    let out = Command::new(BIN)
        .arg("demo")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# Postmortem: payments-api"), "{text}");
    let first = text
        .lines()
        .find(|l| l.starts_with("1. "))
        .expect("a ranked hypothesis");
    assert!(first.contains("`change:deploy-4821`"), "{first}");
    let others: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("- P") && l.contains(" — "))
        .collect();
    assert_eq!(others.len(), 4, "{text}");
    assert!(
        others
            .iter()
            .any(|l| l.contains("lineage:7e929185-ee70-589c-a0a1-902799ee4499")),
        "{others:?}"
    );
}

#[test]
fn cli_errors_are_messages_with_a_non_zero_exit() {
    let out = Command::new(BIN)
        .arg("serve")
        .env("POSTMORTEM_LISTEN", "0.0.0.0:0")
        .env_remove("POSTMORTEM_API_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("POSTMORTEM_API_TOKEN"));

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = Command::new(BIN)
        .args(["draft", "PNOPE"])
        .env("DATABASE_URL", &db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no incident PNOPE"));
    let out = Command::new(BIN)
        .args(["draft", "bad/id"])
        .env("DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported DATABASE_URL"));
    // A broken user template stops the server at start-up, naming the template.
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("postmortem.md.tera"), "{% if %}").unwrap();
    let out = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", &db)
        .env("POSTMORTEM_LISTEN", "127.0.0.1:0")
        .env("POSTMORTEM_TEMPLATES_DIR", templates.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("postmortem.md.tera"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN).arg("print-config").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("[services.payments-api]"));
}

#[tokio::test]
async fn draft_print_writes_a_new_revision_from_the_command_line() {
    let app = spawn_app().await;
    app.replay_demo().await;
    app.wait_for_postmortem("PAUTH9M").await;
    let url = app.database_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["draft", "PAUTH9M", "--print"])
            .env("DATABASE_URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("## Root-cause hypotheses"));
    assert!(md.contains("`change:mig-0057`"));
    assert!(
        md.contains("Acknowledgement took 21 min, over the 15-minute target"),
        "{md}"
    );
}

/// The first line `serve` logs with its address says what is configured (secrets only as on or
/// off); logs written to a pipe carry no colour codes, and `POSTMORTEM_LOG_FORMAT=json` makes each
/// line one JSON object.
#[test]
fn serve_says_what_is_configured_in_plain_or_json_logs() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    for json in [false, true] {
        let db = format!("sqlite://{}/log-{json}.db", dir.path().display());
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db)
            .env("POSTMORTEM_LISTEN", format!("127.0.0.1:{}", free_port()))
            .env("PAGERDUTY_WEBHOOK_SECRETS", PD_SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if json {
            cmd.env("POSTMORTEM_LOG_FORMAT", "json");
        }
        let mut child = cmd.spawn().expect("server starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let line = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("a 'listening' line within 30 s");
            if line.contains("listening") {
                break line;
            }
        };
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!line.contains('\u{1b}'), "colour codes in a pipe: {line:?}");
        assert!(!line.contains(PD_SECRET), "{line}");
        let configured = if json {
            let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            assert_eq!(v["message"], "listening", "{v}");
            v["configured"].as_str().unwrap().to_string()
        } else {
            line.clone()
        };
        for part in [
            "pagerduty: on",
            "github: off (no GITHUB_WEBHOOK_SECRET",
            "llm: none (the evidence drafter alone)",
            "api: open (loopback only",
        ] {
            assert!(configured.contains(part), "{part:?} missing: {line}");
        }
    }
}

/// A client that opens connections and never finishes its headers is cut off at the header-read
/// deadline, while others are served; with more such connections than the connection cap the
/// server still answers once they are cut; and one that never sends anything cannot keep SIGTERM
/// from ending the process past the shutdown deadline.
#[tokio::test]
async fn half_open_connections_are_cut_off_and_cannot_hold_up_shutdown() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("postmortem.toml");
    std::fs::write(
        &config,
        "header_read_timeout_secs = 1\nmax_connections = 4\nshutdown_grace_secs = 1\n",
    )
    .unwrap();
    let port = free_port();
    let db = format!("sqlite://{}/half-open.db", dir.path().display());
    let mut child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db)
        .env("POSTMORTEM_CONFIG", &config)
        .env("POSTMORTEM_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let base = format!("http://127.0.0.1:{port}");
    postmortem::app::startup::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    wait_healthy(&http, &base).await;

    // Eight connections (twice the cap) that stop half-way through their headers.
    let stalled: Vec<std::net::TcpStream> = (0..8)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let cut = tokio::task::spawn_blocking(move || {
        stalled.into_iter().all(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut buf = [0u8; 256];
            // Closed (0 bytes) or answered 408, but never left hanging.
            match s.read(&mut buf) {
                Ok(0) => true,
                Ok(n) => String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"),
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        })
    })
    .await
    .unwrap();
    assert!(cut, "a stalled connection was kept open");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    // The server answers the next client as before.
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A connection that sends nothing, then SIGTERM: the process ends by the grace deadline.
    let _silent = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "SIGTERM did not end the server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
