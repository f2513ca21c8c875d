//! The one scheduler: starts queued jobs within the provider's limits, polls running jobs
//! on a backing-off timetable within the status-call budget, enforces deadlines, and ends
//! each job exactly once. Each upstream call runs in its own task and reports back here.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::upstream::{failure_reason, operator_alert, refusal_reason, task_input};
use super::{Jobs, JobsSettings, now_ms};
use crate::ids::{GuildId, MemberId};
use crate::jobs::limiter::CallBudget;
use crate::jobs::model::{JobId, JobRecord, JobState};
use crate::jobs::queue::FairQueue;
use crate::jobs::report::JobEvent;
use crate::seedance::{SeedanceError, TaskId, TaskState};

/// How many recent job durations feed the wait estimate.
pub(super) const RECENT_DURATIONS: usize = 20;
/// The wait estimate for one round of jobs before any job has finished.
const DEFAULT_JOB_DURATION: Duration = Duration::from_secs(90);
/// How many jobs at the head of the queue are told their new place when it moves.
const QUEUE_UPDATES: usize = 10;

/// The scheduler's in-memory state; the store holds the truth, this is its index.
pub(super) struct Sched {
    /// Every job not yet ended (queued, submitting or running), by id.
    pub active: HashMap<JobId, JobRecord>,
    /// When each member last had a job accepted in each server (for the cooldown), so a
    /// submission never scans the stored history.
    pub last_accepted: HashMap<(GuildId, MemberId), i64>,
    pub queue: FairQueue,
    pub polls: HashMap<JobId, Poll>,
    submitting: usize,
    creates: CallBudget,
    statuses: CallBudget,
    /// Grows while createTask keeps failing transiently; reset by a success.
    create_backoff: Duration,
    pub recent_durations: VecDeque<Duration>,
}

pub(super) struct Poll {
    pub task: TaskId,
    pub due: Instant,
    pub interval: Duration,
    pub in_flight: bool,
    pub provider_state: String,
}

impl Sched {
    pub fn new(settings: &JobsSettings) -> Sched {
        Sched {
            active: HashMap::new(),
            queue: FairQueue::default(),
            polls: HashMap::new(),
            submitting: 0,
            creates: CallBudget::new(settings.create_per_window, settings.create_window),
            statuses: CallBudget::new(settings.status_per_second, Duration::from_secs(1)),
            create_backoff: Duration::ZERO,
            recent_durations: VecDeque::new(),
            last_accepted: HashMap::new(),
        }
    }

    /// Estimated wait for the job at `position`: rounds of `max_running` jobs, each taking
    /// the median of recent durations.
    pub fn estimate_wait(&self, position: usize, max_running: usize) -> Duration {
        let mut recent: Vec<Duration> = self.recent_durations.iter().copied().collect();
        recent.sort();
        let typical = recent
            .get(recent.len() / 2)
            .copied()
            .unwrap_or(DEFAULT_JOB_DURATION);
        let rounds = position.div_ceil(max_running.max(1)) as u32;
        typical * rounds
    }

    fn running(&self) -> usize {
        self.polls.len() + self.submitting
    }
}

/// What one step decided to start, outside the lock.
enum Action {
    Submit(JobRecord),
    Poll(JobRecord, TaskId),
    Expire(JobRecord),
    /// A waiting job's place in the queue changed.
    Moved(JobRecord, usize, Duration),
}

