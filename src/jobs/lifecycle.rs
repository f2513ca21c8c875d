//! How a job ends and what happens at start: settle or void exactly once (a guarded write in
//! the same transaction as the money), deliver the final report when due until it is
//! confirmed or refused for good, and the restart policy (see [`Jobs::start`]).

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::Jobs;
use super::live::{Live, RECENT_DURATIONS};
use super::transition::{self, Change};
use crate::clock::now_ms;
use crate::credits::LedgerError;
use crate::jobs::model::{JobId, JobRecord, JobState};
use crate::jobs::report::JobEvent;
use crate::seedance::TaskId;

/// How long a final report is tried before the bot gives up: the provider's result links
/// last about a day, so a report after that would only carry dead links.
const DELIVERY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

impl Jobs {
    /// Ends a live job exactly once: settles its hold on success, voids it otherwise, with
    /// the job's terminal state written in the same transaction and guarded on the stored
    /// state. Returns the ended job, or `None` when the store says the job had already
    /// moved on (a late answer, a second path racing this one): then nothing changed.
    pub(super) async fn end(&self, id: &JobId, state: JobState) -> Option<JobRecord> {
        self.end_with(id, state, false).await
    }

    /// [`Jobs::end`], counting the createTask that ends the job as one of unknown outcome
    /// when `create_unknown`. The report is claimed before the ending is tried (see
    /// `claims`); a try of it is due now when this ending won or the claim was taken (the
    /// try delivers what is owed, or gives the claim up).
    pub(super) async fn end_with(
        &self,
        id: &JobId,
        state: JobState,
        create_unknown: bool,
    ) -> Option<JobRecord> {
        let claimed = self.claim_report(id).await;
        let ended = self.end_claimed(id, state, create_unknown).await;
        if claimed || ended.is_some() {
            self.deliver_at(id.clone(), Instant::now());
        }
        ended
    }

    #[tracing::instrument(skip_all, fields(job_id = %id, guild = tracing::field::Empty, member = tracing::field::Empty))]
    async fn end_claimed(
        &self,
        id: &JobId,
        state: JobState,
        create_unknown: bool,
    ) -> Option<JobRecord> {
        let Some(job) = self.get(id) else {
            tracing::error!("cannot end a job that is not stored (or cannot be read)");
            return None;
        };
        record_owner(&job);
        if state == JobState::TimedOut && job.create_attempts > 0 {
            tracing::warn!(
                "job passed its deadline; the bot stops waiting, but the provider has no cancel call: its task may still run and be billed to the operator"
            );
        }
        let at = now_ms();
        let succeeded = matches!(state, JobState::Succeeded { .. });
        let why = match &state {
            JobState::Failed { reason } => reason.clone(),
            other => other.label().to_owned(),
        };
        let change = match state {
            JobState::Cancelled => Change::Cancel { at },
            state => Change::End {
                state,
                at,
                create_unknown,
            },
        };
        let write = transition::write(&job.id, change.clone());
        let ledger = &self.inner.ledger;
        let result = if succeeded {
            ledger.settle(&job.id.0, job.cost, Some(write)).await
        } else {
            ledger.void(&job.id.0, &why, Some(write)).await
        };
        match result {
            Ok(_) => {}
            Err(LedgerError::JobMoved(why)) => {
                tracing::info!(why, "the job had already moved on; this ending is dropped");
                return None;
            }
            Err(e) => {
                // The hold is missing or resolved the other way while its job is live: the
                // records disagree. Nothing is written, so no free video and no double
                // refund; the operator must look (`credits verify`).
                tracing::error!(error = %e, "could not end the job with its credits; the job is left as it is");
                metrics::counter!("seedance_job_end_failures_total").increment(1);
                return None;
            }
        }
        let mut ended = self.get(&job.id)?;
        if !ended.state.is_terminal() {
            // A replayed settle or void changes nothing, the job record included: end the
            // job alone, the money already says the same.
            ended = match self.change(&job.id, change).await {
                Ok(ended) => ended,
                Err(e) => {
                    tracing::error!(error = %e, "could not record the job's end");
                    return None;
                }
            };
        }
        if let (Some(started), Some(finished)) = (ended.started_at, ended.finished_at) {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            if sched.recent_durations.len() == RECENT_DURATIONS {
                sched.recent_durations.pop_front();
            }
            sched
                .recent_durations
                .push_back(Duration::from_millis((finished - started).max(0) as u64));
        }
        tracing::info!(state = ended.state.label(), "job ended");
        let credits = if succeeded {
            "seedance_credits_settled_total"
        } else {
            "seedance_credits_refunded_total"
        };
        metrics::counter!(credits).increment(ended.cost);
        metrics::counter!("seedance_jobs_finished_total", "state" => ended.state.label())
            .increment(1);
        Some(ended)
    }

