//! Slack: the `/postmortem` slash command at `POST /webhooks/slack/commands`. Every request is
//! checked with Slack's v0 signature on the raw body and refused (401) when its timestamp is more
//! than 300 s off; every correctly signed request gets a 200 with its answer (errors included)
//! inside, as Slack expects, within its 3 s. Work that takes longer answers through `response_url`.

#[allow(unused_imports)]
use super::openapi::ErrorBody;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{Error, Result};
use super::signed::{self, SlackSigned};
use super::{AppState, Router};
use crate::domain::JobKind;
use crate::domain::{IncidentId, now_millis};
use crate::notify::slack::{esc, postmortem_link};
use crate::patterns::similar::Similar;
use crate::store::slack::SlackMessage;

pub fn router() -> Router {
    Router::new()
        .route("/webhooks/slack/commands", post(command))
        .route("/webhooks/slack/events", post(events))
}

/// `POST /webhooks/slack/events`: the Events API. The message's effect is stored before the 200
/// (idempotently, so Slack's retries are harmless), then the event id is recorded as handled.
#[utoipa::path(post, path = "/webhooks/slack/events", tag = "webhooks", request_body(content = Object, description = "Slack Events API body, v0-signed"), responses((status = 200, description = "Handled (the challenge for url_verification)", body = Object), (status = 400, description = "Not JSON", body = ErrorBody), (status = 401, description = "Unsigned, forged or stale", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)))]
async fn events(
    State(state): State<AppState>,
    SlackSigned(raw, _): SlackSigned<signed::Events>,
) -> Result<Response> {
    let v: Value = serde_json::from_slice(&raw.bytes)
        .map_err(|e| Error::BadRequest(format!("body is not JSON: {e}")))?;
    let ok = || Json(json!({ "ok": true })).into_response();
    match v["type"].as_str() {
        Some("url_verification") => {
            let challenge = v["challenge"]
                .as_str()
                .ok_or_else(|| Error::BadRequest("url_verification without a challenge".into()))?;
            return Ok(Json(json!({ "challenge": challenge })).into_response());
        }
        Some("event_callback") => {}
        _ => return Ok(ok()),
    }
    let event_id = v["event_id"]
        .as_str()
        .ok_or_else(|| Error::BadRequest("event_callback without event_id".into()))?;
    if state.store.slack_event_seen(event_id).await? {
        state
            .metrics
            .webhooks
            .with_label_values(&["slack_events", "duplicate"])
            .inc();
        return Ok(ok());
    }
    let kind = apply_event(&state, &v).await?;
    state
        .store
        .mark_slack_event(event_id, kind, &String::from_utf8_lossy(&raw.bytes))
        .await?;
    state
        .metrics
        .webhooks
        .with_label_values(&["slack_events", "accepted"])
        .inc();
    Ok(ok())
}

/// Our own bot user (from the event's `authorizations`), whose messages are never evidence.
fn our_bot(v: &Value) -> Vec<&str> {
    v["authorizations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["is_bot"] == true)
        .filter_map(|a| a["user_id"].as_str())
        .collect()
}

/// Applies one event; returns a label for the record.
async fn apply_event(state: &AppState, v: &Value) -> Result<&'static str> {
    let e = &v["event"];
    let delay = (state.config.draft_delay_secs * 1000) as i64;
    match e["type"].as_str() {
        Some("channel_created") | Some("channel_rename") => {
            if let (Some(id), Some(name)) =
                (e["channel"]["id"].as_str(), e["channel"]["name"].as_str())
            {
                auto_link(state, id, Some(name)).await?;
            }
            Ok("channel")
        }
        Some("message") => {
            let Some(channel) = e["channel"].as_str() else {
                return Ok("ignored");
            };
            let Some(incident) = linked_incident(state, channel).await? else {
                return Ok("unlinked");
            };
            let bots = our_bot(v);
            match e["subtype"].as_str() {
                None | Some("thread_broadcast") | Some("file_share") | Some("me_message") => {
                    if e["bot_id"].is_string()
                        || e["user"].as_str().is_some_and(|u| bots.contains(&u))
                    {
                        return Ok("bot");
                    }
                    let Some(ts) = e["ts"].as_str() else {
                        return Ok("ignored");
                    };
                    let m = SlackMessage {
                        channel: channel.to_string(),
                        ts: ts.to_string(),
                        thread_ts: e["thread_ts"].as_str().map(String::from),
                        user: e["user"].as_str().map(String::from),
                        text: e["text"].as_str().unwrap_or_default().to_string(),
                    };
                    state
                        .store
                        .add_slack_messages(&incident, &[m], delay)
                        .await?;
                    state.jobs_ready.notify_waiters();
                    Ok("message")
                }
                Some("message_changed") => {
                    let m = &e["message"];
                    if let (Some(ts), Some(text)) = (m["ts"].as_str(), m["text"].as_str()) {
                        state
                            .store
                            .edit_slack_message(&incident, channel, ts, text, delay)
                            .await?;
                        state.jobs_ready.notify_waiters();
                    }
                    Ok("message_changed")
                }
                Some("message_deleted") => {
                    if let Some(ts) = e["deleted_ts"]
                        .as_str()
                        .or(e["previous_message"]["ts"].as_str())
                    {
                        state
                            .store
                            .delete_slack_message(&incident, channel, ts, delay)
                            .await?;
                        state.jobs_ready.notify_waiters();
                    }
                    Ok("message_deleted")
                }
                // bot_message, channel_join and the rest are not the responders' conversation.
                _ => Ok("ignored"),
            }
        }
        _ => Ok("ignored"),
    }
}