impl Jobs {
    /// Drives the scheduler until `shutdown` completes. Upstream calls already in flight
    /// finish in their own tasks; whatever is left resumes on the next start.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let next = self.step();
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = self.inner.wake.notified() => {}
                _ = &mut shutdown => break,
            }
        }
        tracing::info!("job scheduler stopped");
    }

    /// One pass: expire overdue jobs, start what the limits allow, poll what is due.
    /// Returns when the next pass is needed at the latest.
    pub fn step(&self) -> Instant {
        let settings = &self.inner.settings;
        let now = Instant::now();
        let wall = now_ms();
        let mut actions = Vec::new();
        let mut next = now + settings.poll_max;
        {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            let sched = &mut *sched;
            // Deadlines: a job older than the deadline ends as timed out, wherever it is.
            let deadline_ms = settings.deadline.as_millis() as i64;
            let overdue: Vec<JobId> = sched
                .active
                .values()
                .filter(|j| wall - j.created_at >= deadline_ms && j.state != JobState::Submitting)
                .filter(|j| sched.polls.get(&j.id).is_none_or(|p| !p.in_flight))
                .map(|j| j.id.clone())
                .collect();
            for id in overdue {
                sched.queue.remove(&id);
                sched.polls.remove(&id);
                if let Some(job) = sched.active.remove(&id) {
                    actions.push(Action::Expire(job));
                }
            }
            // Starts: within the running cap and the createTask budget.
            while !sched.queue.is_empty() && sched.running() < settings.max_running {
                if !sched.creates.try_take(now) {
                    next = next.min(sched.creates.next_free(now));
                    break;
                }
                let id = sched.queue.pop().expect("not empty");
                if let Some(job) = sched.active.get_mut(&id) {
                    job.state = JobState::Submitting;
                    sched.submitting += 1;
                    actions.push(Action::Submit(job.clone()));
                }
            }
            // The queue moved: the jobs now at its head learn their new place.
            if actions.iter().any(|a| matches!(a, Action::Submit(_))) {
                for (i, id) in sched
                    .queue
                    .order()
                    .into_iter()
                    .take(QUEUE_UPDATES)
                    .enumerate()
                {
                    if let Some(job) = sched.active.get(&id) {
                        let eta = sched.estimate_wait(i + 1, settings.max_running);
                        actions.push(Action::Moved(job.clone(), i + 1, eta));
                    }
                }
            }
            // Polls: the most overdue first, within the status-call budget.
            let mut due: Vec<(Instant, JobId)> = sched
                .polls
                .iter()
                .filter(|(_, p)| !p.in_flight)
                .map(|(id, p)| (p.due, id.clone()))
                .collect();
            due.sort();
            for (when, id) in due {
                if when > now {
                    next = next.min(when);
                    break;
                }
                if !sched.statuses.try_take(now) {
                    next = next.min(sched.statuses.next_free(now));
                    break;
                }
                let poll = sched.polls.get_mut(&id).expect("listed");
                poll.in_flight = true;
                if let Some(job) = sched.active.get(&id) {
                    actions.push(Action::Poll(job.clone(), poll.task.clone()));
                }
            }
            metrics::gauge!("seedance_jobs", "state" => "queued").set(sched.queue.len() as f64);
            metrics::gauge!("seedance_jobs", "state" => "submitting").set(sched.submitting as f64);
            metrics::gauge!("seedance_jobs", "state" => "running").set(sched.polls.len() as f64);
            // Wake for the nearest deadline too.
            if let Some(oldest) = sched.active.values().map(|j| j.created_at).min() {
                let left = (oldest + deadline_ms - wall).max(0) as u64;
                next = next.min(now + Duration::from_millis(left));
            }
        }
        for action in actions {
            let jobs = self.clone();
            match action {
                Action::Submit(job) => {
                    tokio::spawn(async move { jobs.submit_upstream(job).await });
                }
                Action::Poll(job, task) => {
                    tokio::spawn(async move { jobs.poll_upstream(job, task).await });
                }
                Action::Moved(job, position, eta) => {
                    tokio::spawn(async move {
                        jobs.report(&job, JobEvent::Queued { position, eta }).await
                    });
                }
                Action::Expire(job) => {
                    tokio::spawn(async move {
                        jobs.finish(job, JobState::TimedOut).await;
                    });
                }
            }
        }
        next.max(now + Duration::from_millis(1))
    }

    pub(super) fn enqueue(&self, job: JobRecord) {
        {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            sched
                .queue
                .push(job.request.guild, job.request.member, job.id.clone());
            let last = sched
                .last_accepted
                .entry((job.request.guild, job.request.member))
                .or_default();
            *last = (*last).max(job.created_at);
            sched.active.insert(job.id.clone(), job);
        }
        self.inner.wake.notify_one();
    }

    /// Takes a waiting job out of the queue; false if it already left it.
    pub(super) fn take_from_queue(&self, id: &JobId) -> bool {
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        let taken = sched.queue.remove(id);
        if taken {
            sched.active.remove(id);
        }
        taken
    }

    pub(super) fn update_cached(&self, record: &JobRecord) {
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        if let Some(cached) = sched.active.get_mut(&record.id) {
            cached.reply = record.reply.clone();
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %job.id, guild = %job.request.guild, member = %job.request.member))]
    async fn submit_upstream(&self, mut job: JobRecord) {
        job.state = JobState::Submitting;
        job.started_at = Some(now_ms());
        if let Err(e) = self.persist(&job).await {
            // Not recorded as submitting: put it back rather than risk an unknown outcome.
            tracing::error!(error = %e, "could not record the submission; job stays queued");
            self.requeue(job, None);
            return;
        }
        let input = task_input(&job);
        match self.inner.provider.create_task(&input).await {
            Ok(task) => {
                tracing::info!(task_id = %task.0, "task created upstream");
                job.state = JobState::Running {
                    task_id: task.0.clone(),
                    provider_state: "waiting".into(),
                };
                if let Err(e) = self.persist(&job).await {
                    tracing::error!(error = %e, "could not record the task id");
                }
                {
                    let mut sched = self.inner.sched.lock().expect("scheduler lock");
                    sched.submitting -= 1;
                    sched.create_backoff = Duration::ZERO;
                    sched.polls.insert(
                        job.id.clone(),
                        Poll {
                            task,
                            due: Instant::now() + self.inner.settings.poll_initial,
                            interval: self.inner.settings.poll_initial,
                            in_flight: false,
                            provider_state: "waiting".into(),
                        },
                    );
                    sched.active.insert(job.id.clone(), job.clone());
                }
                self.inner.wake.notify_one();
                self.report(&job, JobEvent::Started).await;
            }
            Err(e) if e.retryable() => {
                // A refusal (429, 409, 455) proves no task was made. A timeout or a 500 does
                // not: the job is still sent again, because losing a member's job is worse
                // than the rare duplicate task on the operator's account.
                if e.resubmit_safe() {
                    tracing::warn!(error = %e, "createTask refused for now; the job goes back to the queue");
                } else {
                    tracing::warn!(error = %e, "createTask outcome unknown; the job goes back to the queue and may make a duplicate task upstream");
                }
                job.state = JobState::Queued;
                job.started_at = None;
                if let Err(e) = self.persist(&job).await {
                    tracing::error!(error = %e, "could not record the requeue");
                }
                self.requeue(job, Some(e));
            }
            Err(e) => {
                tracing::warn!(error = %e, "createTask refused; the job fails and is refunded");
                {
                    let mut sched = self.inner.sched.lock().expect("scheduler lock");
                    sched.submitting -= 1;
                    sched.active.remove(&job.id);
                }
                let reason = refusal_reason(&e);
                if let Some(alert) = operator_alert(&e, &job) {
                    tracing::error!(error = %e, "the provider refused the bot's account; alerting the operators");
                    self.inner.reporter.operator_alert(&alert).await;
                }
                self.finish(job, JobState::Failed { reason }).await;
            }
        }
    }

    /// Puts a job whose start failed transiently back at the head of its line, and holds
    /// further starts for the provider's Retry-After or a growing backoff.
    fn requeue(&self, job: JobRecord, error: Option<SeedanceError>) {
        {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            sched.submitting -= 1;
            let pause = match error.as_ref().and_then(|e| e.retry_after()) {
                Some(after) => after,
                None => {
                    sched.create_backoff = (sched.create_backoff * 2)
                        .clamp(Duration::from_millis(500), Duration::from_secs(60));
                    sched.create_backoff
                }
            };
            sched.creates.pause_until(Instant::now() + pause);
            sched
                .queue
                .push_front(job.request.guild, job.request.member, job.id.clone());
            sched.active.insert(job.id.clone(), job);
        }
        self.inner.wake.notify_one();
    }

    #[tracing::instrument(skip_all, fields(job_id = %job.id, guild = %job.request.guild, member = %job.request.member))]
    async fn poll_upstream(&self, mut job: JobRecord, task: TaskId) {
        let result = self.inner.provider.record_info(&task).await;
        let settings = &self.inner.settings;
        let now = Instant::now();
        let ended = match result {
            Ok(record) => match record.state {
                TaskState::Success if !record.result_urls.is_empty() => Some(JobState::Succeeded {
                    task_id: task.0.clone(),
                    urls: record.result_urls,
                }),
                TaskState::Success => Some(JobState::Failed {
                    reason:
                        "the provider reported success but sent no video; your credits are back"
                            .into(),
                }),
                TaskState::Fail => Some(JobState::Failed {
                    reason: failure_reason(&record),
                }),
                ref running => {
                    let label = running.as_str().to_owned();
                    let changed = self.reschedule(&job.id, now, None, Some(&label));
                    if changed {
                        job.state = JobState::Running {
                            task_id: task.0.clone(),
                            provider_state: label.clone(),
                        };
                        if let Err(e) = self.persist(&job).await {
                            tracing::warn!(error = %e, "could not record the provider state");
                        }
                        self.update_state(&job);
                        let elapsed = Duration::from_millis(
                            (now_ms() - job.started_at.unwrap_or(job.created_at)).max(0) as u64,
                        );
                        self.report(
                            &job,
                            JobEvent::Progress {
                                provider_state: label,
                                elapsed,
                            },
                        )
                        .await;
                    }
                    None
                }
            },
            Err(SeedanceError::NotFound { .. })
                if now_ms() - job.started_at.unwrap_or(job.created_at)
                    < settings.not_found_grace.as_millis() as i64 =>
            {
                // A fresh task can be unknown for a while: keep polling.
                self.reschedule(&job.id, now, None, None);
                None
            }
            Err(SeedanceError::NotFound { .. }) => Some(JobState::Failed {
                reason: "the provider no longer knows this task; your credits are back".into(),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "recordInfo failed; will retry");
                let mut wait = e.retry_after();
                if matches!(e, SeedanceError::RateLimited { .. }) {
                    let until = now + wait.unwrap_or(Duration::from_secs(1));
                    self.inner
                        .sched
                        .lock()
                        .expect("scheduler lock")
                        .statuses
                        .pause_until(until);
                    wait = Some(until - now);
                }
                self.reschedule(&job.id, now, Some(wait.unwrap_or(settings.poll_max)), None);
                None
            }
        };
        if let Some(state) = ended {
            let removed = {
                let mut sched = self.inner.sched.lock().expect("scheduler lock");
                sched.polls.remove(&job.id);
                sched.active.remove(&job.id)
            };
            // A job the deadline already took is not ended twice.
            if let Some(job) = removed {
                self.finish(job, state).await;
            }
        }
        self.inner.wake.notify_one();
    }

    /// Sets the next poll of a job: after `wait` if given, else after its interval grown by
    /// half (up to `poll_max`) with ±10% jitter. Returns whether the provider state changed.
    fn reschedule(
        &self,
        id: &JobId,
        now: Instant,
        wait: Option<Duration>,
        state: Option<&str>,
    ) -> bool {
        let settings = &self.inner.settings;
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        let Some(poll) = sched.polls.get_mut(id) else {
            return false;
        };
        poll.in_flight = false;
        let wait = wait.unwrap_or_else(|| {
            poll.interval = poll.interval.mul_f64(1.5).min(settings.poll_max);
            poll.interval
                .mul_f64(rand::thread_rng().gen_range(0.9..1.1))
        });
        poll.due = now + wait;
        match state {
            Some(s) if s != poll.provider_state => {
                poll.provider_state = s.to_owned();
                true
            }
            _ => false,
        }
    }

    fn update_state(&self, job: &JobRecord) {
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        if let Some(cached) = sched.active.get_mut(&job.id) {
            cached.state = job.state.clone();
        }
    }
}
