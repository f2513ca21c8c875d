//! The one scheduler: starts queued jobs within the provider's limits, polls running jobs
//! on a backing-off timetable within the status-call budget, enforces deadlines, and hands
//! ended jobs' final reports to delivery. Each createTask runs in its own task; polls run on
//! a bounded set of poll workers (`workers`), handed a due poll only while one is free.
//! Both report back here; every change of a job is a guarded write (see `transition`), so the
//! order in which those tasks finish can never undo a transition.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::Jobs;
use super::live::Live;
use super::transition::Change;
use super::upstream::failure_reason;
use super::workers::Workers;
use crate::clock::now_ms;
use crate::credits::LedgerError;
use crate::jobs::model::{JobId, JobRecord, JobState};
use crate::jobs::report::JobEvent;
use crate::seedance::{SeedanceError, TaskId, TaskState};

/// How many jobs at the head of the queue are told their new place when it moves.
const QUEUE_UPDATES: usize = 10;
/// How many final reports are delivered at once.
const DELIVERY_WORKERS: usize = 8;
/// The fewest and the most poll workers (see [`poll_workers`]).
const POLL_WORKERS_MIN: usize = 4;
const POLL_WORKERS_MAX: usize = 128;

/// How many status calls may be in flight at once: enough to spend the whole status budget
/// while each call takes up to 2 s, within [`POLL_WORKERS_MIN`]..=[`POLL_WORKERS_MAX`].
fn poll_workers(status_per_second: u32) -> usize {
    (status_per_second as usize)
        .saturating_mul(2)
        .clamp(POLL_WORKERS_MIN, POLL_WORKERS_MAX)
}

/// A due poll, as handed to a poll worker.
type PollItem = (JobId, Live, TaskId);

/// What one step decided to start, outside the lock.
enum Action {
    Submit(JobId, Live),
    Poll(PollItem),
    Expire(JobId),
    /// Nobody decided on a job held for approval in time.
    ExpireApproval(JobId),
    Deliver(JobId),
    /// A waiting job's place in the queue changed.
    Moved(JobId, usize, Duration),
}

