//! Several bot processes sharing one store (PostgreSQL): which of them runs the scheduler.
//!
//! Every process admits jobs, cancels them and delivers the reports of jobs it ended (each
//! a guarded write in the shared store, so the store decides every race; each report under
//! a per-job claim, see `claims`). Starting jobs,
//! polling the provider and enforcing deadlines belong to one process at a time: the one
//! holding the `scheduler` lease, timed by the database's clock. So the provider's budgets
//! (createTask and recordInfo per window, the running cap) hold for the fleet as a whole.
//!
//! - The holder renews the lease every quarter of its life; a process that cannot renew
//!   steps down (forgets its scheduling state) before the lease can pass to another.
//! - A createTask is only sent while the lease has at least `seedance.request_timeout`
//!   (plus a margin) left, so no send is still in flight when another process takes over.
//!   That is why a job found in `submitting` by a new holder is "outcome unknown" only once
//!   the old lease has expired, never because another live process is sending it.
//! - A new holder rebuilds its state from the store as after a restart (the restart
//!   policy), then keeps it in step with jobs admitted or ended by other processes by
//!   reading the live-job set (the pending holds) every [`SYNC_EVERY`].
//! - A clean stop gives the lease up at once; a killed holder's lease runs out.
//! - A new holder cannot see its predecessor's last provider calls, only when its lease
//!   ended: its budgets start spent at that moment, so across a handover the fleet still
//!   never sends more than one window's budget.
//! - The holder also takes over final reports left behind by processes that died (see
//!   `claims`).
//!
//! On sled (one process) this process always holds the lease and nothing here runs.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Jobs;
use crate::jobs::model::{JobId, JobState};

/// The lease's name in the store.
const LEASE: &str = "scheduler";
/// How often the holder reads which jobs are live.
pub(super) const SYNC_EVERY: Duration = Duration::from_millis(500);
/// Kept free between the end of a createTask's timeout and the end of the lease.
const MARGIN: Duration = Duration::from_secs(1);

/// This process's part in the fleet.
pub(super) struct Fleet {
    shared: bool,
    /// Names this process in the lease table: host, pid and a random part.
    owner: String,
    ttl: Duration,
    /// `Some(until)` while this process holds the lease: when it ends at the earliest,
    /// counted from before the renewal was asked for.
    held: Mutex<Option<Instant>>,
    /// The jobs whose final report this process has claimed (see `claims`).
    pub(super) claims: Mutex<HashSet<JobId>>,
}

impl Fleet {
    pub fn new(shared: bool, request_timeout: Duration) -> Fleet {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
        let tag: u32 = rand::random();
        Fleet {
            shared,
            owner: format!("{host}-{}-{tag:08x}", std::process::id()),
            // Renewed every quarter of its life, a held lease always has more than half of
            // it left: more than a createTask's timeout and the margin.
            ttl: (request_timeout + MARGIN) * 2,
            held: Mutex::new(None),
            claims: Mutex::new(HashSet::new()),
        }
    }

    /// This process's name in the lease table.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// How long a lease lives unless renewed: the scheduler lease and each report's claim.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Whether this process runs the scheduler now.
    pub fn leads(&self) -> bool {
        !self.shared || self.held.lock().expect("fleet lock").is_some()
    }

    /// Whether a createTask taking up to `timeout` may be sent now.
    pub fn may_send(&self, now: Instant, timeout: Duration) -> bool {
        if !self.shared {
            return true;
        }
        self.held
            .lock()
            .expect("fleet lock")
            .is_some_and(|until| until > now + timeout + MARGIN)
    }

    fn renew_every(&self) -> Duration {
        self.ttl / 4
    }
}

