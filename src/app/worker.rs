//! The job worker beside the server: claims due jobs with a lease, keeps the lease alive while it
//! works, and records success or failure (retried with backoff). On shutdown it finishes the job in
//! hand and hands back any other claimed job.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::domain::JobKind;
use crate::domain::{IncidentId, now_millis};
use crate::draft::Drafter;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::jobs::Job;

#[derive(Clone)]
pub struct Worker {
    pub store: Store,
    pub drafter: Drafter,
    pub metrics: Metrics,
    pub owner: String,
    pub poll: Duration,
    pub lease: Duration,
    pub jobs_ready: Arc<Notify>,
    pub config: Arc<crate::config::Config>,
    pub slack: Option<crate::notify::slack::SlackApi>,
}

impl Worker {
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(owner = %self.owner, "job worker started");
        while !shutdown.is_cancelled() {
            let notified = self.jobs_ready.notified();
            match self
                .store
                .claim_job(&self.owner, now_millis(), self.lease.as_millis() as i64)
                .await
            {
                Ok(Some(job)) => self.run_job(job).await,
                Ok(None) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep(self.poll) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a job failed");
                    tokio::select! {
                        _ = tokio::time::sleep(self.poll * 4) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
        }
        match self.store.release_jobs(&self.owner, now_millis()).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "handed claimed jobs back"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "releasing jobs failed; their leases will expire"),
        }
    }

    async fn run_job(&self, job: Job) {
        let heartbeat = {
            let (store, owner, id, lease) = (
                self.store.clone(),
                self.owner.clone(),
                job.id.clone(),
                self.lease,
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    let until = now_millis() + lease.as_millis() as i64;
                    if !matches!(store.heartbeat_job(&id, &owner, until).await, Ok(true)) {
                        break;
                    }
                }
            })
        };
        let result = self.execute(&job).await;
        heartbeat.abort();
        let now = now_millis();
        match result {
            Ok(()) => {
                self.metrics
                    .job_runs
                    .with_label_values(&[&job.kind, "done"])
                    .inc();
                if let Err(e) = self.store.complete_job(&job.id, &self.owner, now).await {
                    tracing::warn!(job.id = %job.id, error = %e, "could not mark job done");
                }
            }
            Err(message) => {
                let outcome = if job.attempts >= job.max_attempts {
                    "failed"
                } else {
                    "retry"
                };
                self.metrics
                    .job_runs
                    .with_label_values(&[&job.kind, outcome])
                    .inc();
                tracing::warn!(job.id = %job.id, job.kind = %job.kind, attempts = job.attempts, error = %message, "job failed");
                if let Err(e) = self.store.fail_job(&job, &self.owner, &message, now).await {
                    tracing::warn!(job.id = %job.id, error = %e, "could not record job failure");
                }
            }
        }
    }

    async fn execute(&self, job: &Job) -> Result<(), String> {
        match JobKind::parse(&job.kind).map_err(|e| e.to_string())? {
            kind @ (JobKind::Draft | JobKind::Redraft) => {
                let id = incident_of(job)?;
                let drafted = self
                    .drafter
                    .draft_evidence(&id, kind == JobKind::Redraft)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(incident.id = %id, revision = drafted.revision, created = drafted.created, "drafted");
                if drafted.model_due {
                    // The model's draft is its own job: a slow model holds one worker, and no
                    // other incident's evidence draft waits for it.
                    self.store
                        .schedule_once(JobKind::ModelDraft, id.as_str(), now_millis())
                        .await
                        .map_err(|e| e.to_string())?;
                    self.jobs_ready.notify_waiters();
                }
                if let Some(slack) = &self.slack {
                    let channels = self.channels(&id).await?;
                    if kind == JobKind::Draft && !channels.is_empty() {
                        // Drafted on time; the channel history follows and redrafts if it adds.
                        self.store
                            .schedule_once(JobKind::SlackBackfill, id.as_str(), now_millis())
                            .await
                            .map_err(|e| e.to_string())?;
                        self.jobs_ready.notify_waiters();
                    }
                    // With a model, the channel hears of the draft once, when the model's
                    // draft (or the reason it failed) is in.
                    if drafted.created && !drafted.model_due {
                        self.announce(slack, &channels, &drafted.postmortem).await;
                    }
                }
                Ok(())
            }
            JobKind::ModelDraft => {
                let id = incident_of(job)?;
                let Some(drafted) = self
                    .drafter
                    .draft_with_model(&id)
                    .await
                    .map_err(|e| e.to_string())?
                else {
                    tracing::info!(incident.id = %id, "the evidence draft was superseded; no model draft asked for");
                    return Ok(());
                };
                tracing::info!(incident.id = %id, revision = drafted.revision, drafter = %drafted.postmortem.header.drafter, "model draft done");
                if let Some(slack) = &self.slack {
                    let channels = self.channels(&id).await?;
                    self.announce(slack, &channels, &drafted.postmortem).await;
                }
                Ok(())
            }
            JobKind::SlackBackfill => {
                let id = job
                    .incident_id
                    .as_deref()
                    .ok_or("backfill job without an incident")?;
                let Some(slack) = &self.slack else {
                    return Ok(());
                };
                self.backfill(slack, id).await
            }
        }
    }
}

