//! PagerDuty V3 webhooks into domain events.
//! Spec: <https://developer.pagerduty.com/docs/webhooks-overview> (V3 envelope `event.{id,
//! event_type, resource_type, occurred_at, agent, client, data}`). `data` is an incident for
//! lifecycle events, an `incident_note` for `incident.annotated` and an `incident_status_update`
//! for status updates; more types may appear at any time and are accepted.

use serde::Deserialize;
use serde_json::Value;

use super::BadPayload;
use crate::config::Config;
use crate::domain::{
    IncidentEvent, IncidentId, IncidentSnapshot, PagerDutyWebhook, Severity, Status, parse_time,
    to_millis,
};

#[derive(Deserialize)]
struct Envelope {
    event: RawEvent,
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    event_type: String,
    #[serde(default)]
    resource_type: Option<String>,
    occurred_at: String,
    #[serde(default)]
    agent: Option<Reference>,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize, Default)]
struct Reference {
    #[serde(default)]
    summary: Option<String>,
}

/// Parses a verified body. Services are named through the configuration's mapping.
pub fn parse(body: &[u8], config: &Config) -> Result<PagerDutyWebhook, BadPayload> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| BadPayload::new(format!("not a PagerDuty V3 webhook: {e}")))?;
    let ev = env.event;
    if ev.id.trim().is_empty() {
        return Err(BadPayload::new("event.id is empty"));
    }
    let occurred_at = parse_time(&ev.occurred_at)
        .map_err(|e| BadPayload::new(format!("event.occurred_at: {e}")))?;
    let is_incident =
        ev.resource_type.as_deref() == Some("incident") || ev.event_type.starts_with("incident.");
    if !is_incident {
        return Ok(PagerDutyWebhook::Other {
            event_id: ev.id,
            event_type: ev.event_type,
        });
    }
    let data_type = ev.data.get("type").and_then(Value::as_str).unwrap_or("");
    let incident_ref = match data_type {
        "incident" => ev.data.get("id"),
        // `incident.role.assigned` names its incident inside each assignment.
        "incident_role_assignment" => ev.data.pointer("/incident_role_assignments/0/incident/id"),
        _ => ev.data.get("incident").and_then(|i| i.get("id")),
    };
    let Some(incident_ref) = incident_ref.and_then(Value::as_str) else {
        // An incident event type we cannot tie to an incident: keep it, acknowledge it.
        return Ok(PagerDutyWebhook::Other {
            event_id: ev.id,
            event_type: ev.event_type,
        });
    };
    let incident_id = IncidentId::parse(incident_ref)
        .map_err(|e| BadPayload::new(format!("event.data incident id: {e}")))?;
    let agent = ev.agent.as_ref().and_then(|a| a.summary.clone());
    let snapshot = if data_type == "incident" {
        Some(snapshot(&ev.data, config)?)
    } else {
        None
    };
    let (kind, text) = describe(&ev.event_type, &ev.data, snapshot.as_ref());
    Ok(PagerDutyWebhook::Incident(Box::new(IncidentEvent {
        event_id: ev.id,
        event_type: ev.event_type,
        occurred_at: to_millis(occurred_at),
        incident_id,
        agent,
        snapshot,
        text,
        kind,
    })))
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn summaries(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    // Assignments in the REST shape nest the user under `assignee`.
                    str_at(r, "summary")
                        .or_else(|| r.get("assignee").and_then(|a| str_at(a, "summary")))
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn snapshot(data: &Value, config: &Config) -> Result<IncidentSnapshot, BadPayload> {
    let status = str_at(data, "status")
        .map(Status::parse)
        .transpose()
        .map_err(|e| BadPayload::new(format!("event.data.status: {e}")))?
        .unwrap_or(Status::Triggered);
    let service = data.get("service");
    let service_ref = service.and_then(|s| str_at(s, "id")).map(str::to_string);
    let service_name = config.service_for_pagerduty(
        service_ref.as_deref(),
        service.and_then(|s| str_at(s, "summary")),
    );
    let urgency = str_at(data, "urgency").map(str::to_string);
    let created_at = str_at(data, "created_at")
        .and_then(|t| parse_time(t).ok())
        .map(to_millis);
    Ok(IncidentSnapshot {
        title: str_at(data, "title")
            .or_else(|| str_at(data, "summary"))
            .unwrap_or("")
            .to_string(),
        service: service_name,
        service_ref,
        status,
        severity: severity(config, data.get("priority"), urgency.as_deref()),
        urgency,
        number: data
            .get("number")
            .or_else(|| data.get("incident_number"))
            .and_then(Value::as_i64),
        html_url: str_at(data, "html_url").map(str::to_string),
        assignees: summaries(data, "assignees"),
        teams: summaries(data, "teams"),
        created_at,
        merged_into: data
            .get("resolve_reason")
            .filter(|r| str_at(r, "type") == Some("merge_resolve_reason"))
            .and_then(|r| r.get("incident"))
            .and_then(|i| str_at(i, "id"))
            .map(str::to_string),
    })
}

/// An incident's severity from its PagerDuty `priority` (webhook or REST shape), else its
/// urgency. A priority that is set but neither mapped nor numbered is logged, so an account's own
/// priority names are noticed and mapped (`[pagerduty_priorities]`), not silently replaced.
pub(crate) fn severity(
    config: &Config,
    priority: Option<&Value>,
    urgency: Option<&str>,
) -> Option<Severity> {
    let priority = priority.filter(|p| !p.is_null());
    let id = priority.and_then(|p| str_at(p, "id"));
    let name = priority.and_then(|p| str_at(p, "summary").or_else(|| str_at(p, "name")));
    if let Some(s) = config.severity_for_priority(id, name) {
        return Some(s);
    }
    if priority.is_some() {
        tracing::warn!(
            priority.id = id.unwrap_or_default(),
            priority.name = name.unwrap_or_default(),
            urgency = urgency.unwrap_or_default(),
            "a PagerDuty priority that is neither mapped in [pagerduty_priorities] nor numbered; \
             the urgency sets the severity"
        );
    }
    Severity::from_urgency(urgency)
}

/// The timeline kind and text for an event: what happened, in words, for every event type
/// PagerDuty documents (<https://developer.pagerduty.com/docs/webhooks-overview>); an undocumented
/// type reads as its words ("incident.foo_bar.baz" → "foo bar baz").
fn describe(event_type: &str, data: &Value, snap: Option<&IncidentSnapshot>) -> (String, String) {
    let short = event_type.strip_prefix("incident.").unwrap_or(event_type);
    let kind = match short {
        "annotated" => "note".to_string(),
        "status_update_published" => "status_update".to_string(),
        "responder.added" | "responder.replied" => "responder".to_string(),
        other => other.replace('.', "_"),
    };
    let summary = |key: &str| data.get(key).and_then(|v| str_at(v, "summary"));
    let text = match short {
        "annotated" => str_at(data, "content").unwrap_or("").to_string(),
        "status_update_published" => str_at(data, "message").unwrap_or("").to_string(),
        "responder.added" | "responder.replied" => {
            let who = summary("user").unwrap_or("A responder");
            let msg = str_at(data, "message").unwrap_or("").trim();
            let text = match (short, str_at(data, "state")) {
                ("responder.added", _) => format!("Responder {who} asked to help"),
                (_, Some(state)) => format!("Responder {who} {state}"),
                _ => format!("Responder {who} replied"),
            };
            if msg.is_empty() {
                text
            } else {
                format!("{text}: {msg}")
            }
        }
        "triggered" => format!(
            "Incident triggered: {}",
            snap.map(|s| s.title.as_str()).unwrap_or("")
        ),
        "acknowledged" => "Acknowledged".into(),
        "unacknowledged" => "Acknowledgement timed out".into(),
        "resolved" => match snap.and_then(|s| s.merged_into.as_deref()) {
            Some(into) => format!("Resolved: merged into {into}"),
            None => "Resolved".into(),
        },
        "reopened" => "Reopened".into(),
        "escalated" | "delegated" | "reassigned" => {
            let to = snap.map(|s| s.assignees.join(", ")).unwrap_or_default();
            let verb = match short {
                "escalated" => "Escalated",
                "delegated" => "Delegated",
                _ => "Reassigned",
            };
            match (summary("escalation_policy"), to.is_empty()) {
                (Some(policy), false) if short != "reassigned" => {
                    format!("{verb} to {to} (escalation policy {policy})")
                }
                (Some(policy), true) => format!("{verb} to escalation policy {policy}"),
                _ if to.is_empty() => verb.to_string(),
                _ => format!("{verb} to {to}"),
            }
        }
        "priority_updated" => format!("Priority set to {}", summary("priority").unwrap_or("none")),
        "service_updated" => format!(
            "Moved to service {}",
            summary("service").unwrap_or("unknown")
        ),
        "incident_type.changed" => format!(
            "Incident type changed to {}",
            data.pointer("/incident_type/name")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
        ),
        "conference_bridge.updated" => {
            let numbers: Vec<&str> = data["conference_numbers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| str_at(n, "number"))
                .collect();
            let parts: Vec<&str> = str_at(data, "conference_url")
                .into_iter()
                .chain(numbers)
                .collect();
            format!("Conference bridge set: {}", parts.join(", "))
        }
        "custom_field_values.updated" => {
            // `custom_fields` holds the values now; `changed_custom_fields` names which changed.
            let changed: Vec<&str> = data["changed_custom_fields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| str_at(f, "name"))
                .collect();
            let values: Vec<String> = data["custom_fields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| {
                    changed.is_empty() || str_at(f, "name").is_some_and(|n| changed.contains(&n))
                })
                .filter_map(|f| {
                    let value = match &f["value"] {
                        Value::String(v) => v.clone(),
                        Value::Null => "(none)".into(),
                        other => other.to_string(),
                    };
                    Some(format!("{} = {value}", str_at(f, "name")?))
                })
                .collect();
            format!("Custom fields set: {}", values.join(", "))
        }
        "role.assigned" => {
            let roles: Vec<String> = data["incident_role_assignments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    let role = a.get("role").and_then(|r| str_at(r, "summary"));
                    let who = a.get("assignee").and_then(|u| str_at(u, "summary"));
                    format!(
                        "{} assigned to {}",
                        role.unwrap_or("A role"),
                        who.unwrap_or("nobody")
                    )
                })
                .collect();
            roles.join("; ")
        }
        "task.created" | "task.updated" | "task.completed" => {
            let verb = short.trim_start_matches("task.");
            let name = str_at(data, "name")
                .or(str_at(data, "summary"))
                .unwrap_or("");
            let status = str_at(data, "status")
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!("Task {verb}: {name}{status}")
        }
        "action_invocation.created"
        | "action_invocation.updated"
        | "action_invocation.terminated" => {
            let action = summary("action").unwrap_or("an automation action");
            let state =
                str_at(data, "state").unwrap_or(short.trim_start_matches("action_invocation."));
            format!("Automation action {action}: {state}")
        }
        "workflow.started" | "workflow.completed" => format!(
            "Incident workflow {} {}",
            summary("incident_workflow")
                .or(str_at(data, "summary"))
                .unwrap_or(""),
            short.trim_start_matches("workflow.")
        ),
        other => {
            let words = other.replace(['.', '_'], " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    };
    (kind, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/fixtures/reference/pagerduty/webhooks/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn reference_bodies_parse_into_the_right_events() {
        let c = Config::default();
        let PagerDutyWebhook::Incident(t) = parse(&reference("incident_triggered"), &c).unwrap()
        else {
            panic!("triggered is about an incident")
        };
        assert_eq!(t.incident_id.as_str(), "PFQZPSY");
        let s = t.snapshot.as_ref().unwrap();
        assert_eq!(s.service, "pig208");
        assert_eq!(s.severity.unwrap().to_string(), "sev2");
        assert_eq!(s.assignees, vec!["PIG 208"]);

        let PagerDutyWebhook::Incident(n) = parse(&reference("incident_annotated"), &c).unwrap()
        else {
            panic!("a note is about an incident")
        };
        assert_eq!(n.incident_id.as_str(), "Q3B15VLMF3ASBD");
        assert_eq!(n.kind, "note");
        assert!(n.text.contains("KILL on long-running queries"));
        assert!(n.snapshot.is_none());

        let PagerDutyWebhook::Incident(r) = parse(&reference("incident_reopened"), &c).unwrap()
        else {
            panic!()
        };
        let s = r.snapshot.as_ref().unwrap();
        assert_eq!(
            s.severity.unwrap().to_string(),
            "sev3",
            "priority wins over urgency"
        );
        assert!(s.created_at.is_some());

        assert!(matches!(
            parse(&reference("pagey_ping"), &c).unwrap(),
            PagerDutyWebhook::Other { .. }
        ));
        assert!(matches!(
            parse(&reference("service_updated"), &c).unwrap(),
            PagerDutyWebhook::Other { .. }
        ));
        assert!(parse(b"{}", &c).is_err());
        assert!(parse(b"not json", &c).is_err());
    }
}
