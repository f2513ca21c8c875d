//! The one scheduler: starts queued jobs within the provider's limits, polls running jobs
//! on a backing-off timetable within the status-call budget, enforces deadlines, and ends
//! each job exactly once. Each upstream call runs in its own task and reports back here.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::{Jobs, JobsSettings, job_write, now_ms};
use crate::ids::{GuildId, MemberId};
use crate::jobs::limiter::CallBudget;
use crate::jobs::model::{JobId, JobRecord, JobState};
use crate::jobs::queue::FairQueue;
use crate::jobs::report::JobEvent;
use crate::seedance::{SeedanceError, TaskId, TaskInput, TaskRecord, TaskState};
use crate::video::ReferenceKind;

/// How many recent job durations feed the wait estimate.
const RECENT_DURATIONS: usize = 20;
/// The wait estimate for one round of jobs before any job has finished.
const DEFAULT_JOB_DURATION: Duration = Duration::from_secs(90);
/// How many jobs at the head of the queue are told their new place when it moves.
const QUEUE_UPDATES: usize = 10;
/// Longest pause between attempts to deliver a final report.
const MAX_DELIVERY_BACKOFF: Duration = Duration::from_secs(60);

/// The scheduler's in-memory state; the store holds the truth, this is its index.
pub(super) struct Sched {
    /// Every job not yet ended (queued, submitting or running), by id.
    pub active: HashMap<JobId, JobRecord>,
    /// When each member last had a job accepted in each server (for the cooldown), so a
    /// submission never scans the stored history.
    pub last_accepted: HashMap<(GuildId, MemberId), i64>,
    pub queue: FairQueue,
    polls: HashMap<JobId, Poll>,
    submitting: usize,
    creates: CallBudget,
    statuses: CallBudget,
    /// Grows while createTask keeps failing transiently; reset by a success.
    create_backoff: Duration,
    recent_durations: VecDeque<Duration>,
}

struct Poll {
    task: TaskId,
    due: Instant,
    interval: Duration,
    in_flight: bool,
    provider_state: String,
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
                    let label = state_label(running);
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
    async fn deliver_final(&self, mut job: JobRecord) {
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

    async fn report(&self, job: &JobRecord, event: JobEvent) {
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

/// The task as the provider wants it.
fn task_input(job: &JobRecord) -> TaskInput {
    let r = &job.request;
    TaskInput {
        prompt: Some(r.prompt.clone()),
        reference_image_urls: r.urls_of(ReferenceKind::Image),
        reference_video_urls: r.urls_of(ReferenceKind::Video),
        reference_audio_urls: r.urls_of(ReferenceKind::Audio),
        ratio: Some(r.ratio),
        aspect_ratio: None,
        resolution: Some(r.resolution),
        duration: Some(r.duration),
        generate_audio: Some(r.generate_audio),
        web_search: Some(r.web_search),
        nsfw_checker: Some(r.nsfw_checker),
    }
}

fn state_label(state: &TaskState) -> String {
    match state {
        TaskState::Waiting => "waiting".into(),
        TaskState::Queuing => "queuing".into(),
        TaskState::Generating => "generating".into(),
        TaskState::Success => "success".into(),
        TaskState::Fail => "fail".into(),
        TaskState::Other(s) => s.clone(),
    }
}

/// What the member reads when the provider refused the task outright.
fn refusal_reason(e: &SeedanceError) -> String {
    match e {
        SeedanceError::InvalidRequest { message, .. } => {
            format!(
                "the provider refused the request ({message}); change the prompt or references and try again"
            )
        }
        SeedanceError::Auth { .. } | SeedanceError::OutOfCredits { .. } => {
            "the bot's provider account needs its operator's attention; your credits are back"
                .into()
        }
        other => format!("the provider could not take the job ({other}); your credits are back"),
    }
}

/// What the operators read when the provider refused the bot's key (401/403) or account
/// (402). Never contains the key: `SeedanceError` does not carry it.
fn operator_alert(e: &SeedanceError, job: &JobRecord) -> Option<String> {
    let what = match e {
        SeedanceError::Auth { .. } => {
            "the provider refused the bot's API key (401/403): check `seedance.api_key`"
        }
        SeedanceError::OutOfCredits { .. } => {
            "the provider account is out of credits (402): top it up"
        }
        _ => return None,
    };
    Some(format!(
        "seedance-bot needs its operator: {what}. Job `{}` in server {} was refunded; new jobs will fail the same way until this is fixed.",
        job.id, job.request.guild
    ))
}

fn failure_reason(record: &TaskRecord) -> String {
    match (&record.fail_msg, &record.fail_code) {
        (Some(msg), _) if !msg.trim().is_empty() => {
            format!("the provider could not make the video: {msg}")
        }
        (_, Some(code)) => format!("the provider could not make the video (code {code})"),
        _ => "the provider could not make the video".into(),
    }
}