impl Worker {
    /// The Slack channels linked to the incident.
    async fn channels(&self, id: &IncidentId) -> Result<Vec<String>, String> {
        self.store
            .channels_for_incident(id.as_str())
            .await
            .map_err(|e| e.to_string())
    }
}

/// The incident a draft or model-draft job is about.
fn incident_of(job: &Job) -> Result<IncidentId, String> {
    let id = job
        .incident_id
        .as_deref()
        .ok_or_else(|| format!("{} job without an incident", job.kind))?;
    IncidentId::parse(id).map_err(|e| e.to_string())
}

/// Slack's `ts` form of a time in milliseconds.
fn slack_ts(ms: i64) -> String {
    format!("{}.{:06}", ms.div_euclid(1000), ms.rem_euclid(1000) * 1000)
}

impl Worker {
    /// Reads every linked channel's history over the incident window (an hour either side) and
    /// stores what the events missed; anything new reschedules the draft.
    async fn backfill(
        &self,
        slack: &crate::notify::slack::SlackApi,
        id: &str,
    ) -> Result<(), String> {
        let iid = IncidentId::parse(id).map_err(|e| e.to_string())?;
        let Some(inc) = self.store.incident(&iid).await.map_err(|e| e.to_string())? else {
            return Ok(());
        };
        let (start, end) = inc.window();
        let (oldest, latest) = (slack_ts(start - 3_600_000), slack_ts(end + 3_600_000));
        let mut added = 0;
        for channel in self
            .store
            .channels_for_incident(id)
            .await
            .map_err(|e| e.to_string())?
        {
            let messages = slack
                .history(&channel, &oldest, &latest)
                .await
                .map_err(|e| format!("{e:#}"))?;
            let users: Vec<String> = messages.iter().flat_map(|m| m.users()).collect();
            let names = slack.user_names(users).await;
            let messages: Vec<_> = messages
                .iter()
                .map(|m| m.readable(&channel, &names))
                .collect();
            added += self
                .store
                .put_slack_messages(id, &messages, 0)
                .await
                .map_err(|e| e.to_string())?;
        }
        tracing::info!(incident.id = id, added, "Slack history backfilled");
        if added > 0 {
            self.jobs_ready.notify_waiters();
        }
        Ok(())
    }

    /// Announces a stored draft in the incident's channels and `SLACK_REPORT_CHANNEL`.
    async fn announce(
        &self,
        slack: &crate::notify::slack::SlackApi,
        channels: &[String],
        p: &crate::domain::postmortem::Postmortem,
    ) {
        let mut targets: Vec<&str> = channels.iter().map(String::as_str).collect();
        if let Some(r) = self.config.slack_report_channel.as_deref()
            && !targets.contains(&r)
        {
            targets.push(r);
        }
        if targets.is_empty() {
            return;
        }
        let (text, blocks) = crate::notify::announce::draft(&self.config.base_url, p);
        for channel in targets {
            let outcome = match slack.post(channel, &text, &blocks).await {
                Ok(()) => "ok",
                Err(e) => {
                    tracing::warn!(channel, error = %format!("{e:#}"), "cannot announce a draft in Slack");
                    "failed"
                }
            };
            self.metrics
                .job_runs
                .with_label_values(&["slack_announce", outcome])
                .inc();
        }
    }
}
