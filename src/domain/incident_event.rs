//! What the incident's pager says happened: one verified PagerDuty event about an incident, and
//! what the incident looked like in it.

use super::{IncidentId, Millis, Severity, Status};

/// What an incident looked like in an incident-shaped event.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentSnapshot {
    pub title: String,
    pub service: String,
    pub service_ref: Option<String>,
    pub status: Status,
    pub severity: Option<Severity>,
    pub urgency: Option<String>,
    pub number: Option<i64>,
    pub html_url: Option<String>,
    pub assignees: Vec<String>,
    pub teams: Vec<String>,
    pub created_at: Option<Millis>,
    /// The incident PagerDuty merged this one into (`resolve_reason` `merge_resolve_reason`).
    pub merged_into: Option<String>,
}

impl IncidentSnapshot {
    /// A snapshot with only what every incident has; the optional details empty.
    pub fn new(title: impl Into<String>, service: impl Into<String>, status: Status) -> Self {
        IncidentSnapshot {
            title: title.into(),
            service: service.into(),
            service_ref: None,
            status,
            severity: None,
            urgency: None,
            number: None,
            html_url: None,
            assignees: vec![],
            teams: vec![],
            created_at: None,
            merged_into: None,
        }
    }
}

/// One verified PagerDuty event about an incident.
#[derive(Debug, Clone)]
pub struct IncidentEvent {
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: Millis,
    pub incident_id: IncidentId,
    pub agent: Option<String>,
    pub snapshot: Option<IncidentSnapshot>,
    /// The timeline entry's text (a note's content, a status update's message…).
    pub text: String,
    /// Timeline kind: `triggered`, `acknowledged`, `resolved`, `reopened`, `note`, `status_update`, …
    pub kind: String,
}

/// A verified PagerDuty webhook.
#[derive(Debug, Clone)]
pub enum PagerDutyWebhook {
    Incident(Box<IncidentEvent>),
    /// `pagey.ping`, `service.*` and anything else not about an incident: stored, acknowledged, ignored.
    Other {
        event_id: String,
        event_type: String,
    },
}

impl PagerDutyWebhook {
    pub fn event_id(&self) -> &str {
        match self {
            Self::Incident(e) => &e.event_id,
            Self::Other { event_id, .. } => event_id,
        }
    }
    pub fn event_type(&self) -> &str {
        match self {
            Self::Incident(e) => &e.event_type,
            Self::Other { event_type, .. } => event_type,
        }
    }
}
