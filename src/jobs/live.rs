//! The scheduler's index of live jobs: a compact entry per job (the full record stays in
//! the store), ordered sets for deadlines, due polls, backoffs, deliveries (one entry per
//! job) and the expiry of jobs held for approval, and a per-member index, so every
//! scheduler event costs O(log n) in the number of live jobs.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use super::JobsSettings;
use super::limiter::CallBudget;
use super::model::{JobId, JobRecord};
use super::queue::FairQueue;
use crate::ids::{GuildId, MemberId};
use crate::seedance::TaskId;

/// How many recent job durations feed the wait estimate.
pub(super) const RECENT_DURATIONS: usize = 20;
/// The wait estimate for one round of jobs before any job has finished.
const DEFAULT_JOB_DURATION: Duration = Duration::from_secs(90);

/// What scheduling needs of a live job; a few dozen bytes besides its id.
#[derive(Debug, Clone, Copy)]
pub(super) struct Live {
    pub guild: GuildId,
    pub member: MemberId,
    /// When the job joined the queue (unix ms): its admission, or its approval.
    pub created_at: i64,
    pub started_at: Option<i64>,
}

impl Live {
    pub fn of(job: &JobRecord) -> Live {
        Live {
            guild: job.request.guild,
            member: job.request.member,
            // The deadline counts from when the job joined the queue (its approval, when
            // it needed one): waiting for a decision is not waiting for the provider.
            created_at: job.queued_since(),
            started_at: job.started_at,
        }
    }
}

pub(super) struct Poll {
    pub task: TaskId,
    pub due: Instant,
    pub interval: Duration,
    pub in_flight: bool,
    pub provider_state: String,
}

/// The scheduler's in-memory state; the store holds the truth, this is its index.
pub(super) struct Sched {
    /// Every job not yet ended (queued, submitting or running), by id.
    active: HashMap<JobId, Live>,
    /// Live jobs by creation time: the deadline order.
    by_age: BTreeSet<(i64, JobId)>,
    pub queue: FairQueue,
    /// Queued jobs sitting out their own backoff after a failed createTask, by when they
    /// may go again; one job's trouble never holds up the others.
    waiting: BTreeSet<(Instant, JobId)>,
    waiting_until: HashMap<JobId, Instant>,
    pub polls: HashMap<JobId, Poll>,
    /// Polls by due time. Entries are dropped lazily: one is current only while it matches
    /// its poll's `due` and the poll is not in flight.
    due_polls: BTreeSet<(Instant, JobId)>,
    /// Jobs whose createTask is in flight.
    pub creating: HashSet<JobId>,
    pub creates: CallBudget,
    pub statuses: CallBudget,
    pub recent_durations: VecDeque<Duration>,
    /// Final reports to try (or, sharing the store, to check on), one entry per job.
    pub deliveries: Deliveries,
    /// Jobs held for approval, by when nobody having decided refunds them. They are in
    /// no index of live work above (not in the queue, not counted against the provider's
    /// budgets) until approved.
    awaiting: HashMap<JobId, Instant>,
    /// Their expiries by due time. Entries are dropped lazily: one is current only while
    /// it matches its job's entry in `awaiting`.
    approval_due: BTreeSet<(Instant, JobId)>,
}

impl Sched {
    pub fn new(settings: &JobsSettings) -> Sched {
        Sched {
            active: HashMap::new(),
            by_age: BTreeSet::new(),
            queue: FairQueue::default(),
            waiting: BTreeSet::new(),
            waiting_until: HashMap::new(),
            polls: HashMap::new(),
            due_polls: BTreeSet::new(),
            creating: HashSet::new(),
            creates: CallBudget::new(settings.create_per_window, settings.create_window),
            statuses: CallBudget::new(settings.status_per_second, Duration::from_secs(1)),
            recent_durations: VecDeque::new(),
            deliveries: Deliveries::default(),
            awaiting: HashMap::new(),
            approval_due: BTreeSet::new(),
        }
    }

    /// Holds a job for approval until `expires` (or refreshes when it expires).
    pub fn await_decision(&mut self, id: &JobId, expires: Instant) {
        self.awaiting.insert(id.clone(), expires);
        self.approval_due.insert((expires, id.clone()));
    }

    /// Stops waiting for a decision on `id`; whether it was awaited here.
    pub fn stop_awaiting(&mut self, id: &JobId) -> bool {
        self.awaiting.remove(id).is_some()
    }

