//! Sending a queued job upstream: the guarded move to `submitting`, createTask, and what
//! its answer means for the job (running, waiting out its own backoff, or ended and
//! refunded) under the one retry policy.

use tokio::time::Instant;

use super::Jobs;
use super::live::Live;
use super::retry::CreateRetry;
use super::transition::Change;
use super::upstream::{expired_links, gave_up_reason, operator_alert, refusal_reason, task_input};
use crate::clock::now_ms;
use crate::credits::LedgerError;
use crate::jobs::model::{JobId, JobRecord, JobState};
use crate::jobs::report::JobEvent;
use crate::seedance::{SeedanceError, TaskId};

/// A reserved place in the createTask budget: counted as sent by [`CreateSlot::sent`],
/// freed if dropped before that (the job ended or changed, or its write failed).
struct CreateSlot<'a> {
    jobs: &'a Jobs,
    sent: bool,
}

impl CreateSlot<'_> {
    fn sent(mut self) {
        self.sent = true;
        let mut sched = self.jobs.inner.sched.lock().expect("scheduler lock");
        sched.creates.sent(Instant::now());
    }
}

impl Drop for CreateSlot<'_> {
    fn drop(&mut self) {
        if !self.sent {
            self.jobs
                .inner
                .sched
                .lock()
                .expect("scheduler lock")
                .creates
                .unreserve();
            // Another job may start in its place.
            self.jobs.inner.wake.notify_one();
        }
    }
}

impl Jobs {
    #[tracing::instrument(skip_all, fields(job_id = %id, guild = %live.guild, member = %live.member))]
    pub(super) async fn submit_upstream(&self, id: JobId, live: Live) {
        // The createTask budget place the scheduler reserved for this job.
        let slot = CreateSlot {
            jobs: self,
            sent: false,
        };
        let done_creating = |jobs: &Jobs| {
            let mut sched = jobs.inner.sched.lock().expect("scheduler lock");
            sched.creating.remove(&id);
            sched.forget(&id);
        };
        let Some(job) = self.get(&id) else {
            tracing::error!("a queued job is not in the store; dropped from the queue");
            done_creating(self);
            return;
        };
        if let Some(reason) = expired_links(&job, now_ms()) {
            tracing::info!("reference links expired before the job could start");
            done_creating(self);
            self.end(&id, JobState::Failed { reason }).await;
            return;
        }
        let job = match self.change(&id, Change::Submit { at: now_ms() }).await {
            Ok(job) => job,
            Err(LedgerError::JobMoved(why)) => {
                tracing::info!(why, "job changed before it could start; not sent");
                done_creating(self);
                self.inner.wake.notify_one();
                return;
            }
            Err(e) => {
                // Not recorded as submitting: nothing was sent, so try again shortly.
                tracing::error!(error = %e, "could not record the submission; the job waits");
                let mut sched = self.inner.sched.lock().expect("scheduler lock");
                sched.creating.remove(&id);
                let after = Instant::now() + self.inner.settings.poll_max;
                sched.wait_until(&id, after);
                return;
            }
        };
        self.update_cached(&job);
        let input = task_input(&job);
        slot.sent();
        let result = self.inner.provider.create_task(&input).await;
        match result {
            Ok(task) => self.created(job, task).await,
            Err(e) => self.create_failed(job, e).await,
        }
        self.inner.wake.notify_one();
    }

    async fn created(&self, job: JobRecord, task: TaskId) {
        tracing::info!(task_id = %task.0, attempt = job.create_attempts, "task created upstream");
        let change = Change::Created {
            task_id: task.0.clone(),
        };
        let running = match self.change(&job.id, change).await {
            Ok(running) => running,
            Err(LedgerError::JobMoved(why)) => {
                tracing::error!(task_id = %task.0, why, "the provider made a task for a job that had already ended; it may be billed to the operator");
                let mut sched = self.inner.sched.lock().expect("scheduler lock");
                sched.creating.remove(&job.id);
                sched.forget(&job.id);
                return;
            }
            Err(e) => {
                // The task exists: follow it anyway. The job's end is a guarded write
                // from `submitting` too, so it still ends exactly once.
                tracing::error!(task_id = %task.0, error = %e, "could not record the task id; following it anyway");
                let mut running = job.clone();
                running.state = JobState::Running {
                    task_id: task.0.clone(),
                    provider_state: "waiting".into(),
                };
                running
            }
        };
        {
            let settings = &self.inner.settings;
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            sched.creating.remove(&job.id);
            let due = Instant::now() + settings.poll_initial;
            sched.follow(&job.id, task, due, settings.poll_initial, "waiting".into());
        }
        self.inner.wake.notify_one();
        self.report(&running, JobEvent::Started).await;
    }

    async fn create_failed(&self, job: JobRecord, e: SeedanceError) {
        let policy = &self.inner.settings.retry;
        let verdict = policy.after_create_error(&e, job.create_unknown);
        let pause_all = match verdict {
            CreateRetry::Again { pause_all, .. } | CreateRetry::GiveUp { pause_all, .. } => {
                pause_all
            }
        };
        if pause_all {
            // Throttled (429) or refused (401/402) as an account: every start waits, for as
            // long as asked, else for the longest poll interval.
            let pause = e.retry_after().unwrap_or(self.inner.settings.poll_max);
            tracing::warn!(error = %e, pause = ?pause, "the provider throttled or refused the account; every start waits");
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            sched.creates.pause_until(Instant::now() + pause);
        }
        match verdict {
            CreateRetry::Again { after, unknown, .. } => {
                if unknown {
                    tracing::warn!(error = %e, attempt = job.create_attempts, bound = policy.create_attempts, retry_in = ?after, "createTask outcome unknown: a task may exist upstream; trying again");
                } else {
                    tracing::warn!(error = %e, retry_in = ?after, "createTask refused for now; trying again");
                }
                let not_before = now_ms() + after.as_millis() as i64;
                let change = Change::Requeue {
                    unknown,
                    not_before,
                };
                let written = self.change(&job.id, change).await;
                let mut sched = self.inner.sched.lock().expect("scheduler lock");
                sched.creating.remove(&job.id);
                match written {
                    Err(LedgerError::JobMoved(why)) => {
                        tracing::info!(why, "job changed meanwhile; not sent again");
                        sched.forget(&job.id);
                    }
                    written => {
                        if let Err(e) = &written {
                            tracing::error!(error = %e, "could not record the retry; the job waits anyway");
                        }
                        sched.wait_until(&job.id, Instant::now() + after);
                    }
                }
            }
            CreateRetry::GiveUp { unknown, .. } => {
                let reason = if unknown {
                    tracing::error!(error = %e, attempts = job.create_attempts, "createTask kept failing with an unknown outcome; the job fails and is refunded (tasks may exist upstream)");
                    gave_up_reason()
                } else {
                    tracing::warn!(error = %e, "createTask refused; the job fails and is refunded");
                    refusal_reason(&e)
                };
                if let Some(alert) = operator_alert(&e, &job) {
                    tracing::error!(error = %e, "the provider refused the bot's account; alerting the operators");
                    self.inner.reporter.operator_alert(&alert).await;
                }
                {
                    let mut sched = self.inner.sched.lock().expect("scheduler lock");
                    sched.creating.remove(&job.id);
                    sched.forget(&job.id);
                }
                let failed = JobState::Failed { reason };
                self.end_with(&job.id, failed, unknown).await;
            }
        }
    }
}
