//! Jobs: validation, pricing, fair queueing, polling and restarts. Knows nothing of Discord.
//!
//! A request is validated, priced, reserved in the ledger and stored as a job **before**
//! anything goes upstream (one ledger transaction writes the hold and the job record). One
//! scheduler (see `scheduler`) then starts queued jobs within the provider's limits, polls
//! running ones on a backing-off timetable, and ends each job exactly once: settled on
//! success, voided (refunded) otherwise, with a final report retried until confirmed.

mod approval;
mod claims;
mod create;
pub mod export;
mod fleet;
mod lifecycle;
pub mod limiter;
mod live;
mod member_lock;
pub mod model;
pub mod provider;
pub mod queue;
pub mod report;
pub mod retry;
mod scheduler;
mod transition;
mod upstream;
pub mod validate;
pub mod verify;
mod workers;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::now_ms;
use crate::config::Config;
use crate::credits::{Ledger, LedgerError, MemberRules, Reserve};
use crate::guild_settings::{CommandRate, GuildSettings, SettingsRefusal, policy};
use crate::ids::{GuildId, MemberId};
use crate::store::SCHEMA_VERSION;

pub use approval::DecideError;
pub use model::{
    Decision, DecisionKind, Delivery, InteractionRef, JobId, JobRecord, JobRequest, JobState,
    Reference, ReplyTarget,
};
pub use provider::Provider;
pub use report::{JobEvent, LogReporter, ReportError, Reporter};
pub use retry::RetryPolicy;
pub use validate::InvalidRequest;

use live::Sched;
use transition::Change;

/// Why a submission was refused. Nothing was charged and nothing sent upstream.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Invalid(#[from] InvalidRequest),
    #[error(
        "you already have {active} job(s) in progress (the latest is `{latest}`); wait for it to finish or cancel it"
    )]
    TooManyActive { active: usize, latest: JobId },
    #[error("{0}")]
    NotAllowed(#[from] SettingsRefusal),
    #[error("{0}")]
    Credits(LedgerError),
    #[error(
        "the bot has no price for {0}; ask its operator to set credits.price_per_second (and credits.audio_price_per_second for videos with audio)"
    )]
    NoPrice(String),
    #[error("the job could not be stored: {0}")]
    Internal(String),
}

/// Why a cancellation was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CancelError {
    #[error("there is no such job")]
    Unknown,
    #[error("only the member who asked for this job can cancel it")]
    NotOwner,
    #[error("this job has already been sent to the provider ({0}) and can no longer be cancelled")]
    AlreadyStarted(&'static str),
    /// It ended before it was sent (cancelled, rejected, not approved in time, expired).
    #[error("this job has already ended ({0})")]
    Ended(&'static str),
}

/// An accepted job, as the Discord side shows it on the job card.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job: JobRecord,
    /// 1-based place in the local queue, or `None` if it already left the queue.
    pub position: Option<usize>,
    pub eta: Duration,
    /// The same idempotency key was seen before: this is the first submission's job.
    pub replayed: bool,
}

/// The limits and timings the queue runs with, taken from the config.
#[derive(Debug, Clone)]
pub struct JobsSettings {
    pub poll_initial: Duration,
    pub poll_max: Duration,
    pub deadline: Duration,
    pub max_active_per_user: usize,
    pub max_running: usize,
    pub create_per_window: u32,
    pub create_window: Duration,
    pub status_per_second: u32,
    /// How long a fresh task may be "not found" upstream before the job fails.
    pub not_found_grace: Duration,
    /// When failed createTasks and final reports are tried again.
    pub retry: RetryPolicy,
    pub config: Arc<Config>,
}

impl JobsSettings {
    pub fn from_config(config: Arc<Config>) -> JobsSettings {
        JobsSettings {
            poll_initial: config.jobs.poll_initial,
            poll_max: config.jobs.poll_max,
            deadline: config.jobs.deadline,
            max_active_per_user: config.jobs.max_active_per_user as usize,
            max_running: config.seedance.max_running as usize,
            create_per_window: config.seedance.create_per_window,
            create_window: config.seedance.create_window,
            status_per_second: config.seedance.status_per_second,
            not_found_grace: Duration::from_secs(120).max(config.jobs.poll_max * 4),
            retry: RetryPolicy {
                initial: config.jobs.poll_initial,
                create_attempts: config.jobs.create_attempts,
            },
            config,
        }
    }
}

