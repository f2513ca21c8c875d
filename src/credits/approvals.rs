//! The decision on a job held for approval: approved, rejected or expired, with the job's
//! change (and, unless approved, the hold voided) in one transaction.

use super::{Approval, Hold, JobWrite, Ledger, LedgerError, ops};

impl Ledger {
    /// Records a decision on a job held for approval, with its job change `job` (whose
    /// guard decides whether the job may take it) in the same transaction: a zero-amount
    /// journal row naming who decided, and, unless it was approved, the hold voided for
    /// `reason`. The hold must be pending.
    #[tracing::instrument(skip_all, fields(key = key, decision = ?decision))]
    pub async fn decide(
        &self,
        key: &str,
        decision: Approval,
        reason: &str,
        job: Option<JobWrite>,
    ) -> Result<Hold, LedgerError> {
        let (now, key, reason) = (self.now(), key.to_owned(), reason.to_owned());
        let out = self
            .write(move |tx| {
                let decided = match decision {
                    Approval::Approved { by } => ops::Decided::Approved { by: by.0 },
                    Approval::Rejected { by } => ops::Decided::Rejected {
                        by: by.0,
                        reason: &reason,
                    },
                    Approval::Expired => ops::Decided::Expired { reason: &reason },
                };
                ops::decide(tx, &key, &decided, job.as_ref(), now)
            })
            .await?;
        Ok(Hold::from_record(out.key, out.hold))
    }
}