/// The incident a channel is linked to, linking it first when its name matches the pattern.
async fn linked_incident(state: &AppState, channel: &str) -> Result<Option<String>> {
    if let Some(id) = state.store.incident_for_channel(channel).await? {
        return Ok(Some(id));
    }
    auto_link(state, channel, None).await
}

/// Links `channel` by the configured name pattern (`inc-{number}`, `inc-{id}`); looks the name up
/// through the Web API when the event did not carry it.
async fn auto_link(state: &AppState, channel: &str, name: Option<&str>) -> Result<Option<String>> {
    let Some(pattern) = state.config.slack_channel_pattern.as_deref() else {
        return Ok(None);
    };
    let name = match name {
        Some(n) => n.to_string(),
        None => {
            let Some(api) = state.slack.as_ref() else {
                return Ok(None);
            };
            match api.channel_name(channel).await {
                Ok(Some(n)) => n,
                Ok(None) => return Ok(None),
                Err(e) => {
                    tracing::warn!(error = %e, channel, "cannot read a channel's name");
                    return Ok(None);
                }
            }
        }
    };
    let incident = match match_pattern(pattern, &name) {
        Some(Key::Number(n)) => state.store.incident_by_number(n).await?,
        Some(Key::Id(id)) => IncidentId::parse(&id).ok().map(|i| i.to_string()),
        None => None,
    };
    let Some(incident) = incident else {
        return Ok(None);
    };
    if state
        .store
        .incident(&IncidentId::parse(&incident).map_err(|e| Error::Internal(e.0))?)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    state.store.link_channel(channel, &incident, None).await?;
    tracing::info!(channel, %incident, name, "channel linked by its name");
    Ok(Some(incident))
}

enum Key {
    Number(i64),
    Id(String),
}

/// Matches a channel name against `inc-{number}` / `inc-{id}` (case-insensitive).
fn match_pattern(pattern: &str, name: &str) -> Option<Key> {
    let (prefix, rest, key) = if let Some((p, r)) = pattern.split_once("{number}") {
        (p, r, "number")
    } else if let Some((p, r)) = pattern.split_once("{id}") {
        (p, r, "id")
    } else {
        return None;
    };
    let name = name.to_ascii_lowercase();
    let middle = name
        .strip_prefix(&prefix.to_ascii_lowercase())?
        .strip_suffix(&rest.to_ascii_lowercase())?;
    if middle.is_empty() {
        return None;
    }
    match key {
        "number" => middle.parse().ok().map(Key::Number),
        _ => Some(Key::Id(middle.to_ascii_uppercase())),
    }
}

/// What Slack sends for a slash command (form-encoded).
#[derive(Debug, Default, Deserialize)]
struct CommandForm {
    #[serde(default)]
    ssl_check: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    channel_name: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    response_url: String,
}

/// How long an answer may take before it goes through `response_url` instead.
const INLINE_BUDGET: Duration = Duration::from_millis(2500);

#[utoipa::path(post, path = "/webhooks/slack/commands", tag = "webhooks", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Slack's slash-command form, v0-signed"), responses((status = 200, description = "The answer (errors inside)", body = Object), (status = 400, description = "Not a form", body = ErrorBody), (status = 401, description = "Unsigned, forged or stale", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)))]
async fn command(
    State(state): State<AppState>,
    SlackSigned(raw, _): SlackSigned<signed::Command>,
) -> Result<Response> {
    let form: CommandForm = serde_urlencoded::from_bytes(&raw.bytes)
        .map_err(|e| Error::BadRequest(format!("not a slash-command form: {e}")))?;
    state
        .metrics
        .webhooks
        .with_label_values(&["slack_command", "accepted"])
        .inc();
    if form.ssl_check.as_deref() == Some("1") {
        return Ok(axum::http::StatusCode::OK.into_response());
    }
    let text = form.text.trim();
    let (sub, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(a, b)| (a, b.trim()));
    let answer = match sub.to_ascii_lowercase().as_str() {
        "similar" => similar(&state, rest, &form).await,
        "draft" | "generate" => draft(&state, rest, &form).await?,
        "link" => link(&state, rest, &form).await?,
        "help" | "" => help(None),
        other => help(Some(other)),
    };
    Ok(Json(answer).into_response())
}

