//! The review pages and the workflow API over HTTP: sign-in, sessions, CSRF, the draft →
//! in_review → published workflow, edits and redrafts as revisions, action items and the export.

mod common;

use std::collections::BTreeMap;

use common::*;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// A person in a browser without JavaScript: keeps cookies, does not follow redirects.
struct Visitor<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// Extra headers on every request (a proxy's user header).
    headers: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The first CSRF token on the page.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req;
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", c.join("; "));
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let r = req.send().await.unwrap();
        let page = Page {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        };
        for c in page.set_cookies() {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.app.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.app.base))
            .form(form);
        self.send(req).await
    }

    /// Signs in with the API token under `name`.
    async fn sign_in(&mut self, name: &str) {
        let form = self.get("/login?next=/incidents").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.csrf();
        let r = self
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("token", API_TOKEN),
                    ("name", name),
                    ("next", "/incidents"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/incidents");
    }

    /// Posts a form of the incident page with its CSRF token.
    async fn post_on(&mut self, page: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(page).await.csrf();
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(path, &form).await
    }
}

#[tokio::test]
async fn pages_need_sign_in_and_the_api_token_signs_in_as_the_name_given() {
    let app = spawn_app().await;
    let mut v = Visitor::new(&app);
    let r = v.get("/incidents?status=resolved").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fincidents%3Fstatus%3Dresolved");
    for path in [
        "/incidents/PX1",
        "/incidents/PX1/export.md",
        "/incidents/PX1/report",
        "/",
    ] {
        assert_eq!(v.get(path).await.status, StatusCode::SEE_OTHER, "{path}");
    }
    let r = v
        .post("/incidents/PX1/status", &[("status", "published")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a form without a session"
    );

    let form = v.get("/login").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"token\""));
    let csrf = form.csrf();
    let wrong = v
        .post(
            "/login",
            &[("csrf", &csrf), ("token", "not-it"), ("name", "Dana")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("That is not the API token."));
    assert!(!v.cookies.keys().any(|k| k.contains("pm_session")));
    // The sign-in form's own CSRF token is required too.
    let stale = v
        .post("/login", &[("csrf", "forged"), ("token", API_TOKEN)])
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);

    let csrf = v.get("/login").await.csrf();
    let ok = v
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("token", API_TOKEN),
                ("name", "Dana Reviewer"),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/incidents", "no open redirect");
    let cookie = ok
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("pm_session="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(!cookie.contains("Secure"), "plain http base URL: {cookie}");
    let list = v.get("/incidents").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Dana Reviewer"));
    assert_eq!(list.headers["cache-control"], "no-store");
    assert!(
        list.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    // The session is stored as a hash, never as the cookie's secret.
    let secret = v.cookies["pm_session"].clone();
    let rows: Vec<(String,)> = sqlx::query_as("SELECT id_hash FROM web_sessions")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|(h,)| *h != secret));

    let out = v.post_on("/incidents", "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    v.cookies.insert("pm_session".into(), secret);
    assert_eq!(
        v.get("/incidents").await.status,
        StatusCode::SEE_OTHER,
        "signed out for good"
    );
}

