//! Group commit for ingest. Webhook handlers hand their verified events to one writer task, which
//! commits everything that arrived meanwhile in one transaction: one fsync for many webhooks. Each
//! handler gets its answer only after the commit, so a 2xx always means durably stored.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};

use super::incidents::apply_event;
use super::{Result, Store, StoreError, changes, jobs};
use crate::domain::Change;
use crate::domain::PagerDutyWebhook;
use crate::domain::{DraftPlan, JobKind};
use crate::domain::{Millis, now_millis};

/// Something to store.
#[derive(Debug, Clone)]
pub enum IngestOp {
    /// A verified PagerDuty webhook with its raw body (kept for audit and replay).
    PagerDuty {
        raw: String,
        webhook: PagerDutyWebhook,
    },
    /// Change events (one request may carry several).
    Changes(Vec<Change>),
    /// A validated OpenLineage RunEvent with its raw body.
    Lineage {
        raw: String,
        event: Box<crate::domain::RunEvent>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    Stored,
    /// Seen before (same event id): nothing changed.
    Duplicate,
}

type Reply = oneshot::Sender<Result<IngestOutcome>>;

/// Handle to the writer task.
#[derive(Clone)]
pub struct IngestWriter {
    tx: mpsc::Sender<(IngestOp, Reply)>,
}

/// Largest group committed at once.
const MAX_BATCH: usize = 512;
/// Requests waiting for the writer; beyond this senders get 503 and retry.
const QUEUE: usize = 8192;

impl IngestWriter {
    /// Starts the writer. `jobs_ready` is notified after a commit that scheduled a job. The task
    /// ends once every handle is dropped and the queue is drained; await it before closing the pool.
    pub fn spawn(
        store: Store,
        draft_delay: Duration,
        jobs_ready: Arc<Notify>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let delay = draft_delay.as_millis() as Millis;
        let task = tokio::spawn(run(store, rx, delay, jobs_ready));
        (Self { tx }, task)
    }

    /// Stores `op`, returning once it is committed.
    pub async fn submit(&self, op: IngestOp) -> Result<IngestOutcome> {
        let (reply, answer) = oneshot::channel();
        match tokio::time::timeout(Duration::from_secs(2), self.tx.send((op, reply))).await {
            Ok(Ok(())) => {}
            _ => return Err(StoreError::Busy),
        }
        answer.await.map_err(|_| StoreError::Busy)?
    }
}

async fn run(
    store: Store,
    mut rx: mpsc::Receiver<(IngestOp, Reply)>,
    delay: Millis,
    jobs_ready: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let ops: Vec<&IngestOp> = batch.iter().map(|(op, _)| op).collect();
        let applied = apply_batch(&store, &ops, delay).await;
        store.note_write(&applied);
        match applied {
            Ok((outcomes, scheduled)) => {
                if scheduled {
                    jobs_ready.notify_waiters();
                }
                for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                // One bad op must not fail its neighbours: retry each alone.
                tracing::warn!(error = %e, size = batch.len(), "group commit failed; retrying one by one");
                for (op, reply) in batch.drain(..) {
                    let result = apply_batch(&store, &[&op], delay).await;
                    store.note_write(&result);
                    let result = result.map(|(o, scheduled)| {
                        if scheduled {
                            jobs_ready.notify_waiters();
                        }
                        o[0]
                    });
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// Applies ops in one transaction. Returns each op's outcome and whether a job was scheduled.
pub async fn apply_batch(
    store: &Store,
    ops: &[&IngestOp],
    delay: Millis,
) -> Result<(Vec<IngestOutcome>, bool)> {
    let now = now_millis();
    let mut tx = store.begin_write().await?;
    let mut outcomes = Vec::with_capacity(ops.len());
    let mut scheduled = false;
    for op in ops {
        let outcome = match op {
            IngestOp::PagerDuty { raw, webhook } => {
                // Deduplicate first: this insert also takes SQLite's write lock up front.
                let fresh = sqlx::query(
                    "INSERT INTO webhook_events (source, event_id, event_type, received_at, body) \
                     VALUES ('pagerduty', $1, $2, $3, $4) ON CONFLICT (source, event_id) DO NOTHING",
                )
                .bind(webhook.event_id())
                .bind(webhook.event_type())
                .bind(now)
                .bind(raw.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if !fresh {
                    IngestOutcome::Duplicate
                } else {
                    if let PagerDutyWebhook::Incident(ev) = webhook {
                        let (inc, transition) =
                            apply_event(&mut tx, store.lock_clause(), ev, now).await?;
                        match DraftPlan::after(transition, inc.status, inc.merged_into.is_some()) {
                            DraftPlan::Schedule => {
                                jobs::schedule_draft(&mut tx, &inc.id, now + delay, now).await?;
                                scheduled = true;
                            }
                            DraftPlan::CancelPending => {
                                jobs::cancel_pending(&mut tx, JobKind::Draft, &inc.id, now).await?;
                            }
                            DraftPlan::Nothing => {}
                        }
                    }
                    IngestOutcome::Stored
                }
            }
            IngestOp::Lineage { raw, event } => {
                if super::lineage::apply(&mut tx, event, raw, now).await? {
                    IngestOutcome::Stored
                } else {
                    IngestOutcome::Duplicate
                }
            }
            IngestOp::Changes(list) => {
                let mut any_new = false;
                for c in list {
                    any_new |= changes::upsert(&mut tx, c, now).await?;
                }
                if any_new {
                    IngestOutcome::Stored
                } else {
                    IngestOutcome::Duplicate
                }
            }
        };
        outcomes.push(outcome);
    }
    tx.commit().await?;
    Ok((outcomes, scheduled))
}
