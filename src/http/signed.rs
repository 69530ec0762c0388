//! Extractors for signed senders: each reads the raw body (at most 1 MiB) and checks it the way its
//! sender signs it, so a handler that compiles has a verified body. An unset secret is a 503 (the
//! sender retries once the configuration is fixed: nothing is lost), a bad signature a 401.
//! PagerDuty: <https://developer.pagerduty.com/docs/verifying-webhook-signatures>;
//! GitHub: <https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>;
//! Slack: <https://api.slack.com/authentication/verifying-requests-from-slack>.

use axum::extract::{FromRequest, Request};

use super::AppState;
use super::error::Error;
use super::extract::RawBody;
use crate::domain::now_millis;
use crate::ingest::signature::{self, SlackRefusal};

fn header<'a>(raw: &'a RawBody, name: &str) -> Option<&'a str> {
    raw.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A PagerDuty V3 webhook whose `X-PagerDuty-Signature` (`v1=<hex HMAC-SHA256>`, any of several
/// while a secret rotates) matches a configured secret.
pub struct PagerDutySigned(pub RawBody);

impl FromRequest<AppState> for PagerDutySigned {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let secrets = &state.config.pagerduty_webhook_secrets;
        if secrets.is_empty() {
            return Err(Error::Unavailable(
                "PagerDuty webhooks are not configured: set PAGERDUTY_WEBHOOK_SECRETS".into(),
            ));
        }
        let raw = RawBody::from_request(req, state).await?;
        if !signature::verify_pagerduty(secrets, header(&raw, "x-pagerduty-signature"), &raw.bytes)
        {
            return Err(Error::Unauthorized(
                "X-PagerDuty-Signature is missing or matches no configured secret".into(),
            ));
        }
        Ok(Self(raw))
    }
}

/// A GitHub webhook whose `X-Hub-Signature-256` (`sha256=<hex HMAC-SHA256>`) matches
/// `GITHUB_WEBHOOK_SECRET`.
pub struct GitHubSigned(pub RawBody);

impl FromRequest<AppState> for GitHubSigned {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let Some(secret) = &state.config.github_webhook_secret else {
            return Err(Error::Unavailable(
                "GitHub webhooks are not configured: set GITHUB_WEBHOOK_SECRET".into(),
            ));
        };
        let raw = RawBody::from_request(req, state).await?;
        if !signature::verify_github(secret, header(&raw, "x-hub-signature-256"), &raw.bytes) {
            return Err(Error::Unauthorized(
                "X-Hub-Signature-256 is missing or does not match GITHUB_WEBHOOK_SECRET".into(),
            ));
        }
        Ok(Self(raw))
    }
}

/// A Slack request whose `X-Slack-Signature` (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`)
/// matches `SLACK_SIGNING_SECRET` and whose timestamp is within 300 s of now. Refusals are
/// counted under the route's source label (`S::SOURCE`).
pub struct SlackSigned<S>(pub RawBody, pub std::marker::PhantomData<S>);

/// The metrics label of a Slack route.
pub trait SlackSource {
    const SOURCE: &'static str;
}

/// The Events API route.
pub struct Events;
impl SlackSource for Events {
    const SOURCE: &'static str = "slack_events";
}

/// The slash-command route.
pub struct Command;
impl SlackSource for Command {
    const SOURCE: &'static str = "slack_command";
}

impl<S: SlackSource> FromRequest<AppState> for SlackSigned<S> {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let count = |label: &str| {
            state
                .metrics
                .webhooks
                .with_label_values(&[S::SOURCE, label])
                .inc()
        };
        let Some(secret) = state.config.slack_signing_secret.as_ref() else {
            count("unconfigured");
            return Err(Error::Unavailable(
                "SLACK_SIGNING_SECRET is not set: Slack requests cannot be verified".into(),
            ));
        };
        let raw = RawBody::from_request(req, state).await?;
        let verdict = signature::verify_slack(
            secret,
            header(&raw, "x-slack-request-timestamp"),
            header(&raw, "x-slack-signature"),
            &raw.bytes,
            now_millis() / 1000,
        );
        let (label, why) = match verdict {
            Ok(()) => return Ok(Self(raw, std::marker::PhantomData)),
            Err(SlackRefusal::Missing) => (
                "unsigned",
                "X-Slack-Signature and X-Slack-Request-Timestamp are required",
            ),
            Err(SlackRefusal::Stale) => {
                ("stale", "the request timestamp is more than 300 s from now")
            }
            Err(SlackRefusal::Forged) => ("bad_signature", "the signature does not match the body"),
        };
        count(label);
        Err(Error::Unauthorized(why.into()))
    }
}
