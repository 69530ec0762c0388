//! The Events API: messages, edits and deletes in linked channels become timeline entries;
//! channels link to incidents by name.

#[allow(unused_imports)]
use crate::http::openapi::ErrorBody;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::domain::IncidentId;
use crate::http::AppState;
use crate::http::error::{Error, Result};
use crate::http::signed::{self, SlackSigned};
use crate::ingest::slack::Posted;

/// `POST /webhooks/slack/events`: the Events API. The message's effect is stored before the 200
/// (idempotently, so Slack's retries are harmless), then the event id is recorded as handled.
#[utoipa::path(post, path = "/webhooks/slack/events", tag = "webhooks", request_body(content = Object, description = "Slack Events API body, v0-signed"), responses((status = 200, description = "Handled (the challenge for url_verification)", body = Object), (status = 400, description = "Not JSON", body = ErrorBody), (status = 401, description = "Unsigned, forged or stale", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)))]
pub(super) async fn events(
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
pub(super) fn our_bot(v: &Value) -> Vec<&str> {
    v["authorizations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["is_bot"] == true)
        .filter_map(|a| a["user_id"].as_str())
        .collect()
}

/// Applies one event; returns a label for the record.
pub(super) async fn apply_event(state: &AppState, v: &Value) -> Result<&'static str> {
    let e = &v["event"];
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
                    let Some(posted) = Posted::from_event(e, None) else {
                        return Ok("ignored");
                    };
                    store_message(state, &incident, channel, posted).await?;
                    Ok("message")
                }
                Some("message_changed") => {
                    let m = &e["message"];
                    // Deleting a thread's parent leaves a tombstone: Slack sends it as an edit.
                    if m["subtype"] == "tombstone"
                        && let Some(ts) = m["ts"].as_str()
                    {
                        delete_message(state, &incident, channel, ts).await?;
                        return Ok("message_deleted");
                    }
                    if m["bot_id"].is_string()
                        || m["user"].as_str().is_some_and(|u| bots.contains(&u))
                    {
                        return Ok("bot");
                    }
                    // The edit carries the whole message, so it stands in for a post that has
                    // not arrived yet; of two edits the later one wins, whichever comes first.
                    if let Some(posted) = Posted::from_event(m, e["ts"].as_str()) {
                        store_message(state, &incident, channel, posted).await?;
                    }
                    Ok("message_changed")
                }
                Some("message_deleted") => {
                    if let Some(ts) = e["deleted_ts"]
                        .as_str()
                        .or(e["previous_message"]["ts"].as_str())
                    {
                        delete_message(state, &incident, channel, ts).await?;
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

/// Stores one state of a message, its mentions and author by name where the bot token can read
/// them.
async fn store_message(
    state: &AppState,
    incident: &str,
    channel: &str,
    posted: Posted,
) -> Result<()> {
    let names = match state.slack.as_ref() {
        Some(api) => api.user_names(posted.users().collect::<Vec<_>>()).await,
        None => Default::default(),
    };
    let delay = (state.config.draft_delay_secs * 1000) as i64;
    state
        .store
        .put_slack_messages(incident, &[posted.readable(channel, &names)], delay)
        .await?;
    state.jobs_ready.notify_waiters();
    Ok(())
}

async fn delete_message(state: &AppState, incident: &str, channel: &str, ts: &str) -> Result<()> {
    let delay = (state.config.draft_delay_secs * 1000) as i64;
    state
        .store
        .delete_slack_message(incident, channel, ts, delay)
        .await?;
    state.jobs_ready.notify_waiters();
    Ok(())
}

/// The incident a channel is linked to, linking it first when its name matches the pattern.
pub(super) async fn linked_incident(state: &AppState, channel: &str) -> Result<Option<String>> {
    if let Some(id) = state.store.incident_for_channel(channel).await? {
        return Ok(Some(id));
    }
    auto_link(state, channel, None).await
}

/// Links `channel` by the configured name pattern (`inc-{number}`, `inc-{id}`); looks the name up
/// through the Web API when the event did not carry it.
pub(super) async fn auto_link(
    state: &AppState,
    channel: &str,
    name: Option<&str>,
) -> Result<Option<String>> {
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

pub(super) enum Key {
    Number(i64),
    Id(String),
}

/// Matches a channel name against `inc-{number}` / `inc-{id}` (case-insensitive).
pub(super) fn match_pattern(pattern: &str, name: &str) -> Option<Key> {
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
