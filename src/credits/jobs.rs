//! A job's own changes through the ledger: they move no money and span the job trees only,
//! flushed at once or lazily (by the next flush anyone asks for).

use super::{JobWrite, Ledger, LedgerError};

impl Ledger {
    /// Makes a job change that moves no money (its guard decides whether it applies), flushed
    /// like every other write and sharing the same group commit. Returns the record as stored after the change.
    pub async fn write_job(&self, job: JobWrite) -> Result<Option<Vec<u8>>, LedgerError> {
        self.write_job_with(job, true).await
    }

    /// [`Ledger::write_job`] for a change that may be lost in a crash (a provider's progress:
    /// the next poll finds it again): committed at once, made durable by the next flush
    /// anyone asks for (on sled; a PostgreSQL commit is durable anyway), so it costs no
    /// flush of its own.
    pub async fn write_job_lazily(&self, job: JobWrite) -> Result<Option<Vec<u8>>, LedgerError> {
        self.write_job_with(job, false).await
    }

    /// A job's own change (no money moves): one transaction over the job trees only; when
    /// `durable`, returns once a flush covers it.
    async fn write_job_with(
        &self,
        job: JobWrite,
        durable: bool,
    ) -> Result<Option<Vec<u8>>, LedgerError> {
        self.commit(
            move |inner| inner.transact_jobs(|tx| tx.write_job(&job)),
            durable,
        )
        .await
    }
}