    /// The ids of the jobs held for approval here.
    pub fn awaiting_ids(&self) -> impl Iterator<Item = &JobId> {
        self.awaiting.keys()
    }

    pub fn awaiting_len(&self) -> usize {
        self.awaiting.len()
    }

    /// The next job held for approval whose time is up at `now` (no longer awaited once
    /// returned), or when the next one will be; stale entries are dropped on the way.
    pub fn next_expired_approval(&mut self, now: Instant) -> Result<JobId, Option<Instant>> {
        while let Some((when, id)) = self.approval_due.first().cloned() {
            if self.awaiting.get(&id) != Some(&when) {
                self.approval_due.pop_first();
                continue;
            }
            if when > now {
                return Err(Some(when));
            }
            self.approval_due.pop_first();
            self.awaiting.remove(&id);
            return Ok(id);
        }
        Err(None)
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

    pub fn running(&self) -> usize {
        self.polls.len() + self.creating.len()
    }

    pub fn live(&self, id: &JobId) -> Option<Live> {
        self.active.get(id).copied()
    }

    /// Starts tracking a live job (or refreshes what is known of it).
    pub fn track(&mut self, id: &JobId, live: Live) {
        if let Some(old) = self.active.insert(id.clone(), live) {
            self.by_age.remove(&(old.created_at, id.clone()));
        }
        self.by_age.insert((live.created_at, id.clone()));
    }

    /// The ids of every live job known here.
    pub fn ids(&self) -> impl Iterator<Item = &JobId> {
        self.active.keys()
    }

    /// Forgets a job in every index of live work; returns what was known of it.
    pub fn forget(&mut self, id: &JobId) -> Option<Live> {
        let live = self.active.remove(id)?;
        self.by_age.remove(&(live.created_at, id.clone()));
        self.queue.remove_from(live.guild, live.member, id);
        self.unwait(id);
        self.polls.remove(id);
        Some(live)
    }

    /// Live jobs created at or before `cutoff` (unix ms), oldest first.
    pub fn older_than(&self, cutoff: i64) -> impl Iterator<Item = &JobId> {
        self.by_age
            .iter()
            .take_while(move |(created, _)| *created <= cutoff)
            .map(|(_, id)| id)
    }

    /// When the oldest live job was created.
    pub fn oldest(&self) -> Option<i64> {
        self.by_age.first().map(|(created, _)| *created)
    }

    /// Puts a queued job aside until `until`.
    pub fn wait_until(&mut self, id: &JobId, until: Instant) {
        self.unwait(id);
        self.waiting.insert((until, id.clone()));
        self.waiting_until.insert(id.clone(), until);
    }

    /// Takes a job off the waiting list; whether it was there.
    pub fn unwait(&mut self, id: &JobId) -> bool {
        match self.waiting_until.remove(id) {
            Some(until) => self.waiting.remove(&(until, id.clone())),
            None => false,
        }
    }

    /// The next job whose backoff is over at `now`, or when the next one will be.
    pub fn next_waited(&mut self, now: Instant) -> Result<JobId, Option<Instant>> {
        match self.waiting.first().cloned() {
            Some((when, id)) if when <= now => {
                self.waiting.pop_first();
                self.waiting_until.remove(&id);
                Ok(id)
            }
            Some((when, _)) => Err(Some(when)),
            None => Err(None),
        }
    }

    pub fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    /// Starts following a task: its first poll is due at `due`, its interval grows from
    /// `interval`.
    pub fn follow(
        &mut self,
        id: &JobId,
        task: TaskId,
        due: Instant,
        interval: Duration,
        state: String,
    ) {
        self.polls.insert(
            id.clone(),
            Poll {
                task,
                due,
                interval,
                in_flight: false,
                provider_state: state,
            },
        );
        self.due_polls.insert((due, id.clone()));
    }

    /// Marks a poll as answered and due again at `due`.
    pub fn poll_again(&mut self, id: &JobId, due: Instant) {
        if let Some(poll) = self.polls.get_mut(id) {
            poll.in_flight = false;
            poll.due = due;
            self.due_polls.insert((due, id.clone()));
        }
    }

    /// When the next poll is due, dropping stale entries on the way.
    pub fn next_poll_due(&mut self) -> Option<Instant> {
        while let Some((when, id)) = self.due_polls.first() {
            let current = self
                .polls
                .get(id)
                .is_some_and(|p| p.due == *when && !p.in_flight);
            if current {
                return Some(*when);
            }
            self.due_polls.pop_first();
        }
        None
    }

    /// Takes the next due poll (after [`Sched::next_poll_due`] said there is one) and marks
    /// it in flight.
    pub fn take_poll(&mut self) -> Option<(JobId, TaskId)> {
        self.next_poll_due()?;
        let (_, id) = self.due_polls.pop_first()?;
        let poll = self.polls.get_mut(&id)?;
        poll.in_flight = true;
        Some((id, poll.task.clone()))
    }
}

/// Final reports due to be tried, at most one entry per job: a job asked for again while it
/// is scheduled keeps the earlier time, and one asked for while a try is in flight is
/// scheduled again when that try ends. So one process never sends a job's report twice at
/// once, however many paths (its own ending, a retry, the fleet's watch, a restart) ask.
#[derive(Default)]
pub(super) struct Deliveries {
    due: BTreeSet<(Instant, JobId)>,
    at: HashMap<JobId, Instant>,
    /// Jobs with a try in flight, and the earliest time asked for meanwhile.
    in_flight: HashMap<JobId, Option<Instant>>,
}

impl Deliveries {
    /// Asks for a try of `id`'s report at `when` (or earlier, if already asked).
    pub fn schedule(&mut self, id: JobId, when: Instant) {
        if let Some(again) = self.in_flight.get_mut(&id) {
            *again = Some(again.map_or(when, |a| a.min(when)));
            return;
        }
        match self.at.get(&id) {
            Some(&at) if at <= when => return,
            Some(&at) => {
                self.due.remove(&(at, id.clone()));
            }
            None => {}
        }
        self.at.insert(id.clone(), when);
        self.due.insert((when, id));
    }