    /// One try of a job's final report. Confirmed: recorded as delivered. Refused for good
    /// (or past the delivery window): recorded as failed with the reason, never tried
    /// again; the outcome stays in `/jobs`. Otherwise: the next try is recorded as due
    /// after the retry policy's wait (never sooner than the receiver asked).
    ///
    /// Sharing the store, a try is made only under the job's claim (see `claims`): one that
    /// another live process holds is checked again later, and the report is watched until
    /// the store has it delivered or failed.
    #[tracing::instrument(skip_all, fields(job_id = %id, guild = tracing::field::Empty, member = tracing::field::Empty))]
    pub(super) async fn deliver_once(&self, id: JobId) {
        let next = self.try_delivery(&id).await;
        self.delivery_done(&id, next.map(|wait| Instant::now() + wait));
    }

    /// The job, when its final report is still owed: ended, neither delivered nor failed
    /// for good.
    fn owed_report(&self, id: &JobId) -> Option<JobRecord> {
        self.get(id).filter(|job| {
            job.state.is_terminal() && !job.final_delivered && job.delivery.failed.is_none()
        })
    }

    /// Returns the wait before the next try, if there is to be one.
    async fn try_delivery(&self, id: &JobId) -> Option<Duration> {
        let Some(job) = self.owed_report(id) else {
            tracing::debug!("final report recorded (or not owed); no longer watched");
            self.release_report(id).await;
            return None;
        };
        record_owner(&job);
        if !self.claim_report(id).await {
            // Another live process delivers it. Its claim runs out at the latest a claim's
            // life from now, unless renewed; the report is not due before its next try.
            let next_try = Duration::from_millis(
                job.delivery
                    .next_at
                    .map_or(0, |at| u64::try_from(at - now_ms()).unwrap_or(0)),
            );
            let wait = self.inner.fleet.ttl().max(next_try);
            tracing::info!(check_in = ?wait, "the final report is claimed by another process; checking on it later");
            return Some(wait);
        }
        // Under the claim, read again: the claim's last holder may have recorded it meanwhile.
        let job = if self.inner.fleet.is_shared() {
            match self.owed_report(id) {
                Some(job) => job,
                None => {
                    tracing::debug!("final report recorded meanwhile; no longer watched");
                    self.release_report(id).await;
                    return None;
                }
            }
        } else {
            job
        };
        // Taken over before its next try is due (a receiver asked for a wait): not sooner.
        if let Some(left) = job.delivery.next_at.map(|at| at - now_ms())
            && left > 0
        {
            return Some(Duration::from_millis(left as u64));
        }
        let refunded = if matches!(job.state, JobState::Succeeded { .. }) {
            0
        } else {
            job.cost
        };
        let result = self
            .inner
            .reporter
            .report(&job, JobEvent::Finished { refunded })
            .await;
        let now = now_ms();
        let attempts = job.delivery.attempts + 1;
        let (change, wait) = match result {
            Ok(()) => (Change::Delivered, None),
            Err(e) if e.is_permanent() => {
                tracing::error!(error = %e, attempts, "final report refused for good; the outcome stays in /jobs");
                let reason = e.to_string();
                (Change::DeliveryFailed { reason }, None)
            }
            Err(e) if now - job.finished_at.unwrap_or(now) > DELIVERY_WINDOW_MS => {
                tracing::error!(error = %e, attempts, "final report still not delivered after a day; giving up");
                let reason = format!("gave up after {attempts} tries over a day: {e}");
                (Change::DeliveryFailed { reason }, None)
            }
            Err(e) => {
                let wait = self
                    .inner
                    .settings
                    .retry
                    .delivery_delay(attempts, e.retry_after());
                tracing::warn!(error = %e, attempts, retry_in = ?wait, "final report not delivered");
                let next_at = now + wait.as_millis() as i64;
                (Change::DeliveryRetry { next_at }, Some(wait))
            }
        };
        let settled = wait.is_none();
        match self.change(id, change).await {
            Ok(_) if settled => self.release_report(id).await,
            Ok(_) => {}
            Err(LedgerError::JobMoved(why)) => {
                // Recorded elsewhere first: nothing is owed any more.
                tracing::info!(why, "the delivery was already recorded");
                self.release_report(id).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not record the delivery; it may be tried again after a restart");
                // Sharing the store, the claim runs out and the scheduler's holder tries the
                // report again (its nonce makes a resend the same message).
                self.abandon_claim(id);
            }
        }
        wait
    }

