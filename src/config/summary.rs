//! What is configured, in words: the start-up line of `serve`, so an operator sees at once which
//! integrations are on and what an unset one means (a route answering 503, a drafter without a
//! model). Secrets are never shown, only whether they are set.

use super::Config;

impl Config {
    /// Each integration and whether it is on, as (name, state in words), in a fixed order.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        let on_off = |on: bool, on_text: &str, off_text: &str| {
            if on { on_text } else { off_text }.to_string()
        };
        let pagerduty = match self.pagerduty_webhook_secrets.len() {
            0 => "off (no PAGERDUTY_WEBHOOK_SECRETS: its webhooks answer 503)".to_string(),
            1 => "on".to_string(),
            n => format!("on ({n} secrets, rotating)"),
        };
        let slack = match (
            self.slack_signing_secret.is_some(),
            self.slack_bot_token.is_some(),
        ) {
            (true, true) => "events and commands, Web API (backfill, names, announcements)".into(),
            (true, false) => {
                "events and commands; no SLACK_BOT_TOKEN (no backfill, names or announcements)"
                    .into()
            }
            (false, true) => {
                "Web API only; no SLACK_SIGNING_SECRET (its webhooks answer 503)".into()
            }
            (false, false) => "off".into(),
        };
        let llm = match &self.llm_model {
            Some(model) => format!(
                "{model} at {}",
                self.openai_base_url
                    .as_deref()
                    .unwrap_or("https://api.openai.com/v1")
            ),
            None => "none (the evidence drafter alone)".into(),
        };
        vec![
            ("database", redact_url(&self.database_url)),
            ("pagerduty", pagerduty),
            (
                "change_events_and_lineage",
                on_off(
                    self.ingest_token.is_some(),
                    "on",
                    "off (no POSTMORTEM_INGEST_TOKEN: they answer 503)",
                ),
            ),
            ("slack", slack),
            (
                "github",
                on_off(
                    self.github_webhook_secret.is_some(),
                    "on",
                    "off (no GITHUB_WEBHOOK_SECRET: its webhook answers 503)",
                ),
            ),
            ("llm", llm),
            (
                "prometheus",
                self.prometheus_url
                    .clone()
                    .unwrap_or_else(|| "none (no metrics evidence)".into()),
            ),
            (
                "api",
                on_off(
                    self.api_token.is_some(),
                    "token required",
                    "open (loopback only, no POSTMORTEM_API_TOKEN)",
                ),
            ),
        ]
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_is_on_and_never_shows_a_secret() {
        let mut c = Config {
            database_url: "postgres://pm:hunter2@db.internal/pm".into(),
            pagerduty_webhook_secrets: vec![
                "s3cret-one".to_string().into(),
                "s3cret-two".to_string().into(),
            ],
            slack_signing_secret: Some("slack-s3cret".to_string().into()),
            ..Config::default()
        };
        c.llm_model = Some("llama3.1".into());
        c.openai_base_url = Some("http://127.0.0.1:11434/v1".into());
        let text = format!("{:?}", c.summary());
        for secret in ["hunter2", "s3cret-one", "slack-s3cret"] {
            assert!(!text.contains(secret), "{text}");
        }
        let get = |k: &str| c.summary().into_iter().find(|(n, _)| *n == k).unwrap().1;
        assert_eq!(get("pagerduty"), "on (2 secrets, rotating)");
        assert!(
            get("slack").contains("no SLACK_BOT_TOKEN"),
            "{}",
            get("slack")
        );
        assert_eq!(get("llm"), "llama3.1 at http://127.0.0.1:11434/v1");
        assert!(get("github").starts_with("off"), "{}", get("github"));
        assert!(
            get("database").starts_with("postgres://pm:"),
            "{}",
            get("database")
        );
        assert_eq!(Config::default().summary().len(), c.summary().len());
    }
}
