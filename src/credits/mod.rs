//! Credits: the shared-pool ledger (two-phase holds in sled). Knows nothing of Discord.
//!
//! A guild spends from a pool (its own, or another guild's after `link`). Available credits
//! are `granted - settled - pending`. A `/video` first *reserves* a hold, then the hold is
//! *settled* (for at most what was held) or *voided*, exactly once. Every change is one sled
//! transaction over all ledger trees, including the caller's job record, and is flushed to
//! disk before the call returns `Ok`; concurrent calls share one flush (group commit, see
//! `flusher.rs`). Every change also appends a journal row; rows are never edited.
//!
//! Amounts are plain `u64` credits. Overflow cannot happen: one operation moves at most
//! [`MAX_AMOUNT`] (10^12) credits and a pool's totals are refused past [`MAX_POOL_TOTAL`]
//! (10^15), so every sum the ledger forms stays far below `u64::MAX` and fits `i64`; the
//! arithmetic is checked anyway and a failed check is reported, never wrapped.
//!
//! Here: the [`Ledger`] handle and its plumbing (open, the transactions, a write's commit
//! and flush). Its operations, by concept: `money.rs` (grant, reserve/admit, settle, void),
//! `settings.rs` (caps, linked pools), `approvals.rs` (`decide`), `jobs.rs` (a job's own
//! changes), `reads.rs` (holds, balances, usage, guild info), `journal.rs` (history,
//! export), `index.rs` (recent jobs).

use std::sync::Arc;

use crate::clock::{self, Clock};
use crate::store::{Store, TxFail};

mod approvals;
mod error;
mod export;
mod flusher;
mod index;
mod jobs;
mod journal;
mod money;
mod ops;
mod reads;
mod records;
mod settings;
mod tx;
mod types;
mod verify;

pub use error::{LedgerError, format_utc};
pub use export::ExportFormat;
pub(crate) use export::csv_text;
pub use types::{
    Actor, Approval, Balance, CapSource, EntryKind, GuildInfo, Hold, HoldState, IndexedJob,
    JobIndex, JobWrite, JournalEntry, LedgerSettings, MemberRules, MemberUsage, PoolId, Reserve,
};

use records::{JOB_TREES, TREE_NAMES};

/// The most credits one grant, reserve or cap may name.
pub const MAX_AMOUNT: u64 = 1_000_000_000_000;
/// The most credits a pool's granted, pending or settled total may reach.
pub const MAX_POOL_TOTAL: u64 = 1_000_000_000_000_000;

/// The credit ledger. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    store: Store,
    /// In `TREE_NAMES` order.
    trees: Vec<crate::store::Tree>,
    /// In `JOB_TREES` order: a job's own change spans these only.
    job_trees: Vec<crate::store::Tree>,
    settings: LedgerSettings,
    clock: Clock,
    /// sled only (PostgreSQL commits are durable): shared by every clone of the ledger; its
    /// thread stops when the last one is dropped.
    flusher: Option<Arc<flusher::Flusher>>,
    flush: bool,
}

impl Inner {
    fn tree(&self, name: &str) -> &crate::store::Tree {
        let i = TREE_NAMES
            .iter()
            .position(|n| *n == name)
            .expect("known tree");
        &self.trees[i]
    }

    /// Runs one transaction body over every ledger tree.
    fn transact<T: Send>(
        &self,
        body: impl Fn(&tx::Tx) -> tx::TxResult<T> + Sync,
    ) -> Result<T, LedgerError> {
        self.transact_over(&self.trees, |kv| body(&tx::Tx::new(kv)))
    }

    /// Runs one transaction body over the job trees only (a job's own change moves no money):
    /// a sled transaction costs per tree it spans, and these are 2 of the 12.
    fn transact_jobs<T: Send>(
        &self,
        body: impl Fn(&tx::JobTx) -> tx::TxResult<T> + Sync,
    ) -> Result<T, LedgerError> {
        self.transact_over(&self.job_trees, |kv| body(&tx::JobTx::new(kv)))
    }

    fn transact_over<T: Send>(
        &self,
        trees: &[crate::store::Tree],
        body: impl Fn(&dyn crate::store::KvTx) -> tx::TxResult<T> + Sync,
    ) -> Result<T, LedgerError> {
        self.store.transact_over(trees, body).map_err(|e| match e {
            TxFail::Abort(e) => e,
            TxFail::Storage(e) => LedgerError::Storage(e),
            TxFail::Conflict => LedgerError::Storage(crate::store::StorageError::Postgres(
                "a transaction kept conflicting".into(),
            )),
        })
    }
}

