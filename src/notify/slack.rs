//! Slack's Web API through slack-morphism's client: channel history and thread replies for the
//! backfill (cursor pagination; 429s wait for `Retry-After` and are retried, which also covers
//! the slow limits Slack gives apps outside its Marketplace), channel names for auto-linking, and
//! `chat.postMessage` for announcements. `SLACK_API_URL` points it elsewhere (tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use secrecy::ExposeSecret;
use serde_json::Value;
use slack_morphism::prelude::*;

use crate::config::Config;
use crate::ingest::slack::{Names, Posted};

#[derive(Clone)]
pub struct SlackApi {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
    /// Display names read so far by user id (`None`: Slack knows no such user).
    names: Arc<Mutex<HashMap<String, Option<String>>>>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi").finish_non_exhaustive()
    }
}

/// The longest one Web API call may take, its 429 waits included.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(180);

/// `fut` within [`CALL_TIMEOUT`] (hyper's client has no timeout of its own).
async fn timed<T, E: std::error::Error + Send + Sync + 'static>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(r) => r.with_context(|| what.to_string()),
        Err(_) => anyhow::bail!("{what}: no answer within {CALL_TIMEOUT:?}"),
    }
}

/// The longest a user's name lookup may take: it runs while Slack waits for the event's 200.
const NAME_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Retries of one call after 429s (each waits for Slack's `Retry-After`).
const MAX_RETRIES: usize = 5;
/// Messages per history page (Slack gives non-Marketplace apps at most 15).
const PAGE: u16 = 15;

type Connector = SlackClientHyperHttpsConnector;

/// Every message of a cursor-paginated call (slack-morphism's scroller), each page within
/// [`CALL_TIMEOUT`].
async fn every_page<R>(
    session: &SlackClientSession<'_, Connector>,
    what: &str,
    req: &R,
) -> anyhow::Result<Vec<SlackHistoryMessage>>
where
    R: SlackApiScrollableRequest<Connector, ResponseItemType = SlackHistoryMessage>
        + Send
        + Sync
        + Clone,
    R::ResponseType: SlackApiScrollableResponse<
            CursorType = R::CursorType,
            ResponseItemType = SlackHistoryMessage,
        > + Send
        + Sync
        + Clone,
    R::CursorType: Send + Sync + Clone,
{
    let mut pages = req.scroller();
    let mut out = Vec::new();
    while pages.has_next() {
        let page = timed(what, pages.next_mut(session)).await?;
        out.extend(page.scrollable_items().cloned());
    }
    Ok(out)
}

impl SlackApi {
    /// The client when `SLACK_BOT_TOKEN` is set.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(token) = config.slack_bot_token.as_ref() else {
            return Ok(None);
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("loading the system's TLS roots for Slack")?
            .https_or_http()
            .enable_http1()
            .build();
        let connector = SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(config.slack_api_url.trim_end_matches('/'))
            .with_rate_control(
                SlackApiRateControlConfig::new()
                    .with_max_retries(MAX_RETRIES)
                    .with_max_delay_timeout(std::time::Duration::from_secs(120)),
            );
        Ok(Some(Self {
            client: Arc::new(SlackClient::new(connector)),
            token: SlackApiToken::new(SlackApiTokenValue(token.expose_secret().to_string())),
            names: Default::default(),
        }))
    }

    /// The people's messages of `channel` between `oldest` and `latest` (Slack `ts` strings), with
    /// every thread's replies, oldest first, as Slack sent them; bots' messages and the tombstones
    /// of deleted thread parents are left out.
    pub async fn history(
        &self,
        channel: &str,
        oldest: &str,
        latest: &str,
    ) -> anyhow::Result<Vec<Posted>> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsHistoryRequest::new()
            .with_channel(SlackChannelId(channel.into()))
            .with_oldest(SlackTs(oldest.into()))
            .with_latest(SlackTs(latest.into()))
            .with_inclusive(true)
            .with_limit(PAGE);
        let what = format!("conversations.history of {channel}");
        let top = every_page(&session, &what, &req).await?;
        let mut out: Vec<Posted> = top.iter().filter_map(message).collect();
        let threads = top
            .iter()
            .filter(|m| m.parent.reply_count.unwrap_or(0) > 0)
            .map(|m| m.origin.ts.0.clone());
        for ts in threads {
            let req = SlackApiConversationsRepliesRequest::new(
                SlackChannelId(channel.into()),
                SlackTs(ts.clone()),
            )
            .with_limit(PAGE);
            let what = format!("conversations.replies of {channel} {ts}");
            let replies = every_page(&session, &what, &req).await?;
            // The first message of each page is the thread's parent, already read.
            out.extend(replies.iter().filter_map(message).filter(|m| m.ts != ts));
        }
        out.sort_by(|a, b| a.ts.cmp(&b.ts));
        out.dedup_by(|a, b| a.ts == b.ts);
        Ok(out)
    }

    /// Display names of `users` (ids) by `users.info`: the profile's display name, else the real
    /// name, else the handle. Each id is asked once per process; a user Slack cannot name, or a
    /// call that fails or takes over [`NAME_TIMEOUT`], leaves that id out (read as the id).
    pub async fn user_names(&self, users: impl IntoIterator<Item = String>) -> Names {
        let mut out = Names::new();
        for id in users {
            if out.contains_key(&id) {
                continue;
            }
            let known = self.names.lock().expect("names lock").get(&id).cloned();
            let name = match known {
                Some(name) => name,
                None => match self.user_name(&id).await {
                    Ok(name) => {
                        self.names
                            .lock()
                            .expect("names lock")
                            .insert(id.clone(), name.clone());
                        name
                    }
                    Err(e) => {
                        tracing::warn!(user = %id, error = %format!("{e:#}"), "cannot read a Slack user's name");
                        None
                    }
                },
            };
            if let Some(name) = name {
                out.insert(id, name);
            }
        }
        out
    }

    async fn user_name(&self, id: &str) -> anyhow::Result<Option<String>> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiUsersInfoRequest::new(SlackUserId(id.into()));
        let user = match tokio::time::timeout(NAME_TIMEOUT, session.users_info(&req)).await {
            Err(_) => anyhow::bail!("users.info of {id}: no answer within {NAME_TIMEOUT:?}"),
            Ok(Err(slack_morphism::errors::SlackClientError::ApiError(e)))
                if e.code == "user_not_found" =>
            {
                return Ok(None);
            }
            Ok(r) => r.with_context(|| format!("users.info of {id}"))?.user,
        };
        let profile = user.profile.as_ref();
        Ok([
            profile.and_then(|p| p.display_name.clone()),
            profile.and_then(|p| p.real_name.clone()),
            user.real_name.clone(),
            user.name.clone(),
        ]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty()))
    }

    /// The channel's name (for auto-linking by pattern).
    pub async fn channel_name(&self, channel: &str) -> anyhow::Result<Option<String>> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiConversationsInfoRequest::new(SlackChannelId(channel.into()));
        let info = timed(
            &format!("conversations.info of {channel}"),
            session.conversations_info(&req),
        )
        .await?;
        Ok(info.channel.name)
    }

    /// Posts a Block Kit message (`blocks` as Slack's JSON) with `text` as its fallback.
    pub async fn post(&self, channel: &str, text: &str, blocks: &Value) -> anyhow::Result<()> {
        let blocks: Vec<SlackBlock> =
            serde_json::from_value(blocks.clone()).context("Block Kit blocks")?;
        let session = self.client.open_session(&self.token);
        let req = SlackApiChatPostMessageRequest::new(
            SlackChannelId(channel.into()),
            SlackMessageContent::new()
                .with_text(text.into())
                .with_blocks(blocks),
        );
        timed(
            &format!("chat.postMessage to {channel}"),
            session.chat_post_message(&req),
        )
        .await?;
        Ok(())
    }
}

/// Text escaped for Slack's mrkdwn (`&`, `<`, `>`).
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The link to an incident's postmortem page, for Slack messages.
pub fn postmortem_link(base_url: &str, incident_id: &str) -> String {
    format!("{}/incidents/{incident_id}", base_url.trim_end_matches('/'))
}

/// A person's message as Slack sent it; `None` for a bot's message or the tombstone a deleted
/// thread parent leaves in history.
fn message(m: &SlackHistoryMessage) -> Option<Posted> {
    let not_evidence = [
        SlackMessageEventType::Tombstone,
        SlackMessageEventType::BotMessage,
    ];
    if m.sender.bot_id.is_some() || m.subtype.as_ref().is_some_and(|s| not_evidence.contains(s)) {
        return None;
    }
    Some(Posted {
        ts: m.origin.ts.0.clone(),
        thread_ts: m.origin.thread_ts.as_ref().map(|t| t.0.clone()),
        user: m.sender.user.as_ref().map(|u| u.0.clone()),
        text: m.content.text.clone().unwrap_or_default(),
        edited: m.edited.as_ref().map(|e| e.ts.0.clone()),
    })
}
