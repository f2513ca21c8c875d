//! Jobs held for approval: a job costing more than its server's threshold
//! (`/video-admin approval`) is admitted with its credits held but waits outside the queue
//! (and outside the provider's budgets) until a member allowed to decide approves it (it
//! joins the queue) or rejects it (refunded), or `jobs.approval_timeout` passes (refunded).
//! Each decision is one ledger transaction: the guarded job change, a zero-amount journal
//! row naming who decided, and for a refusal the void of the hold. Who may decide is the
//! Discord side's to check (it reads the member's permissions and roles).

use tokio::time::Instant;

use super::Jobs;
use super::transition::{self, Change};
use crate::clock::now_ms;
use crate::credits::{Approval, LedgerError};
use crate::ids::MemberId;
use crate::jobs::model::{JobId, JobRecord, JobState};
use crate::jobs::report::JobEvent;

/// Why a decision on a held job was not recorded. Nothing changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecideError {
    #[error("there is no such job")]
    Unknown,
    /// The job is not (or no longer) waiting for approval: decided, cancelled, or expired.
    #[error("this job is no longer waiting for approval (it is {0})")]
    NotAwaiting(&'static str),
    #[error("the decision could not be stored: {0}")]
    Internal(String),
}

impl Jobs {
    /// Approves a job held for approval: it joins the queue (on the process that runs the
    /// scheduler; another one finds it in the store), and its deadline counts from now.
    #[tracing::instrument(skip_all, fields(job_id = %id, by = %by))]
    pub async fn approve(&self, id: &JobId, by: MemberId) -> Result<JobRecord, DecideError> {
        let job = self.decide(id, Approval::Approved { by }).await?;
        tracing::info!("job approved; it joins the queue");
        if self.inner.fleet.leads() {
            self.enqueue(&job);
        }
        let (jobs, shown) = (self.clone(), job.clone());
        tokio::spawn(async move { jobs.report(&shown, JobEvent::Approved).await });
        Ok(job)
    }

    /// Rejects a job held for approval: its credits go back to the pool in the same
    /// transaction, and the member is told (the final report).
    #[tracing::instrument(skip_all, fields(job_id = %id, by = %by))]
    pub async fn reject(&self, id: &JobId, by: MemberId) -> Result<JobRecord, DecideError> {
        let job = self.decide_ending(id, Approval::Rejected { by }).await?;
        tracing::info!("job rejected; its credits are back");
        self.decided_end(&job);
        Ok(job)
    }

    /// Refunds a job nobody decided on within `jobs.approval_timeout` and tells the member.
    /// Nothing happens when it was decided (or cancelled) meanwhile.
    #[tracing::instrument(skip_all, fields(job_id = %id))]
    pub(super) async fn expire_approval(&self, id: &JobId) -> Option<JobRecord> {
        match self.decide_ending(id, Approval::Expired).await {
            Ok(job) => {
                tracing::info!("nobody decided on the job in time; its credits are back");
                self.decided_end(&job);
                Some(job)
            }
            Err(DecideError::NotAwaiting(state)) => {
                tracing::info!(state, "the job was decided before it expired");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "could not expire a job held for approval");
                None
            }
        }
    }

    /// Holds an admitted job for approval here: its expiry is armed from its admission, so
    /// a restart or a new scheduler holder keeps the original time.
    pub(super) fn await_decision(&self, job: &JobRecord) {
        let timeout = self.inner.settings.config.jobs.approval_timeout;
        let expires_at = job.created_at + timeout.as_millis() as i64;
        let left = u64::try_from(expires_at - now_ms()).unwrap_or(0);
        let due = Instant::now() + std::time::Duration::from_millis(left);
        self.inner
            .sched
            .lock()
            .expect("scheduler lock")
            .await_decision(&job.id, due);
        self.inner.wake.notify_one();
    }

    /// Stops waiting for a decision on `id` here; whether it was awaited.
    pub(super) fn stop_awaiting(&self, id: &JobId) -> bool {
        self.inner
            .sched
            .lock()
            .expect("scheduler lock")
            .stop_awaiting(id)
    }

    /// A decision that ends the job (reject, expiry), its report claimed first like every
    /// ending (see `claims`); a claim taken for a decision that did not happen gets a try
    /// that delivers what is owed or gives it up.
    async fn decide_ending(
        &self,
        id: &JobId,
        decision: Approval,
    ) -> Result<JobRecord, DecideError> {
        let claimed = self.claim_report(id).await;
        let decided = self.decide(id, decision).await;
        if claimed && decided.is_err() {
            self.deliver_at(id.clone(), Instant::now());
        }
        decided
    }

    /// One decision as one ledger transaction (guarded job change, journal row, and the
    /// void unless approved); returns the job as stored after it.
    async fn decide(&self, id: &JobId, decision: Approval) -> Result<JobRecord, DecideError> {
        let job = self.get(id).ok_or(DecideError::Unknown)?;
        if job.state != JobState::AwaitingApproval {
            return Err(DecideError::NotAwaiting(job.state.label()));
        }
        let at = now_ms();
        let (change, reason) = match decision {
            Approval::Approved { by } => (Change::Approve { by, at }, ""),
            Approval::Rejected { by } => {
                (Change::Reject { by, at }, "rejected before it was queued")
            }
            Approval::Expired => (Change::ApprovalExpired { at }, "nobody approved it in time"),
        };
        let write = transition::write(id, change);
        let result = self
            .inner
            .ledger
            .decide(&id.0, decision, reason, Some(write))
            .await;
        let now = || self.get(id).map_or("gone", |j| j.state.label());
        match result {
            Ok(_) => {}
            Err(LedgerError::JobMoved(why)) => {
                tracing::info!(why, "the job moved on before the decision; nothing changed");
                return Err(DecideError::NotAwaiting(now()));
            }
            Err(LedgerError::AlreadyResolved { .. }) => {
                return Err(DecideError::NotAwaiting(now()));
            }
            Err(e) => return Err(DecideError::Internal(e.to_string())),
        }
        self.stop_awaiting(id);
        self.get(id)
            .ok_or_else(|| DecideError::Internal(format!("job {id} was not stored as written")))
    }

    /// A refused or expired job ended here: counted, and its final report is due now.
    fn decided_end(&self, job: &JobRecord) {
        metrics::counter!("seedance_credits_refunded_total").increment(job.cost);
        metrics::counter!("seedance_jobs_finished_total", "state" => job.state.label())
            .increment(1);
        self.deliver_at(job.id.clone(), Instant::now());
    }
}