impl Jobs {
    /// Drives the scheduler until `shutdown` completes. Upstream calls already in flight
    /// finish in their own tasks; whatever is left resumes on the next start.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        // Sharing a store with other processes: take part in the scheduler lease.
        let (stop_lead, lead_stopped) = tokio::sync::watch::channel(false);
        let lead = self.inner.fleet.is_shared().then(|| {
            let jobs = self.clone();
            let mut stopped = lead_stopped.clone();
            tokio::spawn(async move {
                jobs.lead(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
            })
        });
        // The poll workers end once `polls` is dropped and the polls they hold are done.
        let polls = {
            let (jobs, waker) = (self.clone(), self.clone());
            Workers::start(
                poll_workers(self.inner.settings.status_per_second),
                move |(id, live, task): PollItem| {
                    let jobs = jobs.clone();
                    async move { jobs.poll_upstream(id, live, task).await }
                },
                move || waker.inner.wake.notify_one(),
            )
        };
        loop {
            let next = self.step(&polls);
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = self.inner.wake.notified() => {}
                _ = &mut shutdown => break,
            }
        }
        drop(polls);
        let _ = stop_lead.send(true);
        if let Some(lead) = lead {
            let _ = lead.await;
        }
        tracing::info!("job scheduler stopped");
    }

    /// One pass: expire overdue jobs (and undecided ones held for approval), start what the
    /// limits allow, poll what is due,
    /// deliver due final reports. Returns when the next pass is needed at the latest.
    fn step(&self, polls: &Workers<PollItem>) -> Instant {
        let settings = &self.inner.settings;
        let now = Instant::now();
        let wall = now_ms();
        let mut actions = Vec::new();
        let mut next = now + settings.poll_max;
        // Starts, polls and deadlines are the lease holder's (see `fleet`); reports of jobs
        // this process ended are delivered by it either way.
        let leads = self.inner.fleet.leads();
        let may_send = self
            .inner
            .fleet
            .may_send(now, settings.config.seedance.request_timeout);
        {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            let sched = &mut *sched;
            // Deadlines, for every live state. A createTask in flight is bounded by the
            // request timeout and decides first (its answer says whether a paid task
            // exists); a poll in flight does not hold the deadline: its late answer is
            // dropped by the guarded end.
            let deadline_ms = settings.deadline.as_millis() as i64;
            let overdue: Vec<JobId> = sched
                .older_than(wall - deadline_ms)
                .filter(|id| leads && !sched.creating.contains(*id))
                .cloned()
                .collect();
            for id in overdue {
                sched.forget(&id);
                actions.push(Action::Expire(id));
            }
            // Jobs held for approval whose time is up: refunded (the lease holder's, like
            // every deadline).
            while let Some(expired) = leads.then(|| sched.next_expired_approval(now)) {
                match expired {
                    Ok(id) => actions.push(Action::ExpireApproval(id)),
                    Err(when) => {
                        if let Some(when) = when {
                            next = next.min(when);
                        }
                        break;
                    }
                }
            }
            // Jobs whose own backoff is over go back to the head of their line.
            loop {
                match sched.next_waited(now) {
                    Ok(id) => {
                        if let Some(live) = sched.live(&id) {
                            sched.queue.push_front(live.guild, live.member, id);
                        }
                    }
                    Err(when) => {
                        if let Some(when) = when {
                            next = next.min(when);
                        }
                        break;
                    }
                }
            }
            // Starts: within the running cap and the createTask budget.
            let mut started = false;
            while may_send && !sched.queue.is_empty() && sched.running() < settings.max_running {
                // Reserved now, counted from when the call goes out (`CreateSlot`).
                if !sched.creates.try_reserve(now) {
                    next = next.min(sched.creates.next_free(now));
                    break;
                }
                let id = sched.queue.pop().expect("not empty");
                match sched.live(&id) {
                    Some(live) => {
                        sched.creating.insert(id.clone());
                        actions.push(Action::Submit(id, live));
                        started = true;
                    }
                    None => sched.creates.unreserve(),
                }
            }
            // The queue moved: the jobs now at its head learn their new place.
            if started {
                for (i, id) in sched.queue.head(QUEUE_UPDATES).into_iter().enumerate() {
                    let eta = sched.estimate_wait(i + 1, settings.max_running);
                    actions.push(Action::Moved(id, i + 1, eta));
                }
            }
            // Polls: the most overdue first, within the status-call budget, while a poll
            // worker is free (a worker that finishes wakes this loop).
            let mut free_workers = polls.free();
            while let Some(when) = sched.next_poll_due().filter(|_| leads) {
                if when > now {
                    next = next.min(when);
                    break;
                }
                if free_workers == 0 {
                    break;
                }
                if !sched.statuses.try_take(now) {
                    next = next.min(sched.statuses.next_free(now));
                    break;
                }
                let Some((id, task)) = sched.take_poll() else {
                    break;
                };
                if let Some(live) = sched.live(&id) {
                    free_workers -= 1;
                    actions.push(Action::Poll((id, live, task)));
                }
            }
            // Final reports that are due, a few at a time.
            while sched.deliveries.in_flight() < DELIVERY_WORKERS {
                match sched.deliveries.next_due(now) {
                    Ok(id) => actions.push(Action::Deliver(id)),
                    Err(when) => {
                        if let Some(when) = when {
                            next = next.min(when);
                        }
                        break;
                    }
                }
            }
            metrics::gauge!("seedance_jobs", "state" => "queued")
                .set((sched.queue.len() + sched.waiting_len()) as f64);
            metrics::gauge!("seedance_jobs", "state" => "submitting")
                .set(sched.creating.len() as f64);
            metrics::gauge!("seedance_jobs", "state" => "running").set(sched.polls.len() as f64);
            metrics::gauge!("seedance_jobs", "state" => "awaiting_approval")
                .set(sched.awaiting_len() as f64);
            // Wake for the nearest deadline too.
            if let Some(oldest) = sched.oldest() {
                let left = (oldest + deadline_ms - wall).max(0) as u64;
                next = next.min(now + Duration::from_millis(left));
            }
        }
        for action in actions {
            let jobs = self.clone();
            match action {
                Action::Submit(id, live) => {
                    tokio::spawn(async move { jobs.submit_upstream(id, live).await });
                }
                Action::Poll(item) => {
                    // Only this loop hands polls over, and it counted the free workers.
                    if let Err((id, _, _)) = polls.try_send(item) {
                        let mut sched = jobs.inner.sched.lock().expect("scheduler lock");
                        sched.poll_again(&id, now);
                    }
                }
                Action::Moved(id, position, eta) => {
                    tokio::spawn(async move {
                        if let Some(job) = jobs.get(&id) {
                            jobs.report(&job, JobEvent::Queued { position, eta }).await;
                        }
                    });
                }
                Action::Expire(id) => {
                    tokio::spawn(async move {
                        jobs.end(&id, JobState::TimedOut).await;
                    });
                }
                Action::ExpireApproval(id) => {
                    tokio::spawn(async move {
                        jobs.expire_approval(&id).await;
                    });
                }
                Action::Deliver(id) => {
                    tokio::spawn(async move { jobs.deliver_once(id).await });
                }
            }
        }
        next.max(now + Duration::from_millis(1))
    }

    /// Puts a queued job in line: at once, or after its own backoff (`not_before`).
    pub(super) fn enqueue(&self, job: &JobRecord) {
        {
            let mut sched = self.inner.sched.lock().expect("scheduler lock");
            // Already in line (found by the fleet's sync as well as by its own admission).
            if sched.live(&job.id).is_some() {
                return;
            }
            sched.track(&job.id, Live::of(job));
            let wait = job
                .not_before
                .map(|at| Duration::from_millis((at - now_ms()).max(0) as u64))
                .filter(|wait| !wait.is_zero());
            match wait {
                Some(wait) => sched.wait_until(&job.id, Instant::now() + wait),
                None => sched
                    .queue
                    .push(job.request.guild, job.request.member, job.id.clone()),
            }
        }
        self.inner.wake.notify_one();
    }

    /// Takes a waiting job out of line; false if it already left it.
    pub(super) fn take_from_queue(&self, id: &JobId) -> bool {
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        let Some(live) = sched.live(id) else {
            return false;
        };
        let taken = sched.queue.remove_from(live.guild, live.member, id) || sched.unwait(id);
        if taken {
            sched.forget(id);
        }
        taken
    }

    /// Keeps the scheduler's entry of a live job in step with the stored record.
    pub(super) fn update_cached(&self, record: &JobRecord) {
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        if sched.live(&record.id).is_some() {
            sched.track(&record.id, Live::of(record));
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %id, guild = %live.guild, member = %live.member))]
    async fn poll_upstream(&self, id: JobId, live: Live, task: TaskId) {
        let result = self.inner.provider.record_info(&task).await;
        let settings = &self.inner.settings;
        let now = Instant::now();
        let elapsed_ms = now_ms() - live.started_at.unwrap_or(live.created_at);
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
                    if self.reschedule(&id, now, None, Some(&label)) {
                        self.progressed(&id, &task, label, elapsed_ms).await;
                    }
                    None
                }
            },
            Err(SeedanceError::NotFound { .. })
                if elapsed_ms < settings.not_found_grace.as_millis() as i64 =>
            {
                // A fresh task can be unknown for a while: keep polling.
                self.reschedule(&id, now, None, None);
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
                self.reschedule(&id, now, Some(wait.unwrap_or(settings.poll_max)), None);
                None
            }
        };
        if let Some(state) = ended {
            self.inner.sched.lock().expect("scheduler lock").forget(&id);
            // Whether the deadline already ended this job is the store's to say: the end
            // is a guarded write, so a late answer changes nothing.
            self.end(&id, state).await;
        }
        // The worker that ran this poll wakes the scheduler when it is free again.
    }

    /// Records a new provider state, unless the job moved on meanwhile. It moves no money
    /// and the next poll would find it again, so it waits for no flush of its own: the next
    /// durable write carries it to disk.
    async fn progressed(&self, id: &JobId, task: &TaskId, label: String, elapsed_ms: i64) {
        let change = Change::Progress {
            task_id: task.0.clone(),
            provider_state: label.clone(),
        };
        match self.change_lazily(id, change).await {
            Ok(record) => {
                let elapsed = Duration::from_millis(elapsed_ms.max(0) as u64);
                let event = JobEvent::Progress {
                    provider_state: label,
                    elapsed,
                };
                // Reported on the side: a card edit riding out Discord's limits must not
                // hold up this job's next poll (the receiver keeps the newest state).
                let jobs = self.clone();
                tokio::spawn(async move { jobs.report(&record, event).await });
            }
            Err(LedgerError::JobMoved(why)) => {
                tracing::info!(why, "late provider state for a job that moved on; dropped");
            }
            Err(e) => tracing::warn!(error = %e, "could not record the provider state"),
        }
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
        let wait = wait.unwrap_or_else(|| {
            poll.interval = poll.interval.mul_f64(1.5).min(settings.poll_max);
            poll.interval
                .mul_f64(rand::thread_rng().gen_range(0.9..1.1))
        });
        let changed = match state {
            Some(s) if s != poll.provider_state => {
                poll.provider_state = s.to_owned();
                true
            }
            _ => false,
        };
        sched.poll_again(id, now + wait);
        changed
    }

    /// Queues a try of a final report at `when` (one entry per job: see `live::Deliveries`).
    pub(super) fn deliver_at(&self, id: JobId, when: Instant) {
        self.inner
            .sched
            .lock()
            .expect("scheduler lock")
            .deliveries
            .schedule(id, when);
        self.inner.wake.notify_one();
    }

    /// A try of `id`'s report ended (its worker is free again); it goes again at `next`.
    pub(super) fn delivery_done(&self, id: &JobId, next: Option<Instant>) {
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        sched.deliveries.done(id, next);
        drop(sched);
        self.inner.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_workers_follow_the_status_budget_within_bounds() {
        assert_eq!(poll_workers(0), POLL_WORKERS_MIN);
        assert_eq!(poll_workers(1), POLL_WORKERS_MIN);
        assert_eq!(poll_workers(10), 20);
        assert_eq!(poll_workers(500), POLL_WORKERS_MAX);
        assert_eq!(poll_workers(u32::MAX), POLL_WORKERS_MAX);
    }
}
