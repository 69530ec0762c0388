//! The incident: merged from its events so that any delivery order gives the same incident (first
//! trigger is a minimum, final resolution a maximum, status from the latest incident-shaped event),
//! the resolve/reopen rule, and the timeline entries that are its evidence.

use serde::Serialize;

use super::{IncidentEvent, IncidentId, Millis, Severity, Status, from_millis, rfc3339};

/// An incident as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub service: String,
    pub status: Status,
    pub severity: Option<Severity>,
    pub urgency: Option<String>,
    #[serde(with = "rfc3339")]
    pub triggered_at: Millis,
    #[serde(with = "rfc3339::option")]
    pub acknowledged_at: Option<Millis>,
    /// The final resolution; `None` while the incident is open (a reopen clears it).
    #[serde(with = "rfc3339::option")]
    pub resolved_at: Option<Millis>,
    pub number: Option<i64>,
    pub html_url: Option<String>,
    pub assignees: Vec<String>,
    pub teams: Vec<String>,
    /// `pagerduty` or `import`.
    pub source: String,
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    /// First trigger → first acknowledgement, minutes (serialised to 0.1 min).
    #[serde(serialize_with = "tenths")]
    pub time_to_acknowledge_minutes: Option<f64>,
    /// First trigger → final resolution, minutes (serialised to 0.1 min); none for a merged
    /// incident (its time is the surviving incident's).
    #[serde(serialize_with = "tenths")]
    pub time_to_resolve_minutes: Option<f64>,
    /// The incident this one was merged into: it gets no postmortem of its own, and its evidence
    /// folds into the surviving incident's.
    pub merged_into: Option<String>,
    #[serde(skip)]
    pub service_ref: Option<String>,
    #[serde(skip)]
    pub status_at: Millis,
    #[serde(skip)]
    pub status_event: String,
    #[serde(skip)]
    pub last_resolved_at: Option<Millis>,
    #[serde(skip)]
    pub data_at: Millis,
}

impl Incident {
    /// A new incident first seen at `first_seen`, before any event is merged into it.
    pub fn new_for(id: &IncidentId, first_seen: Millis) -> Self {
        Self {
            id: id.to_string(),
            title: String::new(),
            service: String::new(),
            status: Status::Triggered,
            severity: None,
            urgency: None,
            triggered_at: first_seen,
            acknowledged_at: None,
            resolved_at: None,
            number: None,
            html_url: None,
            assignees: vec![],
            teams: vec![],
            source: "pagerduty".into(),
            summary: None,
            root_cause: None,
            resolution: None,
            time_to_acknowledge_minutes: None,
            time_to_resolve_minutes: None,
            merged_into: None,
            service_ref: None,
            status_at: i64::MIN,
            status_event: String::new(),
            last_resolved_at: None,
            data_at: i64::MIN,
        }
    }

    /// Derived fields: the visible resolution and the durations.
    pub fn derive(&mut self) {
        self.resolved_at = match self.status {
            Status::Resolved => self.last_resolved_at,
            _ => None,
        };
        let minutes = |to: Millis| (to - self.triggered_at) as f64 / 60_000.0;
        self.time_to_acknowledge_minutes = self.acknowledged_at.map(minutes);
        self.time_to_resolve_minutes = self
            .resolved_at
            .filter(|_| self.merged_into.is_none())
            .map(minutes);
    }

    /// The incident's window: first trigger to final resolution (or now while open).
    pub fn window(&self) -> (Millis, Millis) {
        (
            self.triggered_at,
            self.resolved_at.unwrap_or_else(super::now_millis),
        )
    }

    pub fn triggered(&self) -> chrono::DateTime<chrono::Utc> {
        from_millis(self.triggered_at)
    }
}

