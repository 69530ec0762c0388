//! Slack messages as people read them. Slack escapes `&`, `<` and `>` in message text and wraps
//! links, mentions and channels in `<…>` (<https://api.slack.com/reference/surfaces/formatting>):
//! `<https://x.example|dashboard>` reads "dashboard", `<@U0LEE0001>` "@Lee Park" when the bot
//! token can read the name (else "@U0LEE0001"), `<#C123|ops>` "#ops", `<!here>` "@here", and
//! `&gt;` ">". The text as Slack sent it is kept beside the readable one, for audit.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

use crate::store::slack::SlackMessage;

static ANGLED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<([^<>|]*)(?:\|([^<>]*))?>").expect("a valid built-in pattern"));

/// Display names by Slack user id (`U…`/`W…`), from `users.info`.
pub type Names = HashMap<String, String>;

/// One state of a message as Slack sent it: posted, edited (`edited` is the edit's `ts`), or
/// read back from the channel's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub ts: String,
    pub thread_ts: Option<String>,
    /// The author's user id.
    pub user: Option<String>,
    /// The text as Slack sent it (mrkdwn, escaped).
    pub text: String,
    /// The `ts` of the edit this state is (`edited.ts`, else the edit event's own `ts`).
    pub edited: Option<String>,
}

impl Posted {
    /// A message object of the Events API (a `message` event, or the `message` of a
    /// `message_changed`); `edit_ts` is the edit event's `ts`, used when the message carries no
    /// `edited.ts`. `None` without a `ts`.
    pub fn from_event(m: &Value, edit_ts: Option<&str>) -> Option<Self> {
        Some(Self {
            ts: m["ts"].as_str()?.to_string(),
            thread_ts: m["thread_ts"].as_str().map(String::from),
            user: m["user"].as_str().map(String::from),
            text: m["text"].as_str().unwrap_or_default().to_string(),
            edited: m["edited"]["ts"].as_str().or(edit_ts).map(String::from),
        })
    }

    /// The users whose names reading this message needs: its author and everyone it mentions.
    pub fn users(&self) -> impl Iterator<Item = String> + '_ {
        self.user.clone().into_iter().chain(
            ANGLED
                .captures_iter(&self.text)
                .filter(|c| c.get(2).is_none())
                .filter_map(|c| c[1].strip_prefix('@').map(String::from)),
        )
    }

    /// The message as evidence of `channel`: readable text, the author's name where known, the
    /// raw text kept when it reads differently.
    pub fn readable(&self, channel: &str, names: &Names) -> SlackMessage {
        let text = plain_text_with(&self.text, names);
        SlackMessage {
            channel: channel.to_string(),
            ts: self.ts.clone(),
            thread_ts: self.thread_ts.clone(),
            user: self
                .user
                .as_ref()
                .map(|u| names.get(u).cloned().unwrap_or_else(|| u.clone())),
            raw: (text != self.text).then(|| self.text.clone()),
            text,
            edited: self.edited.clone(),
        }
    }
}

/// The plain text of a Slack message's `text`, mentions left as user ids.
pub fn plain_text(mrkdwn: &str) -> String {
    plain_text_with(mrkdwn, &Names::new())
}

/// The plain text of a Slack message's `text`, mentions by the names in `names`.
pub fn plain_text_with(mrkdwn: &str, names: &Names) -> String {
    let replaced = ANGLED.replace_all(mrkdwn, |c: &Captures| {
        let target = &c[1];
        let label = c.get(2).map(|m| m.as_str()).filter(|l| !l.is_empty());
        match (target.chars().next(), label) {
            (Some('@'), Some(l)) => format!("@{}", l.trim_start_matches('@')),
            (Some('@'), None) => match names.get(&target[1..]) {
                Some(name) => format!("@{name}"),
                None => target.to_string(),
            },
            (Some('#'), Some(l)) => format!("#{l}"),
            (Some('#'), None) => target.to_string(),
            (Some('!'), Some(l)) => l.to_string(),
            (Some('!'), None) => {
                let special = target.trim_start_matches('!');
                format!("@{}", special.split('^').next().unwrap_or(special))
            }
            (_, Some(l)) => l.to_string(),
            (_, None) => target.to_string(),
        }
    });
    replaced
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_links_and_mentions_read_as_people_wrote_them() {
        assert_eq!(
            plain_text(
                "timeout went 5s -&gt; 30s &amp; pool is full, see \
                 <https://grafana.example.com/d/abc?from=1&amp;to=2|dashboard> cc <@U0LEE0001>"
            ),
            "timeout went 5s -> 30s & pool is full, see dashboard cc @U0LEE0001"
        );
        assert_eq!(
            plain_text("&gt; is it the pgbouncer change?\nno"),
            "> is it the pgbouncer change?\nno"
        );
        assert_eq!(
            plain_text("<https://x.example> in <#C1|ops> <!here> <!subteam^S1|@sre>"),
            "https://x.example in #ops @here @sre"
        );
        assert_eq!(plain_text("&amp;lt; stays literal"), "&lt; stays literal");
    }
}
