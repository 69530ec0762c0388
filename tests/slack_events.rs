//! Slack's Events API with the reference bodies, signed as Slack signs them, and an in-process
//! server speaking Slack's Web API (history, replies, info, rate limits, chat.postMessage) for the
//! backfill and the announcements.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use postmortem::ingest::signature::sign_slack;
use serde_json::{Value, json};

use common::slack::{BOT_TOKEN, SLACK_SECRET};

fn reference_bodies() -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(&reference("slack/requests.json")).unwrap();
    v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["body"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn body(name_starts: &str) -> String {
    reference_bodies()
        .into_iter()
        .find(|(n, _)| n.starts_with(name_starts))
        .unwrap_or_else(|| panic!("no reference body {name_starts}"))
        .1
}

async fn post_event(
    app: &TestApp,
    body: &str,
    ts: i64,
    secret: &str,
    retry: Option<u32>,
) -> reqwest::Response {
    let signature = sign_slack(secret, ts, body.as_bytes());
    let mut req = common::slack::request(
        app,
        "/webhooks/slack/events",
        "application/json",
        body,
        ts,
        Some(signature),
    );
    if let Some(n) = retry {
        req = req
            .header("x-slack-retry-num", n.to_string())
            .header("x-slack-retry-reason", "http_timeout");
    }
    req.send().await.unwrap()
}

async fn timeline(app: &TestApp, id: &str) -> Vec<Value> {
    app.get_json(&format!("/api/incidents/{id}/timeline")).await["timeline"]
        .as_array()
        .unwrap()
        .clone()
}

fn slack_ids(t: &[Value]) -> Vec<String> {
    t.iter()
        .filter_map(|e| e["evidence_id"].as_str())
        .filter(|i| i.starts_with("slack:"))
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn signed_events_build_the_timeline_and_the_backfill_fills_the_rest_then_drafts_are_announced()
 {
    let (url, fake) = common::slack::start().await;
    let app = spawn_app_with(move |c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
        c.slack_bot_token = Some(BOT_TOKEN.to_string().into());
        c.slack_api_url = url;
        c.slack_report_channel = Some("CREPORTS".into());
        c.slack_channel_pattern = Some("inc-{number}".into());
    })
    .await;
    // Incident number 7 ("inc-7") began just before the channel's first message.
    app.post_pagerduty(&pd_event(
        "T1",
        "incident.triggered",
        "PSLKEV",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;

    let ts = now_secs();
    // url_verification: the challenge back.
    let r = post_event(&app, &body("url_verification"), ts, SLACK_SECRET, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    // Stale and forged requests: 401, nothing stored.
    let first = body("message (plain");
    assert_eq!(
        post_event(&app, &first, ts - 301, SLACK_SECRET, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_event(&app, &first, ts, "wrong-secret", None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(slack_ids(&timeline(&app, "PSLKEV").await).is_empty());

    // The conversation, in order, with a retry of the first delivery.
    for name in [
        "message (plain",
        "message (thread reply)",
        "message subtype bot_message",
        "retry of the first message",
        "message subtype channel_join",
        "unmodelled inner event",
    ] {
        let retry = name.starts_with("retry").then_some(1);
        let r = post_event(&app, &body(name), ts, SLACK_SECRET, retry).await;
        assert_eq!(r.status(), StatusCode::OK, "{name}");
    }
    let t = timeline(&app, "PSLKEV").await;
    assert_eq!(
        slack_ids(&t),
        [
            "slack:C0INCIDENT1:1767225590.000100",
            "slack:C0INCIDENT1:1767225595.000200"
        ],
        "the channel linked itself by name (inc-7); bots, joins and the retry left out"
    );
    let reply = t
        .iter()
        .find(|e| e["evidence_id"] == "slack:C0INCIDENT1:1767225595.000200")
        .unwrap();
    assert_eq!(reply["thread"], "1767225590.000100");
    assert_eq!(
        reply["author"], "ana",
        "the author by the display name users.info gives"
    );
    assert_eq!(reply["source"], "slack");

    // An edit rewrites the stored message; a delete removes it.
    for name in [
        "message subtype message_changed",
        "message subtype message_deleted",
    ] {
        assert_eq!(
            post_event(&app, &body(name), ts, SLACK_SECRET, None)
                .await
                .status(),
            StatusCode::OK
        );
    }
    let t = timeline(&app, "PSLKEV").await;
    assert_eq!(slack_ids(&t), ["slack:C0INCIDENT1:1767225590.000100"]);
    let edited: Value = serde_json::from_str(&body("message subtype message_changed")).unwrap();
    assert_eq!(
        t.iter()
            .find(|e| e["evidence_id"] == "slack:C0INCIDENT1:1767225590.000100")
            .unwrap()["text"],
        edited["event"]["message"]["text"]
    );

    // A message in an unlinked channel whose name matches nothing is ignored.
    let other = first
        .replace("C0INCIDENT1", "C0RANDOM99")
        .replace("Ev0MSG000001", "Ev0MSG000099");
    assert_eq!(
        post_event(&app, &other, ts, SLACK_SECRET, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert!(
        app.store
            .incident_for_channel("C0RANDOM99")
            .await
            .unwrap()
            .is_none()
    );

    // Resolution: the draft comes on time, the history backfill adds what the events missed
    // (paged, thread replies, after a 429), a redraft follows, and drafts are announced.
    app.post_pagerduty(&pd_event(
        "T2",
        "incident.resolved",
        "PSLKEV",
        "resolved",
        "2026-01-01T00:10:00Z",
    ))
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ids = slack_ids(&timeline(&app, "PSLKEV").await);
        if ids.len() == 4 {
            assert_eq!(
                ids,
                [
                    "slack:C0INCIDENT1:1767225500.000050",
                    "slack:C0INCIDENT1:1767225590.000100",
                    "slack:C0INCIDENT1:1767225620.000700",
                    "slack:C0INCIDENT1:1767225700.000900",
                ]
            );
            break;
        }
        assert!(Instant::now() < deadline, "backfill incomplete: {ids:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        *fake.history_calls.lock().unwrap() >= 3,
        "429, then two pages"
    );
    assert!(*fake.auth_ok.lock().unwrap(), "the bot token as a bearer");
    // The redraft shows the backfilled conversation, and drafts are announced in the incident's
    // channel and the report channel.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = app.get_json("/api/incidents/PSLKEV/postmortem").await;
        let cited = p["timeline"].to_string();
        let posts = fake.posts.lock().unwrap().clone();
        let channels: Vec<&str> = posts.iter().filter_map(|p| p["channel"].as_str()).collect();
        if cited.contains("slack:C0INCIDENT1:1767225700.000900")
            && channels.contains(&"C0INCIDENT1")
            && channels.contains(&"CREPORTS")
            && posts.iter().any(|p| p.to_string().contains("revision 2"))
        {
            let post = &posts[0];
            assert_eq!(post["blocks"][0]["type"], "header");
            assert!(
                post["blocks"][0]["text"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("Postmortem drafted: ")
            );
            assert!(post.to_string().contains("/incidents/PSLKEV"), "{post}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no redraft/announcement: {channels:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn slack_messages_can_support_a_hypothesis_like_notes_do() {
    let app = spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
    })
    .await;
    app.post_changes(&json!([
        {"id": "deploy-77", "service": "payments-api", "kind": "deploy", "summary": "Raise DB statement timeout", "at": "2025-12-31T23:30:00Z", "version": "v1.42.0"},
        {"id": "cfg-12", "service": "payments-api", "kind": "config", "summary": "Tune log sampling", "at": "2025-12-31T23:50:00Z"}
    ]).to_string()).await;
    app.post_pagerduty(&pd_event(
        "U1",
        "incident.triggered",
        "PSLKHY",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;
    app.store
        .link_channel("C0INCIDENT1", "PSLKHY", None)
        .await
        .unwrap();
    let msg = body("message (plain").replace(
        "DB failover started, error rate 12% on checkout",
        "Rolling back deploy-77 now",
    );
    assert_eq!(
        post_event(&app, &msg, now_secs(), SLACK_SECRET, None)
            .await
            .status(),
        StatusCode::OK
    );
    app.post_pagerduty(&pd_event(
        "U2",
        "incident.resolved",
        "PSLKHY",
        "resolved",
        "2026-01-01T00:20:00Z",
    ))
    .await;
    let p = app.wait_for_postmortem("PSLKHY").await;
    let top = &p["root_cause_hypotheses"][0];
    assert_eq!(top["evidence_ids"][0], "change:deploy-77", "{top:#}");
    assert!(
        top["evidence_ids"]
            .to_string()
            .contains("slack:C0INCIDENT1:1767225590.000100"),
        "{top:#}"
    );
    app.stop().await;
}

/// Slack escapes `&`, `<`, `>` and wraps links and mentions (as in a public bug report): the
/// timeline and the draft read what people wrote, and "no, that was reverted at 13:10" is ruling
/// a change out, not a mitigation.
#[tokio::test]
async fn escaped_text_reads_as_written_and_a_revert_before_the_incident_is_no_mitigation() {
    let app = spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
    })
    .await;
    app.post_pagerduty(&pd_event(
        "E1",
        "incident.triggered",
        "PESC1",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;
    app.store
        .link_channel("C0INCIDENT1", "PESC1", None)
        .await
        .unwrap();
    for (text, ts) in [
        (
            "timeout went 5s -&gt; 30s &amp; pool is full, see \
             <https://grafana.example.com/d/abc?from=1&amp;to=2|dashboard> cc <@U0LEE0001>",
            "1767225590.000100",
        ),
        (
            "&gt; is it the pgbouncer change?\nno, that was reverted at 13:10",
            "1767225591.000100",
        ),
    ] {
        let msg = body("message (plain")
            .replace(
                "DB failover started, error rate 12% on checkout",
                "PLACEHOLDER",
            )
            .replace("1767225590.000100", ts);
        let mut v: Value = serde_json::from_str(&msg).unwrap();
        v["event"]["text"] = json!(text);
        v["event_id"] = json!(format!("Ev{ts}"));
        let r = post_event(&app, &v.to_string(), now_secs(), SLACK_SECRET, None).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    app.post_pagerduty(&pd_event(
        "E2",
        "incident.resolved",
        "PESC1",
        "resolved",
        "2026-01-01T00:20:00Z",
    ))
    .await;
    let p = app.wait_for_postmortem("PESC1").await;
    let tl = timeline(&app, "PESC1").await;
    let texts: Vec<&str> = tl.iter().filter_map(|e| e["text"].as_str()).collect();
    assert!(
        texts.contains(&"timeout went 5s -> 30s & pool is full, see dashboard cc @U0LEE0001"),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"> is it the pgbouncer change?\nno, that was reverted at 13:10"),
        "{texts:?}"
    );
    let well = p["what_went_well"].to_string();
    assert!(!well.contains("rolling back"), "{well}");
    app.stop().await;
}

/// Deleting a thread's parent (as Slack sends it: a `message_changed` whose message is a
/// `tombstone`, not a `message_deleted`) takes the parent out of the evidence; its reply stays.
#[tokio::test]
async fn a_deleted_thread_parent_leaves_the_timeline_and_its_reply_stays() {
    let app = spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
    })
    .await;
    app.post_pagerduty(&pd_event(
        "T1",
        "incident.triggered",
        "PTOMB1",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;
    app.store
        .link_channel("C0INCIDENT1", "PTOMB1", None)
        .await
        .unwrap();
    let template: Value = serde_json::from_str(&body("message (plain")).unwrap();
    let parent = "1767225590.000100";
    let reply = "1767225591.000200";
    let mut events = Vec::new();
    let mut first = template.clone();
    first["event"]["text"] = json!("I think the APNs cert expired, checking");
    events.push(first);
    let mut second = template.clone();
    second["event_id"] = json!("Ev0TOMB2");
    second["event"]["text"] = json!("cert is fine, it's the queue");
    second["event"]["ts"] = json!(reply);
    second["event"]["thread_ts"] = json!(parent);
    events.push(second);
    let mut tomb = template.clone();
    tomb["event_id"] = json!("Ev0TOMB3");
    tomb["event"] = json!({
        "type": "message", "subtype": "message_changed", "hidden": true, "channel": "C0INCIDENT1",
        "ts": "1767225599.000300", "event_ts": "1767225599.000300", "channel_type": "channel",
        "message": {"type": "message", "subtype": "tombstone", "text": "This message was deleted.",
            "user": "USLACKBOT", "hidden": true, "ts": parent, "thread_ts": parent,
            "reply_count": 1, "latest_reply": reply}
    });
    events.push(tomb);
    for ev in events {
        let r = post_event(&app, &ev.to_string(), now_secs(), SLACK_SECRET, None).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let tl = timeline(&app, "PTOMB1").await;
    let texts: Vec<&str> = tl.iter().filter_map(|e| e["text"].as_str()).collect();
    assert!(texts.contains(&"cert is fine, it's the queue"), "{texts:?}");
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("APNs cert expired") || t.contains("was deleted")),
        "{texts:?}"
    );
    app.stop().await;
}

/// An event of the plain-message reference body with `event` as its inner event.
fn event(n: usize, inner: Value) -> String {
    let mut v: Value = serde_json::from_str(&body("message (plain")).unwrap();
    v["event_id"] = json!(format!("Ev0ORDER{n:04}"));
    v["event"] = inner;
    v.to_string()
}

fn posted(ts: &str, text: &str) -> Value {
    json!({"type": "message", "user": "U123ABC456", "text": text, "ts": ts,
        "channel": "C0INCIDENT1", "event_ts": ts, "channel_type": "channel"})
}

fn edited(ts: &str, text: &str, edit_ts: &str) -> Value {
    json!({"type": "message", "subtype": "message_changed", "hidden": true,
        "channel": "C0INCIDENT1", "ts": edit_ts, "event_ts": edit_ts, "channel_type": "channel",
        "message": {"type": "message", "user": "U123ABC456", "text": text, "ts": ts,
            "edited": {"user": "U123ABC456", "ts": edit_ts}},
        "previous_message": {"type": "message", "user": "U123ABC456", "text": "(older)", "ts": ts}})
}

fn deleted(ts: &str, at: &str) -> Value {
    json!({"type": "message", "subtype": "message_deleted", "hidden": true,
        "channel": "C0INCIDENT1", "ts": at, "deleted_ts": ts, "event_ts": at,
        "channel_type": "channel",
        "previous_message": {"type": "message", "user": "U123ABC456", "text": "(gone)", "ts": ts}})
}

/// Slack promises no order and retries late: whatever order a message's post, edits and delete
/// arrive in, the timeline and the draft end with its latest state.
#[tokio::test]
async fn a_messages_events_in_any_order_leave_its_latest_state() {
    let app = spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
    })
    .await;
    app.post_pagerduty(&pd_event(
        "O1",
        "incident.triggered",
        "PORDER1",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;
    app.store
        .link_channel("C0INCIDENT1", "PORDER1", None)
        .await
        .unwrap();
    let (a, b, c, d, e) = (
        "1767225590.000100",
        "1767225591.000100",
        "1767225592.000100",
        "1767225593.000100",
        "1767225594.000100",
    );
    let inners = [
        // a: the edit before the post it edits.
        edited(
            a,
            "pool size was 10, raised to 50: errors gone",
            "1767225700.000001",
        ),
        posted(a, "pool size was 10, raising it"),
        // b: the second edit, then the first, then the post.
        edited(
            b,
            "it is the connection pool (checked twice)",
            "1767225800.000001",
        ),
        edited(b, "maybe the connection pool", "1767225750.000001"),
        posted(b, "maybe the cache"),
        // c: the delete before the post, then a late edit.
        deleted(c, "1767225900.000001"),
        posted(c, "I think the CDN is down"),
        edited(c, "I think the CDN is down (edited)", "1767225850.000001"),
        // d: a thread parent's tombstone before the parent.
        json!({"type": "message", "subtype": "message_changed", "hidden": true,
            "channel": "C0INCIDENT1", "ts": "1767225950.000001", "event_ts": "1767225950.000001",
            "message": {"type": "message", "subtype": "tombstone", "text": "This message was deleted.",
                "user": "USLACKBOT", "hidden": true, "ts": d, "thread_ts": d, "reply_count": 1}}),
        posted(d, "the APNs cert expired"),
        // e: an edit repeated after the delivery of a newer one.
        posted(e, "queue depth 10k"),
        edited(e, "queue depth 12k and falling", "1767225990.000002"),
        edited(e, "queue depth 11k", "1767225990.000001"),
    ];
    for (n, inner) in inners.into_iter().enumerate() {
        let r = post_event(&app, &event(n, inner), now_secs(), SLACK_SECRET, None).await;
        assert_eq!(r.status(), StatusCode::OK, "event {n}");
    }
    let tl = timeline(&app, "PORDER1").await;
    let text = |ts: &str| {
        tl.iter()
            .find(|e| e["evidence_id"] == format!("slack:C0INCIDENT1:{ts}"))
            .map(|e| e["text"].as_str().unwrap().to_string())
    };
    assert_eq!(
        text(a).as_deref(),
        Some("pool size was 10, raised to 50: errors gone")
    );
    assert_eq!(
        text(b).as_deref(),
        Some("it is the connection pool (checked twice)")
    );
    assert_eq!(text(c), None, "deleted before it arrived: stays deleted");
    assert_eq!(text(d), None, "its tombstone came first: stays deleted");
    assert_eq!(text(e).as_deref(), Some("queue depth 12k and falling"));

    app.post_pagerduty(&pd_event(
        "O2",
        "incident.resolved",
        "PORDER1",
        "resolved",
        "2026-01-01T00:20:00Z",
    ))
    .await;
    let p = app.wait_for_postmortem("PORDER1").await.to_string();
    assert!(
        p.contains("raised to 50"),
        "the draft quotes the latest text"
    );
    for old in [
        "raising it",
        "maybe the cache",
        "CDN is down",
        "APNs cert",
        "11k",
    ] {
        assert!(!p.contains(old), "the draft quotes {old:?}");
    }
    app.stop().await;
}

/// With the bot token, mentions and authors read by name (`users.info`, asked once per person);
/// a user Slack cannot name stays as the id; the text as Slack sent it is kept for audit.
#[tokio::test]
async fn mentions_and_authors_read_by_name_and_the_raw_text_is_kept() {
    let (url, fake) = common::slack::start().await;
    let app = spawn_app_with(move |c| {
        c.slack_signing_secret = Some(SLACK_SECRET.to_string().into());
        c.slack_bot_token = Some(BOT_TOKEN.to_string().into());
        c.slack_api_url = url;
    })
    .await;
    app.post_pagerduty(&pd_event(
        "M1",
        "incident.triggered",
        "PNAMES1",
        "triggered",
        "2025-12-31T23:55:00Z",
    ))
    .await;
    app.store
        .link_channel("C0INCIDENT1", "PNAMES1", None)
        .await
        .unwrap();
    let raw = "cc <@U0LEE0001> and <@U777NOPE>: p99 &gt; 5s";
    for (n, inner) in [
        posted("1767225590.000100", raw),
        posted("1767225591.000100", "<@U0LEE0001> rolling back now"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = post_event(&app, &event(100 + n, inner), now_secs(), SLACK_SECRET, None).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let tl = timeline(&app, "PNAMES1").await;
    let first = tl
        .iter()
        .find(|e| e["evidence_id"] == "slack:C0INCIDENT1:1767225590.000100")
        .unwrap();
    assert_eq!(first["text"], "cc @Lee Park and @U777NOPE: p99 > 5s");
    assert_eq!(first["author"], "ana");
    assert_eq!(first["raw"], raw, "the text as Slack sent it, for audit");
    let second = tl
        .iter()
        .find(|e| e["evidence_id"] == "slack:C0INCIDENT1:1767225591.000100")
        .unwrap();
    assert_eq!(second["text"], "@Lee Park rolling back now");
    let mut asked = fake.user_lookups();
    asked.sort();
    assert_eq!(
        asked,
        ["U0LEE0001", "U123ABC456", "U777NOPE"],
        "each person asked once"
    );
    app.stop().await;
}
