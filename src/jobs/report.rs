//! How the job queue tells the outside world (the Discord side) what happens to a job.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::jobs::model::JobRecord;

/// One thing worth telling the member about a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// Waiting in the local queue at `position` (1 = next), with an estimated wait.
    Queued { position: usize, eta: Duration },
    /// The provider accepted the task.
    Started,
    /// A job held for approval was approved and joined the queue.
    Approved,
    /// The provider's state changed; there is no percentage, only state and elapsed time.
    Progress {
        provider_state: String,
        elapsed: Duration,
    },
    /// The job ended; `record.state` says how. `refunded` credits went back to the pool.
    Finished { refunded: u64 },
}

impl JobEvent {
    /// The final report must reach the member: it is retried until the receiver confirms.
    pub fn is_final(&self) -> bool {
        matches!(self, JobEvent::Finished { .. })
    }
}

/// The receiver could not deliver a report. A transient failure of a final report is tried
/// again (not before `retry_after` when the receiver was told how long to wait); a permanent
/// one (the channel is gone, the bot may no longer post there) is recorded and never retried.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report not delivered: {reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    #[error("report refused for good: {reason}")]
    Permanent { reason: String },
}

impl ReportError {
    /// A failure worth retrying, with no advice on when.
    pub fn transient(reason: impl Into<String>) -> ReportError {
        ReportError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, ReportError::Permanent { .. })
    }

    /// How long the receiver asked to wait before the next try, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ReportError::Transient { retry_after, .. } => *retry_after,
            ReportError::Permanent { .. } => None,
        }
    }
}

/// Implemented by the Discord side. Non-final reports are best effort; a final report is
/// recorded as delivered only when this returns `Ok`, so a crash before that re-sends it
/// after restart, and a confirmed one is never sent again.
pub trait Reporter: Send + Sync + 'static {
    fn report<'a>(
        &'a self,
        job: &'a JobRecord,
        event: JobEvent,
    ) -> BoxFuture<'a, Result<(), ReportError>>;

    /// The bot's operators must act (the provider refused the bot's key or account). The
    /// receiver decides how often to pass it on; the default does nothing.
    fn operator_alert<'a>(&'a self, text: &'a str) -> BoxFuture<'a, ()> {
        let _ = text;
        Box::pin(async {})
    }
}

/// A reporter that only logs: for the CLI and for a bot run without Discord.
pub struct LogReporter;

impl Reporter for LogReporter {
    fn report<'a>(
        &'a self,
        job: &'a JobRecord,
        event: JobEvent,
    ) -> BoxFuture<'a, Result<(), ReportError>> {
        Box::pin(async move {
            tracing::info!(job_id = %job.id, guild = %job.request.guild, member = %job.request.member, state = job.state.label(), ?event, "job report");
            Ok(())
        })
    }
}