    pub(super) async fn report(&self, job: &JobRecord, event: JobEvent) {
        if let Err(e) = self.inner.reporter.report(job, event).await {
            tracing::debug!(job_id = %job.id, error = %e, "progress report not delivered");
        }
    }

    /// The restart policy; see [`Jobs::start`]. Jobs held for approval stay held, their
    /// expiry armed again.
    pub(super) async fn recover(&self) -> Result<(), LedgerError> {
        // The pending holds first, then the jobs: a job admitted in between (by this process
        // or, on a shared store, another) has its hold and record in one transaction, so every
        // hold read here has its job in the later read.
        let holds = self.inner.ledger.pending_holds()?;
        let (mut stored, unreadable) = self.stored_jobs();
        stored.sort_by_key(|j| j.created_at);
        self.reconcile_holds(holds, &stored, &unreadable).await?;
        let (mut queued, mut resumed, mut unknown, mut redeliver) = (0, 0, 0, 0);
        let mut awaiting = 0;
        for job in stored {
            match job.state.clone() {
                JobState::AwaitingApproval => {
                    // Still decidable; its expiry keeps the time counted from admission.
                    awaiting += 1;
                    self.await_decision(&job);
                }
                JobState::Queued => {
                    queued += 1;
                    self.enqueue(&job);
                }
                JobState::Submitting => {
                    unknown += 1;
                    let reason = "the bot restarted while sending this job to the provider, so its outcome is unknown; your credits are back, please try again".to_owned();
                    self.end(&job.id, JobState::Failed { reason }).await;
                }
                JobState::Running {
                    task_id,
                    provider_state,
                } => {
                    resumed += 1;
                    let mut sched = self.inner.sched.lock().expect("scheduler lock");
                    sched.track(&job.id, Live::of(&job));
                    let interval = self.inner.settings.poll_initial;
                    let task = TaskId(task_id);
                    sched.follow(&job.id, task, Instant::now(), interval, provider_state);
                }
                _ if !job.final_delivered && job.delivery.failed.is_none() => {
                    redeliver += 1;
                    let wait = job
                        .delivery
                        .next_at
                        .map(|at| Duration::from_millis((at - now_ms()).max(0) as u64))
                        .unwrap_or_default();
                    self.deliver_at(job.id.clone(), Instant::now() + wait);
                }
                _ => {}
            }
        }
        tracing::info!(
            awaiting,
            queued,
            resumed,
            unknown,
            redeliver,
            "jobs recovered"
        );
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Every stored job, and the ids of records that cannot be read. An unreadable record is
    /// reported loudly (log and `seedance_jobs_unreadable`), never ignored or refunded.
    fn stored_jobs(&self) -> (Vec<JobRecord>, HashSet<String>) {
        let mut jobs = Vec::new();
        let mut unreadable = HashSet::new();
        for entry in self.inner.ledger.jobs_tree().iter() {
            match entry {
                Ok((key, bytes)) => match JobRecord::from_bytes(&bytes) {
                    Ok(job) => jobs.push(job),
                    Err(e) => {
                        let key = String::from_utf8_lossy(&key).into_owned();
                        tracing::error!(job_id = %key, error = %e, "a stored job cannot be read; its credits stay held until an operator looks");
                        unreadable.insert(key);
                    }
                },
                Err(e) => tracing::error!(error = %e, "could not read the job store"),
            }
        }
        metrics::gauge!("seedance_jobs_unreadable").set(unreadable.len() as f64);
        (jobs, unreadable)
    }

    /// Resolves holds left pending by jobs that already ended (their settle or void failed
    /// on a storage error) or that have no job at all, as the job's end says: so every
    /// pending hold has a live job after a start. A hold whose job record exists but cannot
    /// be read is left alone: refunding it could give a free video.
    async fn reconcile_holds(
        &self,
        holds: Vec<crate::credits::Hold>,
        stored: &[JobRecord],
        unreadable: &HashSet<String>,
    ) -> Result<(), LedgerError> {
        let ledger = &self.inner.ledger;
        let by_id: std::collections::HashMap<&str, &JobRecord> =
            stored.iter().map(|j| (j.id.0.as_str(), j)).collect();
        for hold in holds {
            if unreadable.contains(&hold.key) {
                continue;
            }
            let job = by_id.get(hold.key.as_str()).copied();
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

/// Fills the current span's `guild` and `member` from the stored job, so every line about a
/// job carries who and where.
fn record_owner(job: &JobRecord) {
    let span = tracing::Span::current();
    span.record("guild", tracing::field::display(job.request.guild));
    span.record("member", tracing::field::display(job.request.member));
}