/// Folds one event into an incident. Commutative and idempotent, so events in any order (a
/// resolve before its trigger included) and repeated give the same incident.
pub fn merge(inc: &mut Incident, ev: &IncidentEvent) {
    let at = ev.occurred_at;
    inc.triggered_at = inc.triggered_at.min(at);
    if let Some(created) = ev.snapshot.as_ref().and_then(|s| s.created_at) {
        inc.triggered_at = inc.triggered_at.min(created);
    }
    match ev.kind.as_str() {
        "acknowledged" => {
            inc.acknowledged_at = Some(inc.acknowledged_at.map_or(at, |a| a.min(at)));
        }
        "resolved" => {
            inc.last_resolved_at = Some(inc.last_resolved_at.map_or(at, |r| r.max(at)));
        }
        _ => {}
    }
    if let Some(s) = &ev.snapshot {
        // Latest incident-shaped event wins; ties broken by status order then event id, so the
        // outcome never depends on arrival order.
        let key = (at, status_rank(s.status), ev.event_id.as_str());
        let current = (
            inc.status_at,
            status_rank(inc.status),
            inc.status_event.as_str(),
        );
        if key > current {
            inc.status = s.status;
            inc.status_at = at;
            inc.status_event = ev.event_id.clone();
            inc.merged_into = s
                .merged_into
                .clone()
                .filter(|_| s.status == Status::Resolved);
        }
        if at >= inc.data_at {
            inc.data_at = at;
            if !s.title.is_empty() {
                inc.title = s.title.clone();
            }
            if !s.service.is_empty() {
                inc.service = s.service.clone();
            }
            inc.service_ref = s.service_ref.clone().or(inc.service_ref.take());
            inc.severity = s.severity.or(inc.severity);
            inc.urgency = s.urgency.clone().or(inc.urgency.take());
            inc.number = s.number.or(inc.number);
            inc.html_url = s.html_url.clone().or(inc.html_url.take());
            inc.assignees = s.assignees.clone();
            inc.teams = s.teams.clone();
        }
        if s.status == Status::Resolved {
            inc.last_resolved_at = Some(inc.last_resolved_at.map_or(at, |r| r.max(at)));
        }
    }
    inc.derive();
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Triggered => 0,
        Status::Acknowledged => 1,
        Status::Resolved => 2,
    }
}

/// What applying an event did to its incident's status, for job scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    /// Became resolved, or its final resolution moved later.
    Resolved,
    /// Was resolved and is open again.
    Reopened,
}

impl Transition {
    /// The resolve/reopen rule: what going from `before` (status, final resolution) to `after`
    /// means for drafting. A later final resolution of a resolved incident is a new resolution.
    pub fn between(before: (Status, Option<Millis>), after: (Status, Option<Millis>)) -> Self {
        match (before.0, after.0) {
            (Status::Resolved, Status::Resolved) if after.1 > before.1 => Transition::Resolved,
            (Status::Resolved, Status::Resolved) => Transition::None,
            (_, Status::Resolved) => Transition::Resolved,
            (Status::Resolved, _) => Transition::Reopened,
            _ => Transition::None,
        }
    }
}

/// One piece of evidence on an incident's timeline.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TimelineEntry {
    #[serde(skip)]
    pub incident_id: String,
    pub evidence_id: String,
    #[serde(with = "rfc3339")]
    pub at: Millis,
    pub source: String,
    pub kind: String,
    pub author: Option<String>,
    pub text: String,
    /// For a Slack thread reply: the `ts` of the thread's first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// For a Slack message: its text as Slack sent it (escapes, `<…>` links and mentions), kept
    /// for audit when it reads differently from `text`. Never put in a prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

/// Minutes as people read them: to a tenth (107.9, not 107.86666666666666).
fn tenths<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(m) => s.serialize_some(&((m * 10.0).round() / 10.0)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn durations_read_to_a_tenth_of_a_minute() {
        let mut inc = Incident::new_for(&IncidentId::parse("PDUR1").unwrap(), 0);
        inc.time_to_resolve_minutes = Some(6_472_000.0 / 60_000.0);
        let v = serde_json::to_value(&inc).unwrap();
        assert_eq!(v["time_to_resolve_minutes"], 107.9);
        assert!(v["time_to_acknowledge_minutes"].is_null());
    }

    #[test]
    fn the_resolve_and_reopen_rule() {
        let t = Transition::between;
        assert_eq!(
            t((Triggered, None), (Resolved, Some(10))),
            Transition::Resolved
        );
        assert_eq!(
            t((Acknowledged, None), (Resolved, Some(10))),
            Transition::Resolved
        );
        // A later final resolution is a new resolution; the same or an earlier one is not.
        assert_eq!(
            t((Resolved, Some(10)), (Resolved, Some(20))),
            Transition::Resolved
        );
        assert_eq!(
            t((Resolved, Some(10)), (Resolved, Some(10))),
            Transition::None
        );
        assert_eq!(
            t((Resolved, Some(10)), (Triggered, Some(10))),
            Transition::Reopened
        );
        assert_eq!(t((Triggered, None), (Acknowledged, None)), Transition::None);
    }
}
