//! Change events: our own format and PagerDuty Change Events, on `POST /webhooks/changes`.
//! PagerDuty Change Events: <https://developer.pagerduty.com/docs/events-api-v2/send-change-events/>.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::BadPayload;
use crate::config::Config;
use crate::domain::{Change, ChangeKind, canonical_service, parse_time, to_millis};

/// Our change-event format, as sent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    id: Option<String>,
    service: Option<String>,
    kind: Option<String>,
    summary: Option<String>,
    /// RFC 3339, or epoch seconds or milliseconds (a number or digits, as CI scripts send);
    /// absent means now.
    #[serde(default)]
    at: Option<Value>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    url: Option<String>,
    /// The deployment environment (an addition): one the configuration marks non-production
    /// makes the change evidence only, never a cause.
    #[serde(default)]
    environment: Option<String>,
}

impl ChangeInput {
    /// Validates and names the service canonically.
    pub fn into_change(self, config: &Config, source: &str) -> Result<Change, BadPayload> {
        let id = required(self.id, "id")?;
        if id.len() > 128
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:@/-".contains(&b))
        {
            return Err(BadPayload::new(format!(
                "id {id:?} must be 1-128 characters of [A-Za-z0-9._:@/-]"
            )));
        }
        let service = required(self.service, "service")?;
        let kind =
            ChangeKind::parse(&required(self.kind, "kind")?).map_err(|e| BadPayload::new(e.0))?;
        let summary = required(self.summary, "summary")?;
        let (at, summary) = match self.at.as_ref().filter(|v| !v.is_null()) {
            Some(v) => (change_time(v)?, summary),
            None => (
                crate::domain::now_millis(),
                format!("{summary} (time of receipt: the event had no `at`)"),
            ),
        };
        Ok(Change {
            id,
            service: config.resolve_service_name(&service),
            kind,
            summary,
            at,
            version: self.version.filter(|v| !v.is_empty()),
            author: self.author.filter(|v| !v.is_empty()),
            url: self.url.filter(|v| !v.is_empty()),
            source: source.into(),
            production: !self
                .environment
                .as_deref()
                .is_some_and(|e| config.is_non_production(e)),
            environment: self.environment.filter(|e| !e.trim().is_empty()),
            lineage: None,
        })
    }
}

/// A change's time: RFC 3339 (`2026-10-02T14:12:00Z`, `+0000` offsets too) or epoch seconds or
/// milliseconds, as a number or a string of digits (a value above 10^11 is milliseconds).
fn change_time(v: &Value) -> Result<crate::domain::Millis, BadPayload> {
    let epoch = |n: f64| {
        if !n.is_finite() || n <= 0.0 {
            return None;
        }
        Some(if n >= 1e11 {
            n as i64
        } else {
            (n * 1000.0) as i64
        })
    };
    let bad = |shown: String| {
        BadPayload::new(format!(
            "`at` {shown} is neither an RFC 3339 time (2026-10-02T14:12:00Z) nor epoch seconds or \
             milliseconds"
        ))
    };
    match v {
        Value::Number(n) => n.as_f64().and_then(epoch).ok_or_else(|| bad(n.to_string())),
        Value::String(s)
            if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.trim()
                .parse::<f64>()
                .ok()
                .and_then(epoch)
                .ok_or_else(|| bad(format!("{s:?}")))
        }
        Value::String(s) => parse_time(s)
            .map(to_millis)
            .map_err(|_| bad(format!("{s:?}"))),
        other => Err(bad(other.to_string())),
    }
}

fn required(v: Option<String>, name: &str) -> Result<String, BadPayload> {
    match v.map(|s| s.trim().to_string()) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(BadPayload::new(format!("`{name}` is required"))),
    }
}

/// Parses a body on `/webhooks/changes`: one change event, an array of them, or a PagerDuty
/// Change Event (recognised by its `routing_key`).
pub fn parse(body: &[u8], config: &Config) -> Result<Vec<Change>, BadPayload> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| BadPayload::new(format!("body is not JSON: {e}")))?;
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(BadPayload::new(
                    "empty array: send at least one change event",
                ));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    one(v, body, config).map_err(|e| BadPayload::new(format!("item {i}: {e}")))
                })
                .collect()
        }
        v @ Value::Object(_) => Ok(vec![one(v, body, config)?]),
        _ => Err(BadPayload::new(
            "expected a change event object or an array of them",
        )),
    }
}

fn one(v: Value, body: &[u8], config: &Config) -> Result<Change, BadPayload> {
    if v.get("routing_key").is_some() {
        return pagerduty_change(&v, body, config);
    }
    let input: ChangeInput =
        serde_json::from_value(v).map_err(|e| BadPayload::new(format!("change event: {e}")))?;
    input.into_change(config, "api")
}