    /// How many tries are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Takes the next try due at `now` and marks it in flight, or says when the next is due.
    pub fn next_due(&mut self, now: Instant) -> Result<JobId, Option<Instant>> {
        match self.due.first().cloned() {
            Some((when, id)) if when <= now => {
                self.due.pop_first();
                self.at.remove(&id);
                self.in_flight.insert(id.clone(), None);
                Ok(id)
            }
            Some((when, _)) => Err(Some(when)),
            None => Err(None),
        }
    }

    /// A try of `id` ended; it goes again at `next` (its own answer) or at the time asked
    /// for while it was in flight, whichever is earlier.
    pub fn done(&mut self, id: &JobId, next: Option<Instant>) {
        let asked = self.in_flight.remove(id).flatten();
        let when = match (next, asked) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(when) = when {
            self.schedule(id.clone(), when);
        }
    }

    /// Reports scheduled, in flight or not.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.at.len() + self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> JobId {
        JobId(n.to_string())
    }

    #[test]
    fn a_job_is_scheduled_once_at_the_earliest_time_asked() {
        let now = Instant::now();
        let mut d = Deliveries::default();
        d.schedule(id(1), now + Duration::from_secs(5));
        d.schedule(id(1), now + Duration::from_secs(9));
        d.schedule(id(1), now + Duration::from_secs(2));
        assert_eq!(d.len(), 1);
        assert_eq!(d.next_due(now), Err(Some(now + Duration::from_secs(2))));
        assert_eq!(d.next_due(now + Duration::from_secs(2)), Ok(id(1)));
        assert_eq!(d.next_due(now + Duration::from_secs(60)), Err(None));
    }

    #[test]
    fn a_job_asked_for_while_in_flight_goes_again_once_after_it() {
        let now = Instant::now();
        let mut d = Deliveries::default();
        d.schedule(id(1), now);
        assert_eq!(d.next_due(now), Ok(id(1)));
        // Asked again while in flight: not handed out a second time meanwhile.
        d.schedule(id(1), now);
        assert_eq!(d.next_due(now), Err(None));
        assert_eq!(d.in_flight(), 1);
        // The try ends with nothing more to do: the request made meanwhile still runs.
        d.done(&id(1), None);
        assert_eq!(d.in_flight(), 0);
        assert_eq!(d.next_due(now), Ok(id(1)));
        // A try that asks to go again, with nobody else asking: at its own time.
        d.done(&id(1), Some(now + Duration::from_secs(3)));
        assert_eq!(d.next_due(now), Err(Some(now + Duration::from_secs(3))));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn a_finished_try_with_no_request_is_dropped() {
        let now = Instant::now();
        let mut d = Deliveries::default();
        d.schedule(id(1), now);
        assert_eq!(d.next_due(now), Ok(id(1)));
        d.done(&id(1), None);
        assert_eq!(d.len(), 0);
        assert_eq!(d.next_due(now), Err(None));
    }
}
