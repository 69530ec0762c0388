//! The job worker beside the server: claims due jobs with a lease, keeps the lease alive while it
//! works, and records success or failure (retried with backoff). On shutdown it finishes the job in
//! hand and hands back any other claimed job.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::domain::{IncidentId, now_millis};
use crate::draft::Drafter;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::jobs::{DRAFT, Job, REDRAFT};

#[derive(Clone)]
pub struct Worker {
    pub store: Store,
    pub drafter: Drafter,
    pub metrics: Metrics,
    pub owner: String,
    pub poll: Duration,
    pub lease: Duration,
    pub jobs_ready: Arc<Notify>,
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
        match job.kind.as_str() {
            kind @ (DRAFT | REDRAFT) => {
                let id = job
                    .incident_id
                    .as_deref()
                    .map(IncidentId::parse)
                    .transpose()
                    .map_err(|e| e.to_string())?
                    .ok_or("draft job without an incident")?;
                let drafted = self
                    .drafter
                    .draft(&id, kind == REDRAFT)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(incident.id = %id, revision = drafted.revision, created = drafted.created, "drafted");
                Ok(())
            }
            other => Err(format!("unknown job kind {other:?}")),
        }
    }
}