impl Jobs {
    /// Holds, renews and gives up the scheduler lease; while held, keeps the scheduler in
    /// step with the live jobs in the store. Runs until `stop` resolves (then releases).
    pub(super) async fn lead(&self, stop: impl std::future::Future<Output = ()>) {
        let fleet = &self.inner.fleet;
        tokio::pin!(stop);
        let mut renew_at = Instant::now();
        let mut sync = tokio::time::interval(SYNC_EVERY);
        let mut claims = tokio::time::interval(fleet.renew_every());
        claims.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep_until(renew_at) => {
                    // A failed attempt (the database unreachable a moment) is tried again
                    // soon, not a whole renewal period later.
                    let answered = self.renew_lease().await;
                    renew_at = Instant::now()
                        + if answered { fleet.renew_every() } else { SYNC_EVERY };
                }
                _ = sync.tick(), if fleet.leads() => self.sync_live(),
                // Every process renews the claims on the reports it delivers; the holder
                // also takes over the ones left behind (see `claims`).
                _ = claims.tick() => {
                    self.keep_claims().await;
                    if fleet.leads() {
                        self.adopt_left_reports().await;
                    }
                }
            }
        }
        if fleet.leads() {
            *fleet.held.lock().expect("fleet lock") = None;
            // Ended now rather than deleted: the next holder learns when (see `takes_over`).
            match self
                .inner
                .ledger
                .store()
                .lease(LEASE, &fleet.owner, Duration::ZERO)
                .await
            {
                Ok(_) => tracing::info!("scheduler lease given up"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not give up the scheduler lease; it runs out")
                }
            }
        }
    }

    /// One attempt to take or renew the lease; false when the store could not answer.
    async fn renew_lease(&self) -> bool {
        let fleet = &self.inner.fleet;
        let asked_at = Instant::now();
        let store = self.inner.ledger.store();
        // Before taking it over: when did the last holder's lease end (see `takes_over`)?
        // Unknown (the read failed) counts as just now: the budgets wait a whole window.
        let since_end = if fleet.leads() {
            None
        } else {
            store.since_lease_end(LEASE).await.unwrap_or(Some(0))
        };
        let (held, answered) = match store.lease(LEASE, &fleet.owner, fleet.ttl).await {
            Ok(held) => (held, true),
            Err(e) => {
                tracing::error!(error = %e, "could not renew the scheduler lease");
                (false, false)
            }
        };
        let was = fleet.leads();
        if held {
            *fleet.held.lock().expect("fleet lock") = Some(asked_at + fleet.ttl);
        }
        // The store did not answer: the lease may still be ours. Keep leading until it would
        // have run out (no createTask goes out near its end anyway, see `may_send`).
        let still_ours = !answered
            && fleet
                .held
                .lock()
                .expect("fleet lock")
                .is_some_and(|until| until > Instant::now());
        if still_ours {
            return false;
        }
        match (was, held) {
            (false, true) => {
                tracing::info!(owner = %fleet.owner, "this process now runs the scheduler");
                self.reset_scheduler();
                self.takes_over(since_end);
                if let Err(e) = self.recover().await {
                    tracing::error!(error = %e, "could not load the jobs; giving the lease back");
                    *fleet.held.lock().expect("fleet lock") = None;
                    let _ = store.lease(LEASE, &fleet.owner, Duration::ZERO).await;
                }
            }
            (true, false) => {
                *fleet.held.lock().expect("fleet lock") = None;
                tracing::warn!("the scheduler lease was lost; another process takes over");
                self.reset_scheduler();
            }
            _ => {}
        }
        answered
    }

    /// The provider's budgets of a new holder: the previous holder's calls are unknown here,
    /// but none went out after its lease ended, `since_end` milliseconds ago (unknown, or
    /// still running when asked: counted as just now). So both budgets start spent at that moment, and
    /// the fleet never exceeds a window's budget across a handover. A lease never taken
    /// before has no calls behind it.
    fn takes_over(&self, since_end: Option<i64>) {
        let Some(ago) = since_end else {
            return;
        };
        let now = Instant::now();
        let ended = now
            .checked_sub(Duration::from_millis(ago.max(0) as u64))
            .unwrap_or(now);
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        sched.creates.fill(ended);
        sched.statuses.fill(ended);
    }

    /// Forgets every live job (the store keeps them): before leading, or after losing the
    /// lease. Reports already due stay: they belong to jobs this process ended.
    fn reset_scheduler(&self) {
        let mut sched = self.inner.sched.lock().expect("scheduler lock");
        let deliveries = std::mem::take(&mut sched.deliveries);
        *sched = super::live::Sched::new(&self.inner.settings);
        sched.deliveries = deliveries;
    }

    /// Brings the scheduler in step with the store: jobs admitted by other processes join
    /// the queue (or wait for approval), jobs ended elsewhere (a Cancel pressed on another
    /// process) leave it, and held jobs approved elsewhere join the queue. The held jobs are
    /// read again each time (few: each waits for an admin), since an approval moves no hold.
    fn sync_live(&self) {
        // Only jobs known before the read may be found gone: one admitted here meanwhile is
        // live even though the read missed it.
        let (known, awaiting): (HashSet<JobId>, Vec<JobId>) = {
            let sched = self.inner.sched.lock().expect("scheduler lock");
            let awaiting: Vec<JobId> = sched.awaiting_ids().cloned().collect();
            let known = sched.ids().chain(awaiting.iter()).cloned().collect();
            (known, awaiting)
        };
        let keys = match self.inner.ledger.pending_keys() {
            Ok(keys) => keys,
            Err(e) => {
                tracing::error!(error = %e, "could not read the live jobs");
                return;
            }
        };
        let live: HashSet<JobId> = keys.into_iter().map(JobId).collect();
        let gone: Vec<JobId> = {
            let sched = self.inner.sched.lock().expect("scheduler lock");
            known
                .iter()
                .filter(|id| !live.contains(*id) && !sched.creating.contains(*id))
                .cloned()
                .collect()
        };
        // A job gone from the live set ended somewhere: its report is watched here, once the
        // ending process's claim could have run out (that process delivers it while it lives;
        // see `claims`).
        let check_at = Instant::now() + self.inner.fleet.ttl();
        for id in gone {
            self.take_from_queue(&id);
            {
                let mut sched = self.inner.sched.lock().expect("scheduler lock");
                sched.forget(&id);
                sched.stop_awaiting(&id);
            }
            self.deliver_at(id, check_at);
        }
        // New jobs join the queue in the order they were admitted (the set has none), so one
        // member's jobs are still served first come, first served.
        let mut new: Vec<_> = live
            .difference(&known)
            .filter_map(|id| self.get(id))
            .collect();
        new.sort_by(|a, b| (a.created_at, &a.id.0).cmp(&(b.created_at, &b.id.0)));
        let mut added = 0;
        for job in new {
            // Only queued and held jobs are new to a holder: nothing else is started elsewhere.
            match job.state {
                JobState::Queued => {
                    self.enqueue(&job);
                    added += 1;
                }
                JobState::AwaitingApproval => self.await_decision(&job),
                _ => {}
            }
        }
        for id in awaiting.iter().filter(|id| live.contains(*id)) {
            if let Some(job) = self.get(id)
                && job.state == JobState::Queued
                && self.stop_awaiting(id)
            {
                tracing::info!(job_id = %id, "a held job was approved elsewhere; it joins the queue");
                self.enqueue(&job);
                added += 1;
            }
        }
        if added > 0 {
            self.inner.wake.notify_one();
        }
    }
}