#[tokio::test]
async fn over_https_the_session_cookie_is_secure_and_host_bound() {
    let app = spawn_app_with(|c| c.base_url = "https://postmortem.example.com".into()).await;
    let mut v = Visitor::new(&app);
    let csrf = v.get("/login").await.csrf();
    let ok = v
        .post("/login", &[("csrf", &csrf), ("token", API_TOKEN)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookie = ok
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-pm_session="))
        .expect("a __Host- session cookie");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let page = v.get("/incidents").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("operator"),
        "no name given: recorded as operator"
    );
}

#[tokio::test]
async fn every_form_needs_its_sessions_csrf_token_and_a_same_site_origin() {
    let app = spawn_app().await;
    app.drafted_incident("PCSRF1").await;
    let mut v = Visitor::new(&app);
    v.sign_in("Dana").await;
    let page = v.get("/incidents/PCSRF1").await;
    let csrf = page.csrf();
    let status = |token: &str| {
        vec![
            ("csrf".to_string(), token.to_string()),
            ("status".into(), "in_review".into()),
            ("revision".into(), "1".into()),
        ]
    };
    for bad in ["", "0000", &csrf[..csrf.len() - 1]] {
        let r = v
            .send(
                v.http
                    .post(format!("{}/incidents/PCSRF1/status", app.base))
                    .form(&status(bad)),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "token {bad:?}");
    }
    let no_token = v
        .post(
            "/incidents/PCSRF1/status",
            &[("status", "in_review"), ("revision", "1")],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    // Another person's token is not this session's.
    let mut other = Visitor::new(&app);
    other.sign_in("Eve").await;
    let theirs = other.get("/incidents/PCSRF1").await.csrf();
    assert_ne!(theirs, csrf);
    let r = v
        .send(
            v.http
                .post(format!("{}/incidents/PCSRF1/status", app.base))
                .form(&status(&theirs)),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A right token from a foreign page is refused on its Origin.
    let r = v
        .send(
            v.http
                .post(format!("{}/incidents/PCSRF1/status", app.base))
                .header("origin", "https://evil.example")
                .form(&status(&csrf)),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("cross-site"), "{}", r.body);
    assert_eq!(
        app.get_json("/api/incidents/PCSRF1/postmortem").await["status"],
        "draft"
    );
    let r = v
        .send(
            v.http
                .post(format!("{}/incidents/PCSRF1/status", app.base))
                .header("origin", &app.base)
                .form(&status(&csrf)),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.get_json("/api/incidents/PCSRF1/postmortem").await["status"],
        "in_review"
    );
}

#[tokio::test]
async fn a_reviewer_takes_a_draft_to_published_in_the_pages_and_each_step_records_who_and_when() {
    let app = spawn_app().await;
    let draft = app.drafted_incident("PFLOW1").await;
    assert_eq!(draft["status"], "draft");
    let mut v = Visitor::new(&app);
    v.sign_in("Dana").await;

    let list = v.get("/incidents").await;
    assert!(list.body.contains("/incidents/PFLOW1"), "{}", list.body);
    assert!(list.body.contains("badge draft"));
    let page = v.get("/incidents/PFLOW1").await;
    assert_eq!(page.status, StatusCode::OK);
    for want in [
        "## Summary",
        "pagerduty:PFLOW1-n",
        "rolled back the deploy",
        "Submit for review",
        "/families",
        "/reports",
    ] {
        let want = want.trim_start_matches("## ");
        assert!(page.body.contains(want), "incident page lacks {want:?}");
    }
    assert!(
        !page.body.contains("id=\"export\""),
        "nothing to download before publishing"
    );
    assert!(
        !page.body.contains("id=\"to-published\""),
        "a draft is reviewed before publishing"
    );

    // Edit with a preview first: the preview escapes raw HTML.
    let edit = v.get("/incidents/PFLOW1/edit").await;
    assert_eq!(edit.status, StatusCode::OK);
    let original = draft["markdown"].as_str().unwrap();
    assert!(edit.body.contains("name=\"base_revision\" value=\"1\""));
    let edited = format!(
        "{}\n\nReviewed by Dana: the rollback fixed it. <script>alert(1)</script>\n",
        original.trim_end()
    );
    let preview = v
        .post_on(
            "/incidents/PFLOW1/edit",
            "/incidents/PFLOW1/edit",
            &[
                ("markdown", &edited),
                ("base_revision", "1"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview
            .body
            .contains("Reviewed by Dana: the rollback fixed it.")
    );
    assert!(
        preview
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(!preview.body.contains("<script>alert(1)"));
    assert_eq!(
        app.get_json("/api/incidents/PFLOW1/postmortem").await["revision"],
        1,
        "a preview saves nothing"
    );
    let crlf = edited.replace('\n', "\r\n");
    let saved = v
        .post_on(
            "/incidents/PFLOW1/edit",
            "/incidents/PFLOW1/edit",
            &[
                ("markdown", &crlf),
                ("base_revision", "1"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/incidents/PFLOW1?msg=saved#draft");
    let cur = app.get_json("/api/incidents/PFLOW1/postmortem").await;
    assert_eq!(cur["revision"], 2);
    assert_eq!(
        cur["markdown"], edited,
        "saved with the browser's CRLF made LF"
    );
    // Saving on a stale base is refused and keeps the text.
    let stale = v
        .post_on(
            "/incidents/PFLOW1/edit",
            "/incidents/PFLOW1/edit",
            &[
                ("markdown", "# Mine"),
                ("base_revision", "1"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body.contains("# Mine") && stale.body.contains("revision 2 is"),
        "{}",
        stale.body
    );

    let to = |s: &'static str, rev: &'static str| [("status", s), ("revision", rev)];
    let r = v
        .post_on(
            "/incidents/PFLOW1",
            "/incidents/PFLOW1/status",
            &to("published", "2"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "draft → published skips review"
    );
    let r = v
        .post_on(
            "/incidents/PFLOW1",
            "/incidents/PFLOW1/status",
            &to("in_review", "2"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut lead = Visitor::new(&app);
    lead.sign_in("Lee Lead").await;
    let r = lead
        .post_on(
            "/incidents/PFLOW1",
            "/incidents/PFLOW1/status",
            &to("published", "2"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let page = v.get("/incidents/PFLOW1").await;
    assert!(
        page.body.contains("id=\"review-status\">published"),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"export\""));
    assert!(page.body.contains("Lee Lead") && page.body.contains("<b>published</b>"));
    let revs = app
        .get_json("/api/incidents/PFLOW1/postmortem/revisions")
        .await;
    assert_eq!(revs["revisions"][0]["author"], Value::Null);
    assert_eq!(revs["revisions"][1]["author"], "Dana");
    assert_eq!(revs["revisions"][1]["status"], "published");
    assert_eq!(
        revs["revisions"][0]["status"], "draft",
        "revision 1 is left as it was"
    );
    let log = app.review_log("PFLOW1").await;
    let moves: Vec<(String, String)> = log
        .iter()
        .filter(|e| e["action"] == "status")
        .map(|e| {
            (
                e["actor"].as_str().unwrap().into(),
                e["to_status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("Dana".into(), "in_review".into()),
            ("Lee Lead".into(), "published".into())
        ]
    );
    assert!(log[0]["at"].as_str().unwrap().ends_with('Z'));

    let dl = v.get("/incidents/PFLOW1/export.md").await;
    assert_eq!(dl.status, StatusCode::OK);
    assert_eq!(
        dl.headers["content-disposition"],
        "attachment; filename=\"postmortem-PFLOW1-r2.md\""
    );
    assert!(
        dl.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let text = &dl.body;
    assert!(text.starts_with("---\nincident_id: \"PFLOW1\"\n"), "{text}");
    for line in [
        "title: \"Checkout errors (PFLOW1)\"",
        "service: \"payments-api\"",
        "severity: \"sev2\"",
        "status: \"published\"",
        "revision: 2",
        "authors: [\"Dana\"]",
        "reviewers: [\"Dana\", \"Lee Lead\"]",
        "published_by: \"Lee Lead\"",
        "triggered_at: \"2026-10-02T14:20:00Z\"",
        "resolved_at: \"2026-10-02T14:50:00Z\"",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "front matter lacks {line:?}:\n{text}"
        );
    }
    assert!(text.lines().any(|l| l.starts_with("published_at: \"20")));
    let body_at = text[4..].find("\n---\n").expect("front matter closes") + 9;
    assert!(
        text[body_at..].trim_start().starts_with("# Postmortem"),
        "{}",
        &text[body_at..]
    );
    assert!(text.contains("Reviewed by Dana"));
    // The API gives the same file.
    let r = app.get("/api/incidents/PFLOW1/postmortem/export").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(&r.text().await.unwrap(), text);
    // The full report renders the current revision through the HTML postmortem template.
    let report = v.get("/incidents/PFLOW1/report").await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.body.contains("<h2 id=\"timeline\">Timeline</h2>"));
}

#[tokio::test]
async fn a_redraft_after_a_persons_edit_adds_a_revision_keeps_theirs_intact_and_shows_the_diff() {
    let app = spawn_app().await;
    app.drafted_incident("PREDR1").await;
    let mut v = Visitor::new(&app);
    v.sign_in("Dana").await;
    let cur = app.get_json("/api/incidents/PREDR1/postmortem").await;
    let edited = cur["markdown"]
        .as_str()
        .unwrap()
        .replace("## Summary\n", "## Summary\nDana's own summary line.\n");
    let r = v
        .post_on(
            "/incidents/PREDR1/edit",
            "/incidents/PREDR1/edit",
            &[
                ("markdown", &edited),
                ("base_revision", "1"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // An automatic draft over the same evidence keeps the person's revision current.
    let config = test_config(&app.database_url);
    let (_, _, _, _, drafter) = postmortem::app::startup::components(config).await.unwrap();
    let id = postmortem::domain::IncidentId::parse("PREDR1").unwrap();
    let again = drafter.draft(&id, false).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.revision, 2);

    let r = v
        .post_on("/incidents/PREDR1", "/incidents/PREDR1/regenerate", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/incidents/PREDR1?msg=regenerate");
    let waiting = v.get("/incidents/PREDR1?msg=regenerate").await;
    assert!(waiting.body.contains("data-wait-revision"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let j: Value =
            serde_json::from_str(&v.get("/incidents/PREDR1/revision.json").await.body).unwrap();
        if j["revision"] == 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no redraft");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let revs = app
        .get_json("/api/incidents/PREDR1/postmortem/revisions")
        .await;
    assert_eq!(revs["revisions"][1]["author"], "Dana");
    assert_eq!(revs["revisions"][2]["author"], Value::Null);
    let kept = app
        .store
        .postmortem_revision(&id, 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.markdown, edited, "the person's revision is untouched");

    let page = v.get("/incidents/PREDR1").await;
    assert!(page.body.contains("id=\"redraft-notice\""), "{}", page.body);
    let diff = v.get("/incidents/PREDR1/revisions/3/diff").await;
    assert_eq!(diff.status, StatusCode::OK);
    assert!(diff.body.contains("Revision 3 vs 2"));
    assert!(
        diff.body.contains("<tr class=\"delete\">")
            && diff.body.contains("Dana&#x27;s own summary line."),
        "{}",
        diff.body
    );
    let api = app.get_json("/api/incidents/PREDR1/postmortem/diff").await;
    assert_eq!(
        (
            api["from"]["revision"].clone(),
            api["to"]["revision"].clone()
        ),
        (json!(2), json!(3))
    );
    assert!(api["deleted"].as_u64().unwrap() >= 1, "{api}");
    assert!(
        api["hunks"]
            .to_string()
            .contains("Dana's own summary line.")
    );
    assert_eq!(
        v.get("/incidents/PREDR1/revisions/1/diff").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        v.get("/incidents/PREDR1/revisions/x/diff").await.status,
        StatusCode::BAD_REQUEST
    );
    let log = app.review_log("PREDR1").await;
    assert!(
        log.iter()
            .any(|e| e["action"] == "regenerate" && e["actor"] == "Dana")
    );
}

#[tokio::test]
async fn action_items_are_seeded_from_the_draft_and_people_add_finish_and_own_them() {
    let app = spawn_app().await;
    let draft = app.drafted_incident("PITEM1").await;
    let drafted = draft["action_items"].as_array().unwrap().len();
    assert!(
        drafted >= 1,
        "the note about exhaustion makes the draft suggest an item"
    );
    let (s, items) = app.api_get("/api/incidents/PITEM1/action-items").await;
    assert_eq!(s, StatusCode::OK);
    let items = items["action_items"].as_array().unwrap().clone();
    assert_eq!(items.len(), drafted);
    assert!(items.iter().all(|i| i["origin"] == "draft"));

    let mut v = Visitor::new(&app);
    v.sign_in("Dana").await;
    let r = v
        .post_on(
            "/incidents/PITEM1",
            "/incidents/PITEM1/actions",
            &[("text", "Add a canary stage"), ("owner", "sam")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let n = (drafted + 1).to_string();
    let path = format!("/incidents/PITEM1/actions/{n}");
    let r = v
        .post_on("/incidents/PITEM1", &path, &[("op", "toggle")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = v
        .post_on(
            "/incidents/PITEM1",
            &path,
            &[("op", "owner"), ("owner", "Kim")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = v
        .post_on(
            "/incidents/PITEM1",
            "/incidents/PITEM1/actions",
            &[("text", "  "), ("owner", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("action item text"), "{}", r.body);
    let r = v
        .post_on(
            "/incidents/PITEM1",
            "/incidents/PITEM1/actions/999",
            &[("op", "toggle")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = v.get("/incidents/PITEM1").await;
    assert!(
        page.body.contains("class=\"done\">Add a canary stage"),
        "{}",
        page.body
    );

    let (s, all) = app.api_get("/api/incidents/PITEM1/action-items").await;
    assert_eq!(s, StatusCode::OK);
    let mine = all["action_items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(mine["text"], "Add a canary stage");
    assert_eq!(mine["owner"], "Kim");
    assert_eq!(mine["status"], "done");
    assert_eq!(mine["created_by"], "Dana");
    assert!(mine["done_at"].is_string());

    // The API: add, change, clear the owner, delete.
    let (s, added) = app
        .api_post(
            "/api/incidents/PITEM1/action-items",
            json!({"text": "Alert on pool saturation", "author": "ops-bot"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    let m = added["n"].as_i64().unwrap();
    assert_eq!(added["created_by"], "ops-bot");
    let p = format!("/api/incidents/PITEM1/action-items/{m}");
    let (s, changed) = app
        .api_patch(&p, json!({"owner": "Ari", "status": "done"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (changed["owner"].clone(), changed["status"].clone()),
        (json!("Ari"), json!("done"))
    );
    assert_eq!(changed["updated_by"], "api");
    let (_, cleared) = app
        .api_patch(&p, json!({"owner": null, "status": "open"}))
        .await;
    assert_eq!(cleared["owner"], Value::Null);
    assert_eq!(cleared["done_at"], Value::Null);
    for (body, what) in [
        (json!({"status": "finished"}), "status"),
        (json!({"text": ""}), "text"),
        (json!({"colour": "red"}), "unknown field"),
    ] {
        let (s, e) = app.api_patch(&p, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{what}");
        assert!(e["error"].as_str().unwrap().contains(what), "{e}");
    }
    let (s, _) = app
        .api_patch("/api/incidents/PITEM1/action-items/0", json!({}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app.api_delete(&p).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.api_delete(&p).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, after) = app.api_get("/api/incidents/PITEM1/action-items").await;
    assert_eq!(
        after["action_items"].as_array().unwrap().len(),
        drafted + 1,
        "deleted, and the draft's not seeded again"
    );
    let (s, _) = app.api_get("/api/incidents/PNONE/action-items").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_workflow_api_moves_status_and_saves_edits_and_names_bad_input_in_json_errors() {
    let app = spawn_app().await;
    app.drafted_incident("PAPI1").await;
    let status = |b: Value| app.api_post("/api/incidents/PAPI1/postmortem/status", b);
    let (s, e) = status(json!({"status": "shipped"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("draft, in_review, published"),
        "{e}"
    );
    let (s, e) = status(json!({"status": "published"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        e["error"].as_str().unwrap().contains("in_review first"),
        "{e}"
    );
    let (s, e) = status(json!({"status": "draft"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = status(json!({"status": "in_review", "revision": 7})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = app.api_get("/api/incidents/PAPI1/postmortem/export").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        e["error"].as_str().unwrap().contains("not published"),
        "{e}"
    );

    let put = |b: Value| app.api_put("/api/incidents/PAPI1/postmortem", b);
    let (s, e) = put(json!({"markdown": "   "})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("empty"));
    let (s, _) = put(json!({"text": "# x"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = put(json!({"markdown": "# Big\n".repeat(60_000)})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, e) = put(json!({"markdown": "# Edited\n", "base_revision": 3})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) =
        put(json!({"markdown": "# Edited by the API\n", "base_revision": 1, "author": "Robin"}))
            .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(
        (
            e["revision"].clone(),
            e["author"].clone(),
            e["created"].clone()
        ),
        (json!(2), json!("Robin"), json!(true))
    );
    let (_, e) = put(json!({"markdown": "# Edited by the API\n"})).await;
    assert_eq!(
        (e["revision"].clone(), e["created"].clone()),
        (json!(2), json!(false)),
        "the same text adds nothing"
    );
    let (s, e) = status(json!({"status": "in_review", "revision": 2, "author": "Robin"})).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, e) = status(json!({"status": "published"})).await;
    assert_eq!(
        (s, e["status"].clone()),
        (StatusCode::OK, json!("published"))
    );
    let cur = app.get_json("/api/incidents/PAPI1/postmortem").await;
    assert_eq!(
        cur["status"], "published",
        "the JSON body follows the status"
    );
    // An edit of a published postmortem goes back to review; the published revision stays.
    let (_, e) = put(json!({"markdown": "# Edited again\n"})).await;
    assert_eq!(
        (e["revision"].clone(), e["status"].clone()),
        (json!(3), json!("in_review"))
    );
    let r = app.get("/api/incidents/PAPI1/postmortem/export").await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("\nrevision: 2\n") && text.contains("# Edited by the API"),
        "{text}"
    );
    assert!(text.contains("published_by: \"api\""), "{text}");

    for (method, path) in [
        (
            reqwest::Method::POST,
            "/api/incidents/PAPI1/postmortem/status",
        ),
        (reqwest::Method::PUT, "/api/incidents/PAPI1/postmortem"),
        (
            reqwest::Method::GET,
            "/api/incidents/PAPI1/postmortem/export",
        ),
        (reqwest::Method::GET, "/api/incidents/PAPI1/action-items"),
    ] {
        let r = app
            .http
            .request(method, format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = app
        .http
        .post(format!(
            "{}/api/incidents/PAPI1/postmortem/status",
            app.base
        ))
        .bearer_auth(API_TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    let (s, _) = app
        .api_put("/api/incidents/PNOPE/postmortem", json!({"markdown": "x"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .api_get("/api/incidents/bad%20id/postmortem/export")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_proxy_user_header_is_believed_only_when_configured() {
    let plain = spawn_app().await;
    let mut mallory = Visitor::new(&plain).with_header("x-forwarded-user", "mallory");
    assert_eq!(
        mallory.get("/incidents").await.status,
        StatusCode::SEE_OTHER
    );

    let app = spawn_app_with(|c| c.auth_proxy_header = Some("X-Forwarded-User".into())).await;
    app.drafted_incident("PPROXY1").await;
    let mut alice = Visitor::new(&app).with_header("x-forwarded-user", "alice@example.com");
    let page = alice.get("/incidents/PPROXY1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("alice@example.com"));
    let r = alice
        .post_on(
            "/incidents/PPROXY1",
            "/incidents/PPROXY1/status",
            &[("status", "in_review"), ("revision", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Another user behind the proxy with alice's cookie is not alice.
    let cookies = alice.cookies.clone();
    let mut bob = Visitor::new(&app).with_header("x-forwarded-user", "bob");
    bob.cookies = cookies;
    let page = bob.get("/incidents/PPROXY1").await;
    assert!(page.body.contains("<b id=\"user\">bob</b>"));
    // The API records the proxy's user too.
    let r = app
        .http
        .post(format!(
            "{}/api/incidents/PPROXY1/postmortem/status",
            app.base
        ))
        .bearer_auth(API_TOKEN)
        .header("x-forwarded-user", "carol")
        .json(&json!({"status": "published"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let log = app.review_log("PPROXY1").await;
    let actors: Vec<&str> = log.iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["alice@example.com", "carol"]);
    let mut odd = Visitor::new(&app).with_header("x-forwarded-user", "  ");
    assert_eq!(odd.get("/incidents").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn on_loopback_without_a_token_the_pages_are_open_and_record_local() {
    let app = spawn_app_with(|c| c.api_token = None).await;
    app.drafted_incident("PLOCAL1").await;
    let mut v = Visitor::new(&app);
    let page = v.get("/incidents/PLOCAL1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<b id=\"user\">local</b>"));
    let r = v
        .post_on(
            "/incidents/PLOCAL1",
            "/incidents/PLOCAL1/status",
            &[("status", "in_review"), ("revision", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.review_log("PLOCAL1").await[0]["actor"], "local");
    // A form still needs the session's token, and a foreign host name is refused (DNS rebinding).
    let r = Visitor::new(&app)
        .post(
            "/incidents/PLOCAL1/status",
            &[("status", "draft"), ("revision", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut rebound = Visitor::new(&app).with_header("host", "attacker.example");
    assert_eq!(
        rebound.get("/incidents").await.status,
        StatusCode::FORBIDDEN
    );
    // The open API asks the same of the Host: loopback names pass, another site's is refused
    // with a JSON error saying why.
    let api = rebound.get("/api/incidents").await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);
    assert!(api.body.contains("Host header"), "{}", api.body);
    assert_eq!(
        Visitor::new(&app).get("/api/incidents").await.status,
        StatusCode::OK
    );
    assert_eq!(
        v.get("/login").await.status,
        StatusCode::SEE_OTHER,
        "nothing to sign in to"
    );
}

#[tokio::test]
async fn the_incident_list_filters_and_pages_newest_first() {
    let app = spawn_app().await;
    for i in 0..28 {
        let id = format!("PLST{i:02}");
        let at = format!("2026-09-{:02}T10:00:00Z", i + 1);
        let kind = if i % 4 == 0 { "resolved" } else { "triggered" };
        app.post_pagerduty(&pd_event(
            &format!("E{i}"),
            &format!("incident.{kind}"),
            &id,
            kind,
            &at,
        ))
        .await;
    }
    let mut v = Visitor::new(&app);
    v.sign_in("Dana").await;
    let first = v.get("/incidents").await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first.body.find("PLST27").unwrap() < first.body.find("PLST26").unwrap(),
        "newest first"
    );
    assert!(!first.body.contains("PLST02<"), "page size 25");
    let at = first.body.find("id=\"next-page\"").expect("a next page");
    let href_start = first.body[..at].rfind("href=\"").unwrap() + 6;
    let href = first.body[href_start..at]
        .trim_end_matches("\" ")
        .replace("&amp;", "&")
        .replace("&#x2F;", "/");
    let second = v.get(&href).await;
    assert!(
        second.body.contains("PLST00") && !second.body.contains("PLST27"),
        "{href}"
    );
    let resolved = v
        .get("/incidents?status=resolved&service=Payments-API")
        .await;
    assert_eq!(resolved.body.matches("badge resolved").count(), 7);
    let window = v.get("/incidents?since=2026-09-03&until=2026-09-04").await;
    let ids: Vec<&str> = ["PLST01", "PLST02", "PLST03", "PLST04"]
        .into_iter()
        .filter(|i| window.body.contains(&format!("{i}<")))
        .collect();
    assert_eq!(ids, ["PLST02", "PLST03"]);
    let bad = v.get("/incidents?since=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("since: &quot;yesterday&quot; is not a date"),
        "{}",
        bad.body
    );
    assert_eq!(
        v.get("/incidents?status=open").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        v.get("/incidents?cursor=zzz").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        v.get("/incidents/PNOPE").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        v.get("/incidents/no%20such").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn pages_escape_what_sources_and_people_wrote() {
    let app = spawn_app().await;
    let body = pd_event(
        "X1",
        "incident.triggered",
        "PXSS1",
        "triggered",
        "2026-10-01T10:00:00Z",
    )
    .replace("Checkout errors (PXSS1)", "<img src=x onerror=alert(1)>");
    assert_eq!(
        app.post_pagerduty(&body).await.status(),
        StatusCode::ACCEPTED
    );
    let mut v = Visitor::new(&app);
    v.sign_in("<b>Dana</b>").await;
    for path in ["/incidents", "/incidents/PXSS1"] {
        let page = v.get(path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(
            page.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}"
        );
        assert!(
            !page.body.contains("<b>Dana</b>")
                && page.body.contains("&lt;b&gt;Dana&lt;&#x2F;b&gt;"),
            "{path}"
        );
    }
}