/// The job queue. Cheap to clone; all clones share one scheduler.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    ledger: Ledger,
    provider: Provider,
    settings: JobsSettings,
    reporter: Arc<dyn Reporter>,
    guild_settings: GuildSettings,
    sched: Mutex<Sched>,
    wake: Notify,
    /// One submission at a time per member (a double click waits for the first and finds
    /// its job); other members are not held up. The member rules themselves are checked
    /// in the admit transaction.
    member_locks: member_lock::MemberLocks,
    /// Whether this process runs the scheduler (see `fleet`).
    fleet: fleet::Fleet,
    /// Commands of this process between their start and their job's admission.
    admitting: Arc<std::sync::atomic::AtomicUsize>,
}

/// One command being admitted, counted by [`Jobs::admitting`] while it lives.
#[must_use = "the admission is counted only while the guard lives"]
pub struct Admission(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Jobs {
    /// Loads stored jobs and applies the restart policy: queued jobs re-enter the queue,
    /// running jobs resume polling, jobs caught in `submitting` are refunded and failed
    /// with "outcome unknown", jobs held for approval stay held (their expiry armed again),
    /// and final reports not yet confirmed are sent again. Call [`Jobs::run`] to drive the
    /// scheduler.
    pub async fn start(
        ledger: Ledger,
        provider: Provider,
        settings: JobsSettings,
        reporter: Arc<dyn Reporter>,
    ) -> Result<Jobs, LedgerError> {
        let sched = Sched::new(&settings);
        let fleet = fleet::Fleet::new(
            ledger.store().is_shared(),
            settings.config.seedance.request_timeout,
        );
        let members = &settings.config.members;
        let rate = CommandRate::new(members.commands_per_window, members.command_window);
        let guild_settings = GuildSettings::open(ledger.store(), rate).map_err(|e| match e {
            crate::guild_settings::SettingsError::Storage(e) => LedgerError::Storage(e),
            other => LedgerError::Storage(std::io::Error::other(other.to_string()).into()),
        })?;
        let jobs = Jobs {
            inner: Arc::new(Inner {
                ledger,
                provider,
                settings,
                reporter,
                guild_settings,
                sched: Mutex::new(sched),
                wake: Notify::new(),
                member_locks: member_lock::MemberLocks::default(),
                admitting: Arc::default(),
                fleet,
            }),
        };
        // Sharing the store, the jobs are the lease holder's to recover (see `fleet`).
        if !jobs.inner.fleet.is_shared() {
            jobs.recover().await?;
        }
        Ok(jobs)
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    pub fn settings(&self) -> &JobsSettings {
        &self.inner.settings
    }

    /// Each server's settings, and the per-member command rate limit.
    pub fn guild_settings(&self) -> &GuildSettings {
        &self.inner.guild_settings
    }

    /// Whether this process runs the scheduler now: always on sled; on a shared store,
    /// while it holds the scheduler lease.
    pub fn runs_scheduler(&self) -> bool {
        self.inner.fleet.leads()
    }

    pub fn is_simulated(&self) -> bool {
        self.inner.provider.is_simulated()
    }

    /// Counts a command that is about to admit a job (its checks, reads and the durable
    /// admit), until the guard is dropped.
    pub fn admission(&self) -> Admission {
        let count = self.inner.admitting.clone();
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Admission(count)
    }

    /// How many commands of this process are being admitted now (see [`Jobs::admission`]).
    pub fn admitting(&self) -> usize {
        self.inner
            .admitting
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Validates, prices, reserves and stores a job, then queues it.
    #[tracing::instrument(skip_all, fields(key = %req.key, guild = %req.guild, member = %req.member))]
    pub async fn submit(&self, req: JobRequest) -> Result<Submitted, SubmitError> {
        let config = &self.inner.settings.config;
        let id = JobId(req.key.clone());
        if let Some(existing) = self.get(&id) {
            return Ok(self.submitted(existing, true));
        }
        validate::validate(&req, &config.video)?;
        let cost = config
            .credits
            .price(req.resolution, req.duration, req.generate_audio)
            .ok_or_else(|| SubmitError::NoPrice(req.resolution.to_string()))?;
        let _serial = self.inner.member_locks.lock(req.member).await;
        // The same interaction may have been submitted while this one waited for the lock.
        if let Some(existing) = self.get(&id) {
            return Ok(self.submitted(existing, true));
        }
        let server = self
            .inner
            .guild_settings
            .get(req.guild)
            .map_err(|e| SubmitError::Internal(e.to_string()))?;
        let asked = policy::Asked {
            resolution: req.resolution,
            duration: req.duration,
            web_search: req.web_search,
        };
        // The cooldown and the active-job limit are checked in the admit transaction below,
        // so they hold for every process sharing the store.
        policy::check_job(&server, asked, None, now_ms())?;
        let rules = MemberRules {
            max_active: self.inner.settings.max_active_per_user,
            cooldown_ms: i64::try_from(server.cooldown_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            roles: req.roles.clone(),
        };
        let simulated = self.is_simulated();
        // Above the server's threshold the credits are held all the same (nothing else can
        // spend them), but the job waits for a decision outside the queue.
        let awaiting = server.needs_approval(cost);
        let record = JobRecord {
            version: SCHEMA_VERSION,
            id: id.clone(),
            cost,
            simulated,
            state: if awaiting {
                JobState::AwaitingApproval
            } else {
                JobState::Queued
            },
            created_at: now_ms(),
            started_at: None,
            finished_at: None,
            final_delivered: false,
            reply: ReplyTarget::default(),
            create_attempts: 0,
            create_unknown: 0,
            not_before: None,
            delivery: Delivery::default(),
            decision: None,
            request: req,
        };
        let memo = format!(
            "{}video {} {}s{}",
            if simulated { "simulated " } else { "" },
            record.request.resolution,
            record.request.duration,
            if record.request.generate_audio {
                " with audio"
            } else {
                ""
            }
        );
        let reserve = Reserve {
            key: record.id.0.clone(),
            guild: record.request.guild,
            member: record.request.member,
            amount: cost,
            memo,
        };
        match self
            .inner
            .ledger
            .admit(reserve, Some(transition::admit(&record)), Some(rules))
            .await
        {
            Ok(_) => {}
            Err(
                e @ (LedgerError::InsufficientCredits { .. } | LedgerError::DailyCapReached { .. }),
            ) => {
                return Err(SubmitError::Credits(e));
            }
            Err(LedgerError::TooManyActive { active, latest }) => {
                return Err(SubmitError::TooManyActive {
                    active,
                    latest: JobId(latest),
                });
            }
            Err(LedgerError::Cooldown { ready_at }) => {
                let wait_ms = u64::try_from(ready_at - now_ms()).unwrap_or(0);
                return Err(SubmitError::NotAllowed(
                    crate::guild_settings::SettingsRefusal::Cooldown {
                        cooldown_secs: server.cooldown_secs,
                        wait_secs: wait_ms.div_ceil(1000).max(1),
                    },
                ));
            }
            Err(e) => return Err(SubmitError::Internal(e.to_string())),
        }

        tracing::info!(job_id = %id, cost, awaiting, "job accepted");
        metrics::counter!("seedance_credits_reserved_total").increment(cost);
        // Another process may hold the scheduler lease: it finds the job in the store.
        if self.inner.fleet.leads() {
            if awaiting {
                self.await_decision(&record);
            } else {
                self.enqueue(&record);
            }
        }
        Ok(self.submitted(record, false))
    }

    /// Cancels a queued job (or one held for approval) on its owner's request; its credits
    /// go back to the pool.
    #[tracing::instrument(skip_all, fields(job_id = %id, by = %by))]
    pub async fn cancel(&self, id: &JobId, by: MemberId) -> Result<JobRecord, CancelError> {
        let record = self.get(id).ok_or(CancelError::Unknown)?;
        if record.request.member != by {
            return Err(CancelError::NotOwner);
        }
        // A job queued in the store may be in no queue here: in another process's (sharing
        // the store), or on its way back to this one's (a createTask just failed and its
        // requeue is written). The guarded write decides: it refuses a job that has started,
        // and a start that loses to it sends nothing.
        let stored_queued = record.state == JobState::Queued;
        // A job held for approval is in no queue: the guarded cancel decides.
        let awaiting = record.state == JobState::AwaitingApproval;
        if record.state.is_terminal() && record.started_at.is_none() {
            return Err(CancelError::Ended(record.state.label()));
        }
        if !awaiting && !self.take_from_queue(id) && !stored_queued {
            return Err(CancelError::AlreadyStarted(record.state.label()));
        }
        match self.end(id, JobState::Cancelled).await {
            Some(cancelled) => {
                self.stop_awaiting(id);
                Ok(cancelled)
            }
            None => match self.get(id) {
                Some(j) if j.state.is_terminal() && j.started_at.is_none() => {
                    Err(CancelError::Ended(j.state.label()))
                }
                now => Err(CancelError::AlreadyStarted(
                    now.map_or("ended", |j| j.state.label()),
                )),
            },
        }
    }

    /// A stored job by id.
    pub fn get(&self, id: &JobId) -> Option<JobRecord> {
        self.inner
            .ledger
            .jobs_tree()
            .get(id.0.as_bytes())
            .ok()
            .flatten()
            .and_then(|bytes| JobRecord::from_bytes(&bytes).ok())
    }

    /// The newest jobs of a server, optionally of one member, newest first.
    pub fn recent(&self, guild: GuildId, member: Option<MemberId>, limit: usize) -> Vec<JobRecord> {
        match self.inner.ledger.recent_jobs(guild, member, None, limit) {
            Ok(ids) => ids
                .into_iter()
                .filter_map(|j| self.get(&JobId(j.id)))
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, guild = %guild, "the recent jobs index could not be read");
                Vec::new()
            }
        }
    }

    /// Active (queued or running) jobs of a member, in any server.
    pub fn active_for(&self, member: MemberId) -> Vec<JobRecord> {
        // From the store, not this process's scheduler: on a shared store another process
        // may run the member's jobs.
        let ids = match self.inner.ledger.active_jobs(member) {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(error = %e, "could not read a member's live jobs");
                return Vec::new();
            }
        };
        ids.into_iter()
            .filter_map(|id| self.get(&JobId(id)))
            .filter(|j| !j.state.is_terminal())
            .collect()
    }

    /// Records where the Discord side shows the job, so reports after a restart find it.
    pub async fn set_reply_target(
        &self,
        id: &JobId,
        reply: ReplyTarget,
    ) -> Result<(), LedgerError> {
        let record = self.change(id, Change::Reply(reply)).await?;
        self.update_cached(&record);
        Ok(())
    }

    /// Place in the local queue (1 = next) and the estimated wait, if the job is waiting.
    pub fn queue_position(&self, id: &JobId) -> Option<(usize, Duration)> {
        let sched = self.inner.sched.lock().expect("scheduler lock");
        let position = sched.queue.position(id)?;
        Some((
            position,
            sched.estimate_wait(position, self.inner.settings.max_running),
        ))
    }

    fn submitted(&self, job: JobRecord, replayed: bool) -> Submitted {
        let (position, eta) = match self.queue_position(&job.id) {
            Some((p, eta)) => (Some(p), eta),
            None => (None, Duration::ZERO),
        };
        Submitted {
            job,
            position,
            eta,
            replayed,
        }
    }

    /// Makes one guarded change of a stored job that moves no money, durably; returns the
    /// job as stored after it. [`LedgerError::JobMoved`] when the job's state does not allow
    /// the change (nothing was written).
    async fn change(&self, id: &JobId, change: Change) -> Result<JobRecord, LedgerError> {
        let write = transition::write(id, change);
        let stored = self.inner.ledger.write_job(write).await?;
        Self::as_stored(id, stored)
    }

    /// [`Jobs::change`] for a change a crash may lose (see [`Ledger::write_job_lazily`]).
    async fn change_lazily(&self, id: &JobId, change: Change) -> Result<JobRecord, LedgerError> {
        let write = transition::write(id, change);
        let stored = self.inner.ledger.write_job_lazily(write).await?;
        Self::as_stored(id, stored)
    }

    fn as_stored(id: &JobId, stored: Option<Vec<u8>>) -> Result<JobRecord, LedgerError> {
        stored
            .and_then(|bytes| JobRecord::from_bytes(&bytes).ok())
            .ok_or_else(|| LedgerError::Corrupt(format!("job {id} was not stored as written")))
    }
}
