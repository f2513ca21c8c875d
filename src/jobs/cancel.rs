//! Cancelling a job on its member's request: only while it waits (queued, or held for
//! approval); its credits go back to the pool.

use super::{JobId, JobRecord, JobState, Jobs};
use crate::ids::MemberId;

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

impl Jobs {
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
}
