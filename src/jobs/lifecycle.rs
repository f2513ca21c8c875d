//! How a job ends and what happens at start: settle or void exactly once, deliver the final
//! report until it is confirmed, and the restart policy (see [`Jobs::start`]).

use std::time::Duration;

use tokio::time::Instant;

use super::scheduler::{Poll, RECENT_DURATIONS};
use super::{Jobs, job_write, now_ms};
use crate::jobs::model::{JobRecord, JobState};
use crate::jobs::report::JobEvent;
use crate::seedance::TaskId;

/// Longest pause between attempts to deliver a final report.
const MAX_DELIVERY_BACKOFF: Duration = Duration::from_secs(60);

impl Jobs {
    /// Ends a job exactly once: settles its hold on success, voids it otherwise, in the
    /// same transaction as the job's final state; then delivers the final report.
    #[tracing::instrument(skip_all, fields(job_id = %job.id, guild = %job.request.guild, member = %job.request.member))]
    pub(super) async fn finish(&self, mut job: JobRecord, state: JobState) -> JobRecord {
        let succeeded = matches!(state, JobState::Succeeded { .. });
        if let Some(reply) = self.stored_reply(&job.id) {
            job.reply = reply;
        }
        job.state = state;
        job.finished_at = Some(now_ms());
        job.final_delivered = false;
        let ledger = &self.inner.ledger;
        let result = if succeeded {
            ledger
                .settle(&job.id.0, job.cost, Some(job_write(&job)))
                .await
        } else {
            let why = match &job.state {
                JobState::Failed { reason } => reason.clone(),
                other => other.label().to_owned(),
            };
            ledger.void(&job.id.0, &why, Some(job_write(&job))).await
        };
        if let Err(e) = result {
            // The hold was already resolved (a replay after a crash): record the state alone.
            tracing::warn!(job_id = %job.id, error = %e, "hold not moved; recording the job's end");
            if let Err(e) = self.persist(&job).await {
                tracing::error!(job_id = %job.id, error = %e, "could not record the job's end");
            }
        }
        if let (Some(started), Some(ended)) = (job.started_at, job.finished_at) {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            if sched.recent_durations.len() == RECENT_DURATIONS {
                sched.recent_durations.pop_front();
            }
            sched
                .recent_durations
                .push_back(Duration::from_millis((ended - started).max(0) as u64));
        }
        tracing::info!(job_id = %job.id, state = job.state.label(), "job ended");
        let credits = if succeeded {
            "seedance_credits_settled_total"
        } else {
            "seedance_credits_refunded_total"
        };
        metrics::counter!(credits).increment(job.cost);
        metrics::counter!("seedance_jobs_finished_total", "state" => job.state.label())
            .increment(1);
        let jobs = self.clone();
        let delivered = job.clone();
        tokio::spawn(async move { jobs.deliver_final(delivered).await });
        self.inner.wake.notify_one();
        job
    }

    /// Sends the final report until the receiver confirms, then records it as delivered.
    #[tracing::instrument(skip_all, fields(job_id = %job.id, guild = %job.request.guild, member = %job.request.member))]
    pub(super) async fn deliver_final(&self, mut job: JobRecord) {
        let refunded = if matches!(job.state, JobState::Succeeded { .. }) {
            0
        } else {
            job.cost
        };
        let mut backoff = Duration::from_millis(500);
        loop {
            match self
                .inner
                .reporter
                .report(&job, JobEvent::Finished { refunded })
                .await
            {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(job_id = %job.id, error = %e, retry_in = ?backoff, "final report not delivered");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_DELIVERY_BACKOFF);
                }
            }
        }
        job.final_delivered = true;
        if let Err(e) = self.persist(&job).await {
            tracing::error!(job_id = %job.id, error = %e, "could not record the delivery; it may be sent again after a restart");
        }
    }

    pub(super) async fn report(&self, job: &JobRecord, event: JobEvent) {
        if let Err(e) = self.inner.reporter.report(job, event).await {
            tracing::debug!(job_id = %job.id, error = %e, "progress report not delivered");
        }
    }

    /// The restart policy; see [`Jobs::start`].
    pub(super) async fn recover(&self) -> Result<(), crate::credits::LedgerError> {
        let mut stored: Vec<JobRecord> = self.all_jobs().collect();
        stored.sort_by_key(|j| j.created_at);
        self.reconcile_holds(&stored).await?;
        let (mut queued, mut resumed, mut unknown, mut redeliver) = (0, 0, 0, 0);
        {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            for job in &stored {
                let last = sched
                    .last_accepted
                    .entry((job.request.guild, job.request.member))
                    .or_default();
                *last = (*last).max(job.created_at);
            }
        }
        for job in stored {
            match job.state.clone() {
                JobState::Queued => {
                    queued += 1;
                    self.enqueue(job);
                }
                JobState::Submitting => {
                    unknown += 1;
                    let reason = "the bot restarted while sending this job to the provider, so its outcome is unknown; your credits are back, please try again".to_owned();
                    self.finish(job, JobState::Failed { reason }).await;
                }
                JobState::Running {
                    task_id,
                    provider_state,
                } => {
                    resumed += 1;
                    let mut sched = self.inner.sched.lock().expect("scheduler lock");
                    sched.polls.insert(
                        job.id.clone(),
                        Poll {
                            task: TaskId(task_id),
                            due: Instant::now(),
                            interval: self.inner.settings.poll_initial,
                            in_flight: false,
                            provider_state,
                        },
                    );
                    sched.active.insert(job.id.clone(), job);
                }
                _ if !job.final_delivered => {
                    redeliver += 1;
                    let jobs = self.clone();
                    tokio::spawn(async move { jobs.deliver_final(job).await });
                }
                _ => {}
            }
        }
        tracing::info!(queued, resumed, unknown, redeliver, "jobs recovered");
        self.inner.wake.notify_one();
        Ok(())
    }
}

impl Jobs {
    /// Resolves holds left pending by jobs that already ended (their settle or void failed
    /// on a storage error) or that have no job at all, as the job's end says: so every
    /// pending hold has a live job after a start.
    async fn reconcile_holds(
        &self,
        stored: &[JobRecord],
    ) -> Result<(), crate::credits::LedgerError> {
        let ledger = &self.inner.ledger;
        for hold in ledger.pending_holds()? {
            let job = stored.iter().find(|j| j.id.0 == hold.key);
            let result = match job {
                Some(job) if !job.state.is_terminal() => continue,
                Some(job) if matches!(job.state, JobState::Succeeded { .. }) => {
                    ledger.settle(&hold.key, hold.amount, None).await
                }
                Some(_) => {
                    ledger
                        .void(&hold.key, "the job had already ended", None)
                        .await
                }
                None => {
                    ledger
                        .void(&hold.key, "no job was stored for this hold", None)
                        .await
                }
            };
            match result {
                Ok(_) => {
                    tracing::warn!(hold = %hold.key, "resolved a hold its job had left pending")
                }
                Err(e) => {
                    tracing::error!(hold = %hold.key, error = %e, "could not resolve a stray hold")
                }
            }
        }
        Ok(())
    }
}
