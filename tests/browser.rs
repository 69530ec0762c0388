//! The review workflow in a real browser: headless Chromium, driven over WebDriver (chromedriver,
//! started here on a free port), against the real server on a real TCP port. A reviewer signs in,
//! opens an incident, edits the draft with a preview, takes it through review to published, adds
//! an action item, downloads the export and opens the report. Screenshots of each step go to
//! `target/browser-artifacts/`. Without Chromium this test fails and says how to install it.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// chromedriver, killed when dropped.
struct Chromedriver {
    child: Child,
    url: String,
    /// The Chromium binary it drives.
    chromium: PathBuf,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The executable `var` names, or `default`; `None` (the test is skipped) when it is missing.
fn executable(var: &str, default: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_string()));
    if path.is_file() {
        return Some(path);
    }
    skipped(&format!(
        "the browser tests need headless Chromium: {} was not found (install Debian's packages \
         with `apt-get install -y chromium chromium-driver`, or point {var} at it)",
        path.display()
    ));
    None
}

/// chromedriver on a free port, or `None` when Chromium or chromedriver is missing.
async fn start_chromedriver() -> Option<Chromedriver> {
    postmortem::app::startup::install_crypto_provider();
    let driver = executable("CHROMEDRIVER", "/usr/bin/chromedriver")?;
    let chromium = executable("CHROMIUM", "/usr/bin/chromium")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
    let d = Chromedriver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        chromium,
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{}/status", d.url)).send().await
            && r.status() == StatusCode::OK
            && r.json::<Value>()
                .await
                .is_ok_and(|v| v["value"]["ready"] == true)
        {
            return Some(d);
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn open_browser(driver: &Chromedriver) -> Client {
    let chromium = &driver.chromium;
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1400", "--no-first-run", "--disable-extensions"],
        }
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
}

/// Waits until the element's text is `want` (pages reload after each form).
async fn wait_text(c: &Client, css: &str, want: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if t.trim() == want {
                return Ok(());
            }
            last = t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{css} shows {last:?}, not {want:?}"))
}

async fn click(c: &Client, css: &str) -> Result<(), String> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("no {css}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("clicking {css}: {e}"))
}

async fn type_into(c: &Client, css: &str, text: &str) -> Result<(), String> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("no {css}: {e}"))?
        .send_keys(text)
        .await
        .map_err(|e| format!("typing into {css}: {e}"))
}

async fn page_text(c: &Client) -> Result<String, String> {
    c.find(Locator::Css("body"))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())
}

