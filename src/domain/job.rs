//! Durable jobs: what kind of work a queued job is, and the rule that says what an incident event
//! asks of the draft queue (the store runs it in the event's own transaction, so nothing
//! acknowledged loses its draft).

use std::fmt;

use super::{Invalid, Status, Transition};

/// The kinds of job the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Draft after a resolution (or late evidence); skipped when the evidence has not changed.
    Draft,
    /// Draft on request: always adds a revision.
    Redraft,
    /// Read the linked Slack channels' history over the incident window.
    SlackBackfill,
    /// Ask the configured model to draft over the evidence draft just stored; its own job, so a
    /// slow model delays only its own revision, never another incident's evidence draft.
    ModelDraft,
}

impl JobKind {
    /// The name stored in the `jobs.kind` column and used as the metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Draft => "draft",
            JobKind::Redraft => "redraft",
            JobKind::SlackBackfill => "slack_backfill",
            JobKind::ModelDraft => "model_draft",
        }
    }

    /// Reads a stored kind; `Invalid` names a kind this version does not run.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "draft" => Ok(JobKind::Draft),
            "redraft" => Ok(JobKind::Redraft),
            "slack_backfill" => Ok(JobKind::SlackBackfill),
            "model_draft" => Ok(JobKind::ModelDraft),
            other => Err(Invalid(format!("unknown job kind {other:?}"))),
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an incident event asks of its automatic draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftPlan {
    /// (Re)schedule the draft after the configured delay, replacing a pending one.
    Schedule,
    /// Cancel the pending draft (the incident reopened).
    CancelPending,
    Nothing,
}

impl DraftPlan {
    /// The rule: a resolution, or late evidence on a resolved incident, schedules the draft; a
    /// reopen cancels the pending one, and so does a merge into another incident (which drafts
    /// for both). `status` is the incident's status after the event.
    pub fn after(transition: Transition, status: Status, merged: bool) -> Self {
        if merged {
            return DraftPlan::CancelPending;
        }
        match transition {
            Transition::Resolved => DraftPlan::Schedule,
            Transition::Reopened => DraftPlan::CancelPending,
            Transition::None if status == Status::Resolved => DraftPlan::Schedule,
            Transition::None => DraftPlan::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_ones_are_named() {
        for k in [JobKind::Draft, JobKind::Redraft, JobKind::SlackBackfill] {
            assert_eq!(JobKind::parse(k.as_str()).unwrap(), k);
        }
        assert!(JobKind::parse("reindex").unwrap_err().0.contains("reindex"));
    }

    #[test]
    fn resolutions_and_late_evidence_schedule_and_reopens_cancel() {
        use DraftPlan::*;
        for (transition, status, plan) in [
            (Transition::Resolved, Status::Resolved, Schedule),
            (Transition::Reopened, Status::Triggered, CancelPending),
            (Transition::None, Status::Resolved, Schedule),
            (Transition::None, Status::Acknowledged, Nothing),
        ] {
            assert_eq!(
                DraftPlan::after(transition, status, false),
                plan,
                "{transition:?}"
            );
        }
        assert_eq!(
            DraftPlan::after(Transition::Resolved, Status::Resolved, true),
            CancelPending,
            "a merged incident gets no draft of its own"
        );
        {}
    }
}
