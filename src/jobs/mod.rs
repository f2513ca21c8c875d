//! Jobs: validation, pricing, fair queueing, polling and restarts. Knows nothing of Discord.
//!
//! A request is validated, priced, reserved in the ledger and stored as a job **before**
//! anything goes upstream (one ledger transaction writes the hold and the job record). One
//! scheduler (see `scheduler`) then starts queued jobs within the provider's limits, polls
//! running ones on a backing-off timetable, and ends each job exactly once: settled on
//! success, voided (refunded) otherwise, with a final report retried until confirmed.
//!
//! Here the `Jobs` handle (starting it, what it holds, a stored job's changes that move no
//! money); its settings in `settings.rs`; the public API by concept: `submit.rs`,
//! `cancel.rs`, `lookup.rs` (reading jobs), `admission.rs` (commands being admitted).

mod admission;
mod approval;
mod cancel;
mod claims;
mod create;
pub mod export;
mod fleet;
mod lifecycle;
pub mod limiter;
mod live;
mod lookup;
mod member_lock;
pub mod model;
pub mod provider;
pub mod queue;
pub mod report;
pub mod retry;
mod scheduler;
mod settings;
mod submit;
mod transition;
mod upstream;
pub mod validate;
pub mod verify;
mod workers;

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::credits::{Ledger, LedgerError};
use crate::guild_settings::{CommandRate, GuildSettings};

pub use admission::Admission;
pub use approval::DecideError;
pub use cancel::CancelError;
pub use model::{
    Decision, DecisionKind, Delivery, InteractionRef, JobId, JobRecord, JobRequest, JobState,
    Reference, ReplyTarget,
};
pub use provider::Provider;
pub use report::{JobEvent, LogReporter, ReportError, Reporter};
pub use retry::RetryPolicy;
pub use settings::JobsSettings;
pub use submit::{SubmitError, Submitted};
pub use validate::InvalidRequest;

use live::Sched;
use transition::Change;

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