/// The reviewer's whole path; an `Err` names the step that failed.
async fn review_in_the_browser(c: &Client, app: &TestApp) -> Result<(), String> {
    let e = |e: fantoccini::error::CmdError| e.to_string();
    c.goto(&format!("{}/incidents", app.base))
        .await
        .map_err(e)?;
    let url = c.current_url().await.map_err(e)?;
    if url.path() != "/login" {
        return Err(format!("not sent to sign in: at {url}"));
    }
    type_into(c, "#token", API_TOKEN).await?;
    type_into(c, "#name", "Dana Reviewer").await?;
    screenshot(c, "01-sign-in").await;
    click(c, "#sign-in").await?;
    wait_text(c, "#user", "Dana Reviewer").await?;
    screenshot(c, "02-incidents").await;

    click(c, "a[href='/incidents/PBROW1']").await?;
    wait_text(c, "#review-status", "draft").await?;
    let text = page_text(c).await?;
    for want in [
        "pagerduty:PBROW1-n",
        "Timeline",
        "Action items",
        "Similar past incidents",
    ] {
        if !text.contains(want) {
            return Err(format!("the incident page lacks {want:?}"));
        }
    }
    screenshot(c, "03-incident-draft").await;

    click(c, "#edit").await?;
    type_into(
        c,
        "#markdown",
        "\nReviewed in the browser by Dana: the rollback fixed it.\n",
    )
    .await?;
    click(c, "#preview").await?;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#preview-body"))
        .await
        .map_err(e)?;
    let preview = c
        .find(Locator::Css("#preview-body"))
        .await
        .map_err(e)?
        .text()
        .await
        .map_err(e)?;
    if !preview.contains("Reviewed in the browser by Dana") {
        return Err(format!("the preview lacks the edit: {preview}"));
    }
    screenshot(c, "04-edit-preview").await;
    click(c, "#save").await?;
    wait_text(c, "#revision", "2").await?;

    click(c, "#to-in_review").await?;
    wait_text(c, "#review-status", "in_review").await?;
    click(c, "#to-published").await?;
    wait_text(c, "#review-status", "published").await?;

    type_into(c, "#new-item-text", "Alert on pool saturation at 80%").await?;
    type_into(c, "#new-item-owner", "Sam").await?;
    click(c, "#add-item-button").await?;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(
            "//table[@id='action-items']//td[contains(., 'Alert on pool saturation at 80%')]",
        ))
        .await
        .map_err(e)?;
    screenshot(c, "05-published").await;

    // The download link: fetch it as the browser would, with the session cookie.
    let href = c
        .find(Locator::Css("#export"))
        .await
        .map_err(e)?
        .attr("href")
        .await
        .map_err(e)?
        .ok_or("the export link has no href")?;
    let got = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], {credentials: 'same-origin'})
               .then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t])))
               .catch(err => done([0, null, String(err)]));",
            vec![json!(href)],
        )
        .await
        .map_err(e)?;
    let (status, disposition, text) = (
        got[0].as_u64(),
        got[1].as_str().unwrap_or(""),
        got[2].as_str().unwrap_or(""),
    );
    if status != Some(200)
        || !disposition.starts_with("attachment; filename=\"postmortem-PBROW1-r2.md\"")
    {
        return Err(format!(
            "export answered {status:?} {disposition:?}: {text}"
        ));
    }
    for want in [
        "---\nincident_id: \"PBROW1\"\n",
        "\nstatus: \"published\"\n",
        "\nauthors: [\"Dana Reviewer\"]\n",
        "\npublished_by: \"Dana Reviewer\"\n",
        "Alert on pool saturation at 80%",
        "Reviewed in the browser by Dana",
    ] {
        if !text.contains(want) {
            return Err(format!("the export lacks {want:?}:\n{text}"));
        }
    }
    std::fs::write(artifacts().join("postmortem-PBROW1-r2.md"), text).unwrap();

    click(c, "#report").await?;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("h2#timeline"))
        .await
        .map_err(e)?;
    screenshot(c, "06-report").await;

    // What the history teaches: the month's leadership report and the incident families.
    c.goto(&format!("{}/reports", app.base)).await.map_err(e)?;
    click(c, "a[href='/reports/2026-10']").await?;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("h2#families"))
        .await
        .map_err(e)?;
    wait_text(c, "h1", "Reliability report: 2026-10").await?;
    wait_text(c, ".kpi b", "1").await?;
    screenshot(c, "07-monthly-report").await;
    c.goto(&format!("{}/families", app.base)).await.map_err(e)?;
    wait_text(c, "#F-0001 .ev", "F-0001").await?;
    screenshot(c, "08-families").await;
    Ok(())
}

#[tokio::test]
async fn a_reviewer_takes_a_draft_to_published_in_headless_chromium() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = spawn_app().await;
    app.drafted_incident("PBROW1").await;
    app.recompute_families().await;
    let client = open_browser(&driver).await;
    let outcome = review_in_the_browser(&client, &app).await;
    if let Err(msg) = &outcome {
        let _ = client
            .screenshot()
            .await
            .map(|png| std::fs::write(artifacts().join("failure.png"), png));
        if let Ok(src) = client.source().await {
            let _ = std::fs::write(artifacts().join("failure.html"), src);
        }
        let _ = client.close().await;
        panic!("{msg} (see target/browser-artifacts/failure.png)");
    }
    client.close().await.unwrap();
    // What the browser did is what the service recorded.
    let p = app.get_json("/api/incidents/PBROW1/postmortem").await;
    assert_eq!(
        (p["revision"].clone(), p["status"].clone()),
        (json!(2), json!("published"))
    );
    let log = app.review_log("PBROW1").await;
    assert!(log.iter().all(|e| e["actor"] == "Dana Reviewer"), "{log:?}");
}