/// PagerDuty Change Event: service from the routing key's mapping (else `custom_details.service`,
/// else `payload.source`), kind from `custom_details.kind` (default deploy), id from a hash of
/// the event.
fn pagerduty_change(v: &Value, body: &[u8], config: &Config) -> Result<Change, BadPayload> {
    let routing_key = v
        .get("routing_key")
        .and_then(Value::as_str)
        .ok_or_else(|| BadPayload::new("routing_key must be a string"))?;
    let payload = v
        .get("payload")
        .ok_or_else(|| BadPayload::new("PagerDuty change event without `payload`"))?;
    let text = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_string);
    let details = payload.get("custom_details");
    let detail = |k: &str| {
        details
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let summary = text("summary")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| BadPayload::new("payload.summary is required"))?;
    if summary.chars().count() > 1024 {
        return Err(BadPayload::new(
            "payload.summary is longer than 1024 characters",
        ));
    }
    let service = config
        .service_for_routing_key(routing_key)
        .or_else(|| detail("service").map(|s| config.resolve_service_name(&s)))
        .or_else(|| text("source").map(|s| canonical_service(&s)))
        .ok_or_else(|| {
            BadPayload::new(format!(
                "routing_key {routing_key:?} is not mapped to a service (configure services.<name>.routing_keys) and the event names none"
            ))
        })?;
    let kind = match detail("kind") {
        Some(k) => ChangeKind::parse(&k)
            .map_err(|e| BadPayload::new(format!("custom_details.kind: {e}")))?,
        None => ChangeKind::Deploy,
    };
    let at = match text("timestamp") {
        Some(t) => to_millis(
            parse_time(&t).map_err(|e| BadPayload::new(format!("payload.timestamp: {e}")))?,
        ),
        None => crate::domain::now_millis(),
    };
    // One event, one id: hash the canonical JSON of this event (an array's items hash apart).
    let canonical = serde_json::to_vec(v).unwrap_or_else(|_| body.to_vec());
    let hash = hex::encode(Sha256::digest(&canonical));
    let url = v
        .get("links")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(|l| l.get("href"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Change {
        id: format!("pd:{}", &hash[..20]),
        service,
        kind,
        summary,
        at,
        version: detail("version").or_else(|| detail("build_number")),
        author: detail("author"),
        url,
        source: "pagerduty".into(),
        environment: None,
        production: true,
        lineage: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_scripts_may_send_epoch_times_or_none() {
        let c = Config::default();
        let at = |v: &str| {
            let body = format!(r#"{{"id":"d-1","service":"a","kind":"deploy","summary":"s"{v}}}"#);
            parse(body.as_bytes(), &c).map(|mut v| v.remove(0))
        };
        let expected = 1_790_949_900_000;
        for v in [
            r#","at":1790949900"#,
            r#","at":1790949900000"#,
            r#","at":"1790949900""#,
            r#","at":"2026-10-02T14:05:00Z""#,
        ] {
            assert_eq!(at(v).unwrap().at, expected, "{v}");
        }
        let before = crate::domain::now_millis();
        let now = at("").unwrap();
        assert!(now.at >= before, "a missing `at` is the time of receipt");
        assert!(now.summary.contains("time of receipt"), "{}", now.summary);
        let e = at(r#","at":"yesterday""#).unwrap_err();
        assert!(
            e.message.contains("`at`") && e.message.contains("epoch"),
            "{}",
            e.message
        );
        assert!(at(r#","at":-5"#).is_err());
    }

    #[test]
    fn our_format_validates_each_required_field() {
        let c = Config::default();
        let ok = br#"{"id":"deploy-1","service":"Payments-API","kind":"config","summary":"s","at":"2026-10-02T14:12:00Z"}"#;
        let ch = parse(ok, &c).unwrap().remove(0);
        assert_eq!(ch.service, "payments-api");
        assert_eq!(ch.evidence_id(), "change:deploy-1");
        for (body, word) in [
            (
                r#"{"service":"a","kind":"deploy","summary":"s","at":"2026-10-02T14:12:00Z"}"#,
                "`id`",
            ),
            (
                r#"{"id":"x","service":"a","kind":"nope","summary":"s","at":"2026-10-02T14:12:00Z"}"#,
                "kind",
            ),
            (
                r#"{"id":"x","service":"a","kind":"deploy","summary":"s","at":"noon"}"#,
                "at",
            ),
            (
                r#"{"id":"x y","service":"a","kind":"deploy","summary":"s","at":"2026-10-02T14:12:00Z"}"#,
                "id",
            ),
            (r#"[]"#, "empty"),
        ] {
            let e = parse(body.as_bytes(), &c).unwrap_err();
            assert!(e.message.contains(word), "{body}: {}", e.message);
        }
    }

    #[test]
    fn pagerduty_change_events_map_routing_key_kind_and_time() {
        let mut c = Config::default();
        c.services.insert(
            "snapshots".into(),
            crate::config::ServiceMapping {
                routing_keys: vec!["samplekeyhere".into()],
                ..Default::default()
            },
        );
        let body = br#"{"routing_key":"samplekeyhere","payload":{"summary":"Build Success","timestamp":"2020-07-17T08:42:58.315+0000","source":"ci","custom_details":{"kind":"config"}}}"#;
        let ch = parse(body, &c).unwrap().remove(0);
        assert_eq!(ch.service, "snapshots");
        assert_eq!(ch.kind, ChangeKind::Config);
        assert!(ch.id.starts_with("pd:"));
        assert_eq!(ch.evidence_id(), format!("change:{}", ch.id));
        assert_eq!(parse(body, &c).unwrap()[0].id, ch.id, "same body, same id");
    }
}