fn ephemeral(text: &str, blocks: Vec<Value>) -> Value {
    json!({ "response_type": "ephemeral", "text": text, "blocks": blocks })
}

fn section(md: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": md } })
}

fn help(unknown: Option<&str>) -> Value {
    let mut lines = Vec::new();
    if let Some(u) = unknown {
        lines.push(format!("I don't know `{}`.", esc(u)));
    }
    lines.push(
        "*`/postmortem` commands*\n\
         • `similar <incident-id | words>`: past incidents like this one, why, and what fixed them\n\
         • `draft <incident-id>` (or `generate`): draft the postmortem again; I'll post here when it's ready\n\
         • `link <incident-id>`: link this channel to the incident, so its conversation is evidence\n\
         • `help`: this message"
            .to_string(),
    );
    let text = lines.join("\n");
    ephemeral(&text, vec![section(&text)])
}

fn incident_link(state: &AppState, id: &str) -> String {
    postmortem_link(&state.config.base_url, id)
}

/// The Block Kit answer for similar incidents.
pub(crate) fn similar_blocks(state: &AppState, query: &str, hits: &[Similar]) -> Value {
    if hits.is_empty() {
        let t = format!("No past incident looks like “{}”.", esc(query));
        return ephemeral(&t, vec![section(&t)]);
    }
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": "Similar past incidents" }
    })];
    for h in hits {
        let mut md = format!(
            "*<{}|{}>* {} ({}, score {:.2})",
            incident_link(state, &h.id),
            esc(&h.id),
            esc(&h.title),
            esc(&h.service),
            h.score
        );
        if !h.why.is_empty() {
            md.push_str(&format!("\n_Why:_ {}", esc(&h.why.join("; "))));
        }
        let fixed = h
            .fixed_by
            .root_cause
            .iter()
            .map(|r| format!("root cause: {r}"))
            .chain(
                h.fixed_by
                    .resolution
                    .iter()
                    .map(|r| format!("resolution: {r}")),
            )
            .chain(
                h.fixed_by
                    .action_items
                    .iter()
                    .take(2)
                    .map(|a| format!("action: {a}")),
            )
            .collect::<Vec<_>>();
        if !fixed.is_empty() {
            md.push_str(&format!("\n_What fixed it:_ {}", esc(&fixed.join(" · "))));
        }
        blocks.push(section(&md));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": format!("for “{}”", esc(query)) }]
    }));
    ephemeral(&format!("{} similar past incidents", hits.len()), blocks)
}

async fn similar(state: &AppState, rest: &str, form: &CommandForm) -> Value {
    let query = if rest.is_empty() {
        // In a linked channel, "similar" alone means the channel's incident.
        match state.store.incident_for_channel(&form.channel_id).await {
            Ok(Some(id)) => id,
            _ => {
                let t = "Give an incident id or some words: `/postmortem similar PGR0VU2` or `/postmortem similar db pool exhausted`.";
                return ephemeral(t, vec![section(t)]);
            }
        }
    } else {
        rest.to_string()
    };
    let search = state.search.clone();
    let q = query.clone();
    let task = tokio::spawn(async move { search.query(&q, 5).await });
    match tokio::time::timeout(INLINE_BUDGET, task).await {
        Ok(Ok(Ok(hits))) => similar_blocks(state, &query, &hits),
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = %e, "similar search failed");
            let t = "The search failed; try again in a minute.";
            ephemeral(t, vec![section(t)])
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "similar search panicked");
            let t = "The search failed; try again in a minute.";
            ephemeral(t, vec![section(t)])
        }
        Err(_) => {
            // Slow (a cold index): answer later through response_url.
            let (st, url) = (state.clone(), form.response_url.clone());
            tokio::spawn(async move {
                if let Ok(hits) = st.search.query(&query, 5).await {
                    respond_later(&url, similar_blocks(&st, &query, &hits)).await;
                }
            });
            let t = "Searching the incident history… I'll post the answer here.";
            ephemeral(t, vec![section(t)])
        }
    }
}

fn parse_id(rest: &str) -> Option<IncidentId> {
    rest.split_whitespace()
        .next()
        .and_then(|w| IncidentId::parse(w).ok())
}