impl Ledger {
    /// Opens the ledger's trees in `store` (sled: see [`crate::store::open`]; PostgreSQL:
    /// [`crate::store::postgres::PgStore::connect`]). A store written before the history
    /// indexes existed gets them now (once: a full scan and a flush).
    pub fn open(store: impl Into<Store>, settings: LedgerSettings) -> Result<Ledger, LedgerError> {
        let store = store.into();
        let trees = TREE_NAMES
            .iter()
            .map(|name| store.tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        let job_trees = JOB_TREES
            .iter()
            .map(|name| store.tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        let flusher = match store.sled() {
            Some(db) => Some(Arc::new(flusher::Flusher::start(db.clone())?)),
            None => None,
        };
        let ledger = Ledger {
            inner: Arc::new(Inner {
                store,
                trees,
                job_trees,
                settings,
                clock: clock::system(),
                flusher,
                flush: true,
            }),
        };
        ledger.ensure_indexes()?;
        Ok(ledger)
    }

    /// Replaces the clock (unix millis). Tests use it to cross UTC midnight.
    pub fn with_clock(self, clock: Clock) -> Ledger {
        let mut inner = (*self.inner).clone();
        inner.clock = clock;
        Ledger {
            inner: Arc::new(inner),
        }
    }

    /// FOR BENCHMARKS ONLY: money-moving calls return without flushing, so a crash can lose
    /// acknowledged changes. Never use this in the bot.
    #[doc(hidden)]
    pub fn without_flush_for_bench(self) -> Ledger {
        let mut inner = (*self.inner).clone();
        inner.flush = false;
        Ledger {
            inner: Arc::new(inner),
        }
    }

    /// The store the ledger lives in, for other parts of the core to open their own trees.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The tree [`JobWrite`]s go to; the job queue reads it.
    pub fn jobs_tree(&self) -> &crate::store::Tree {
        self.inner.tree("jobs")
    }

    fn now(&self) -> i64 {
        (self.inner.clock)()
    }

    /// Runs `body` as one transaction on a blocking thread, then waits for a flush that
    /// started after the commit before `Ok` (group commit: concurrent writers share one
    /// flush; a flush error is every covered caller's error).
    ///
    /// The flush is requested from the blocking thread right after the commit, so a caller
    /// that stops waiting still has its commit flushed promptly. The flusher runs sled's
    /// blocking `Db::flush`, not `flush_async`: in sled 0.34.7 concurrent `flush_async`
    /// calls occupy sled's own thread pool while waiting for a log write that needs a thread
    /// of that pool, and everything hangs (sled issues #1241, #1308).
    async fn write<T, F>(&self, body: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: Fn(&tx::Tx) -> tx::TxResult<T> + Send + Sync + 'static,
    {
        self.commit(move |inner| inner.transact(&body), true).await
    }

    /// Runs `transaction` on a blocking thread; when `durable`, returns once a flush covers
    /// it (see [`Ledger::write`]).
    async fn commit<T, F>(&self, transaction: F, durable: bool) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, LedgerError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let (out, ticket) = tokio::task::spawn_blocking(move || {
            let Some(flusher) = inner.flusher.as_ref().filter(|_| inner.flush && durable) else {
                return Ok((transaction(&inner)?, None));
            };
            let commit = flusher.begin();
            let out = transaction(&inner)?;
            let ticket = Some(commit.committed());
            Ok::<_, LedgerError>((out, ticket))
        })
        .await
        .map_err(|e| {
            LedgerError::Storage(
                std::io::Error::other(format!("ledger transaction thread failed: {e}")).into(),
            )
        })??;
        if let Some(ticket) = ticket {
            ticket.durable().await?;
        }
        Ok(out)
    }

    /// Recomputes every pool from its holds, usage rows and journal, and each history index
    /// from what it indexes, and lists each disagreement with what is stored; empty means
    /// the ledger is consistent.
    pub fn verify(&self) -> Result<Vec<String>, LedgerError> {
        verify::run(&self.snapshot()?)
    }

    /// The ledger as it stands now, for reads that must agree with each other while other
    /// processes write (see [`Store::snapshot`]); read-only on PostgreSQL.
    pub fn snapshot(&self) -> Result<Ledger, LedgerError> {
        if !self.inner.store.is_shared() {
            return Ok(self.clone());
        }
        let store = self.inner.store.snapshot()?;
        let trees = TREE_NAMES
            .iter()
            .map(|name| store.tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut inner = (*self.inner).clone();
        inner.store = store;
        inner.trees = trees;
        inner.flusher = None;
        Ok(Ledger {
            inner: Arc::new(inner),
        })
    }
}
