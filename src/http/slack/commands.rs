//! The `/postmortem` slash command: `similar`, `draft`, `link`, `help`.

#[allow(unused_imports)]
use crate::http::openapi::ErrorBody;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::IncidentId;
use crate::http::AppState;
use crate::http::error::{Error, Result};
use crate::http::signed::{self, SlackSigned};
use crate::notify::slack::{esc, postmortem_link};
use crate::patterns::similar::Similar;

/// What Slack sends for a slash command (form-encoded).
#[derive(Debug, Default, Deserialize)]
pub(super) struct CommandForm {
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
pub(super) const INLINE_BUDGET: Duration = Duration::from_millis(2500);

#[utoipa::path(post, path = "/webhooks/slack/commands", tag = "webhooks", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Slack's slash-command form, v0-signed"), responses((status = 200, description = "The answer (errors inside)", body = Object), (status = 400, description = "Not a form", body = ErrorBody), (status = 401, description = "Unsigned, forged or stale", body = ErrorBody), (status = 413, description = "Over 1 MiB", body = ErrorBody)))]
pub(super) async fn command(
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
    // A replay of a command already acted on (the same signature) is acknowledged, not redone.
    let signature = raw
        .headers
        .get("x-slack-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !state.store.first_slack_command(signature).await? {
        state
            .metrics
            .webhooks
            .with_label_values(&["slack_command", "duplicate"])
            .inc();
        return Ok(Json(ephemeral(
            "This command was already received; it was not run again.",
            vec![],
        ))
        .into_response());
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

pub(super) fn ephemeral(text: &str, blocks: Vec<Value>) -> Value {
    json!({ "response_type": "ephemeral", "text": text, "blocks": blocks })
}

pub(super) fn section(md: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": md } })
}

pub(super) fn help(unknown: Option<&str>) -> Value {
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

pub(super) fn incident_link(state: &AppState, id: &str) -> String {
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

pub(super) async fn similar(state: &AppState, rest: &str, form: &CommandForm) -> Value {
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

pub(super) fn parse_id(rest: &str) -> Option<IncidentId> {
    rest.split_whitespace()
        .next()
        .and_then(|w| IncidentId::parse(w).ok())
}

pub(super) async fn draft(state: &AppState, rest: &str, form: &CommandForm) -> Result<Value> {
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
    let actor = match form.user_name.as_str() {
        "" => "slack".to_string(),
        name => format!("@{name}"),
    };
    let job = match crate::review::regenerate(&state.desk(), &id, &actor).await {
        Ok(job) => job,
        Err(crate::review::ReviewError::NotFound(_)) => {
            let t = format!(
                "No incident `{}` here. Check the id in PagerDuty.",
                esc(id.as_str())
            );
            return Ok(ephemeral(&t, vec![section(&t)]));
        }
        Err(e) => return Err(e.into()),
    };
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
pub(super) async fn report_draft(state: AppState, url: String, job: String, id: IncidentId) {
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
        p.header.revision,
        esc(&p.header.drafter)
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

pub(super) async fn link(state: &AppState, rest: &str, form: &CommandForm) -> Result<Value> {
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