async fn draft(state: &AppState, rest: &str, form: &CommandForm) -> Result<Value> {
    let id = match parse_id(rest) {
        Some(id) => id,
        None => match state.store.incident_for_channel(&form.channel_id).await? {
            Some(id) => IncidentId::parse(&id).map_err(|e| Error::Internal(e.0))?,
            None => {
                let t = "Which incident? `/postmortem draft PGR0VU2`";
                return Ok(ephemeral(t, vec![section(t)]));
            }
        },
    };
    if state.store.incident(&id).await?.is_none() {
        let t = format!(
            "No incident `{}` here. Check the id in PagerDuty.",
            esc(id.as_str())
        );
        return Ok(ephemeral(&t, vec![section(&t)]));
    }
    let job = state
        .store
        .enqueue_job(JobKind::Redraft, Some(id.as_str()), now_millis())
        .await?;
    state.jobs_ready.notify_waiters();
    if !form.response_url.is_empty() {
        let (st, url, job_id, iid) = (
            state.clone(),
            form.response_url.clone(),
            job.clone(),
            id.clone(),
        );
        tokio::spawn(async move { report_draft(st, url, job_id, iid).await });
    }
    let t = format!(
        "Drafting the postmortem of `{}` again (job `{job}`). I'll post here when it's ready.",
        esc(id.as_str())
    );
    Ok(ephemeral(&t, vec![section(&t)]))
}

/// Waits for the redraft job and reports its result through `response_url`.
async fn report_draft(state: AppState, url: String, job: String, id: IncidentId) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30 * 60);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let j = match state.store.job(&job).await {
            Ok(Some(j)) => j,
            _ => continue,
        };
        match j.state.as_str() {
            "done" => break,
            "failed" | "cancelled" => {
                let t = format!("The redraft of `{}` {}.", esc(id.as_str()), j.state);
                respond_later(&url, ephemeral(&t, vec![section(&t)])).await;
                return;
            }
            _ if tokio::time::Instant::now() > deadline => return,
            _ => {}
        }
    }
    let Ok(Some(p)) = state.store.current_postmortem(&id).await else {
        return;
    };
    let top = p.body["root_cause_hypotheses"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["supported"] == true))
        .map(|h| {
            format!(
                "\n*Top hypothesis* (confidence {:.2}): {}",
                h["confidence"].as_f64().unwrap_or(0.0),
                esc(h["hypothesis"].as_str().unwrap_or(""))
            )
        })
        .unwrap_or_default();
    let t = format!(
        "*<{}|Postmortem of {}>*: revision {} by the {} drafter{top}",
        incident_link(&state, id.as_str()),
        esc(id.as_str()),
        p.revision,
        esc(&p.drafter)
    );
    respond_later(
        &url,
        ephemeral(&format!("Postmortem of {id} redrafted"), vec![section(&t)]),
    )
    .await;
}

/// Posts a delayed answer to a slash command's `response_url`.
pub(crate) async fn respond_later(url: &str, body: Value) {
    if url.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot build an HTTP client for response_url");
            return;
        }
    };
    match client.post(url).json(&body).send().await {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => tracing::warn!(status = %r.status(), "Slack refused a delayed answer"),
        Err(e) => tracing::warn!(error = %e, "cannot post a delayed answer to Slack"),
    }
}

async fn link(state: &AppState, rest: &str, form: &CommandForm) -> Result<Value> {
    let Some(id) = parse_id(rest) else {
        let t = "Which incident? `/postmortem link PGR0VU2`";
        return Ok(ephemeral(t, vec![section(t)]));
    };
    if form.channel_id.is_empty() {
        let t = "Run `/postmortem link` from the incident's channel.";
        return Ok(ephemeral(t, vec![section(t)]));
    }
    let Some(inc) = state.store.incident(&id).await? else {
        let t = format!(
            "No incident `{}` here. Check the id in PagerDuty.",
            esc(id.as_str())
        );
        return Ok(ephemeral(&t, vec![section(&t)]));
    };
    let by = (!form.user_id.is_empty()).then_some(form.user_id.as_str());
    state
        .store
        .link_channel(&form.channel_id, id.as_str(), by)
        .await?;
    let who = if form.user_name.is_empty() {
        String::new()
    } else {
        format!(" by @{}", esc(&form.user_name))
    };
    let t = format!(
        "Linked #{} to `{}` ({}){who}. Messages here are now evidence for its postmortem.",
        esc(if form.channel_name.is_empty() {
            &form.channel_id
        } else {
            &form.channel_name
        }),
        esc(id.as_str()),
        esc(&inc.title)
    );
    Ok(json!({ "response_type": "in_channel", "text": t, "blocks": [section(&t)] }))
}
