//! The background schedule beside the job worker: families recomputed when incidents changed,
//! and the monthly report on `POSTMORTEM_REPORT_SCHEDULE` (5-field cron, UTC), stored and
//! announced in `SLACK_REPORT_CHANNEL`.
//!
//! A run is due at every cron occurrence; it reports on the month before the occurrence (the
//! default, 09:00 UTC on the 1st, reports on the month that just ended). Every tick looks at the
//! latest occurrence that has passed: if its report was never stored by a scheduled run, it runs
//! now — so a run missed while the service was down is caught up at start-up. Occurrences before
//! the service first started are not (a new installation does not announce old months). The
//! claim is one conditional upsert, so with several replicas exactly one announces.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::domain::report::{Month, Report};
use crate::domain::{now_millis, to_millis};
use crate::metrics::Metrics;
use crate::notify::slack::SlackApi;
use crate::patterns::report::build;

/// How long a replica holds the right to announce a report (a Slack call waits at most 3 min).
const ANNOUNCE_LEASE_MS: i64 = 5 * 60_000;
use crate::render::Templates;
use crate::store::Store;

/// The longest the schedule sleeps between looks.
const TICK: Duration = Duration::from_secs(300);
const STARTED_KEY: &str = "report_schedule_since";

#[derive(Clone)]
pub struct Schedule {
    pub store: Store,
    pub config: Arc<Config>,
    pub templates: Arc<Templates>,
    pub metrics: Metrics,
    pub slack: Option<SlackApi>,
}

impl Schedule {
    pub async fn run(self, shutdown: CancellationToken) {
        let cron: croner::Cron = match self.config.report_schedule.parse() {
            Ok(c) => c,
            Err(e) => {
                // Validated at start-up; never silently skip reports.
                tracing::error!(error = %e, "POSTMORTEM_REPORT_SCHEDULE is invalid; no scheduled reports");
                return;
            }
        };
        let since = match self
            .store
            .state_once(STARTED_KEY, &now_millis().to_string())
            .await
        {
            Ok(v) => v.parse::<i64>().unwrap_or_else(|_| now_millis()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the schedule's start; counting from now");
                now_millis()
            }
        };
        let mut next_families = tokio::time::Instant::now();
        while !shutdown.is_cancelled() {
            if let Err(e) = self.report_if_due(&cron, since).await {
                tracing::warn!(error = %format!("{e:#}"), "the scheduled report failed; retrying later");
            }
            if self.config.families_interval_secs > 0
                && tokio::time::Instant::now() >= next_families
            {
                next_families = tokio::time::Instant::now()
                    + Duration::from_secs(self.config.families_interval_secs);
                if let Err(e) =
                    crate::patterns::families::recompute_if_stale(&self.store, &Default::default())
                        .await
                {
                    tracing::warn!(error = %format!("{e:#}"), "recomputing families failed");
                }
            }
            let until_next = cron
                .find_next_occurrence(&Utc::now(), false)
                .ok()
                .and_then(|t| (t - Utc::now()).to_std().ok())
                .unwrap_or(TICK);
            let until_families =
                next_families.saturating_duration_since(tokio::time::Instant::now());
            let mut wait = TICK.min(until_next + Duration::from_secs(1));
            if self.config.families_interval_secs > 0 {
                wait = wait.min(until_families.max(Duration::from_secs(1)));
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => {}
            }
        }
    }

    /// Runs the latest passed occurrence's report if no scheduled run stored it; announces a
    /// stored scheduled report that was not announced yet.
    pub async fn report_if_due(&self, cron: &croner::Cron, since: i64) -> anyhow::Result<()> {
        let now = Utc::now();
        let Ok(due) = cron.find_previous_occurrence(&now, true) else {
            return Ok(());
        };
        if to_millis(due) < since {
            return Ok(());
        }
        let month = Month::of(to_millis(due)).previous();
        let key = month.to_string();
        let stored = self.store.stored_report(&key).await?;
        let claimed = match &stored {
            Some(r) if r.scheduled => false,
            _ => {
                let report = build(
                    &self.store,
                    month,
                    self.config.drafting.lookback_hours,
                    &self.config.base_url,
                )
                .await?;
                let body = serde_json::to_value(&report)?;
                let claimed = self
                    .store
                    .claim_scheduled_report(&key, now_millis(), &body)
                    .await?;
                if claimed {
                    tracing::info!(month = %key, due = %due, incidents = report.incidents, "monthly report stored");
                    self.metrics
                        .job_runs
                        .with_label_values(&["monthly_report", "ok"])
                        .inc();
                }
                claimed
            }
        };
        let announced = stored.as_ref().is_some_and(|r| r.announced_at.is_some());
        if (claimed || stored.as_ref().is_some_and(|r| r.scheduled)) && !announced {
            self.announce(&key).await?;
        }
        Ok(())
    }

    /// Posts the stored report's summary and link to `SLACK_REPORT_CHANNEL`.
    async fn announce(&self, month: &str) -> anyhow::Result<()> {
        let (Some(slack), Some(channel)) =
            (&self.slack, self.config.slack_report_channel.as_deref())
        else {
            return Ok(());
        };
        // Another replica may be announcing it right now: only the lease holder posts.
        if !self
            .store
            .claim_report_announcement(month, now_millis(), ANNOUNCE_LEASE_MS)
            .await?
        {
            return Ok(());
        }
        let Some(stored) = self.store.stored_report(month).await? else {
            return Ok(());
        };
        let report: Report = serde_json::from_value(stored.body)?;
        let (text, blocks) = crate::notify::announce::report(&report);
        match slack.post(channel, &text, &blocks).await {
            Ok(()) => {
                self.store
                    .mark_report_announced(month, now_millis())
                    .await?;
                self.metrics
                    .job_runs
                    .with_label_values(&["report_announce", "ok"])
                    .inc();
                Ok(())
            }
            Err(e) => {
                self.metrics
                    .job_runs
                    .with_label_values(&["report_announce", "failed"])
                    .inc();
                Err(e.context(format!("announcing the {month} report in {channel}")))
            }
        }
    }
}

/// The Block Kit message of a report: headline figures and a link to the full report.
/// The month a run at `at` reports on (for documentation and tests).
pub fn month_reported_at(at: i64) -> Month {
    Month::of(at).previous()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::from_millis;

    #[test]
    fn the_default_schedule_reports_the_month_that_ended() {
        let cron: croner::Cron = "0 9 1 * *".parse().unwrap();
        let now = crate::domain::parse_time("2026-11-21T10:00:00Z").unwrap();
        let due = cron.find_previous_occurrence(&now, true).unwrap();
        assert_eq!(
            from_millis(to_millis(due)).to_rfc3339(),
            "2026-11-01T09:00:00+00:00"
        );
        assert_eq!(month_reported_at(to_millis(due)).to_string(), "2026-10");
    }
}
