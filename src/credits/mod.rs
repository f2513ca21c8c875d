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

use std::sync::Arc;

use crate::clock::{self, Clock};
use crate::ids::{GuildId, MemberId};
use crate::store::{Store, TxFail};

mod error;
mod export;
mod flusher;
mod index;
mod journal;
mod ops;
mod records;
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

use records::{DAY_MS, JOB_TREES, TREE_NAMES};

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

    /// Adds credits to the guild's current pool; a negative amount takes them back (never
    /// below zero available).
    #[tracing::instrument(skip_all, fields(guild = guild.0, amount = amount, actor = %actor))]
    pub async fn grant(
        &self,
        guild: GuildId,
        amount: i64,
        actor: Actor,
        reason: &str,
    ) -> Result<Balance, LedgerError> {
        let (now, reason) = (self.now(), reason.to_owned());
        let pool = self
            .write(move |tx| ops::grant(tx, guild.0, amount, actor.into(), &reason, now))
            .await?;
        self.pool_balance(PoolId(pool))
    }

    /// Sets the guild's default daily cap per member (0 = none).
    #[tracing::instrument(skip_all, fields(guild = guild.0, cap = cap, actor = %actor))]
    pub async fn set_default_cap(
        &self,
        guild: GuildId,
        cap: u64,
        actor: Actor,
    ) -> Result<(), LedgerError> {
        let now = self.now();
        self.write(move |tx| ops::set_default_cap(tx, guild.0, cap, actor.into(), now))
            .await
    }

    /// Sets a member's own daily cap in a guild (`Some(0)` = no cap; `None` = the default).
    #[tracing::instrument(skip_all, fields(guild = guild.0, member = member.0, cap = ?cap, actor = %actor))]
    pub async fn set_member_cap(
        &self,
        guild: GuildId,
        member: MemberId,
        cap: Option<u64>,
        actor: Actor,
    ) -> Result<(), LedgerError> {
        let now = self.now();
        self.write(move |tx| ops::set_member_cap(tx, guild.0, member.0, cap, actor.into(), now))
            .await
    }

    /// Sets the daily cap of the members holding `role` in a guild (`Some(0)` = no cap;
    /// `None` = the role has no cap of its own). A member's own cap overrides it; a member
    /// holding several capped roles gets the highest.
    #[tracing::instrument(skip_all, fields(guild = guild.0, role = role, cap = ?cap, actor = %actor))]
    pub async fn set_role_cap(
        &self,
        guild: GuildId,
        role: u64,
        cap: Option<u64>,
        actor: Actor,
    ) -> Result<(), LedgerError> {
        let now = self.now();
        self.write(move |tx| ops::set_role_cap(tx, guild.0, role, cap, actor.into(), now))
            .await
    }

    /// The daily cap of the members holding `role` in a guild, if the role has one.
    pub fn role_cap(&self, guild: GuildId, role: u64) -> Result<Option<u64>, LedgerError> {
        match self
            .inner
            .tree("credits.role_caps")
            .get(records::role_cap_key(guild.0, role))?
        {
            Some(bytes) => Ok(Some(
                records::decode::<records::RoleCapRecord>("role cap", &bytes)?.cap,
            )),
            None => Ok(None),
        }
    }

    /// Holds credits for one video, writing `job` in the same transaction. A repeat of the
    /// same key returns the stored hold and changes nothing (nor writes `job`). A refusal
    /// stores nothing, so a later retry with the same key is a fresh attempt.
    #[tracing::instrument(skip_all, fields(key = %req.key, guild = req.guild.0, member = req.member.0, amount = req.amount))]
    pub async fn reserve(&self, req: Reserve, job: Option<JobWrite>) -> Result<Hold, LedgerError> {
        self.admit(req, job, None).await
    }

    /// [`Ledger::reserve`] that also checks the member's active-job limit and cooldown in
    /// the same transaction ([`LedgerError::TooManyActive`], [`LedgerError::Cooldown`]).
    #[tracing::instrument(skip_all, fields(key = %req.key, guild = req.guild.0, member = req.member.0, amount = req.amount))]
    pub async fn admit(
        &self,
        req: Reserve,
        job: Option<JobWrite>,
        rules: Option<MemberRules>,
    ) -> Result<Hold, LedgerError> {
        let (now, default_cap) = (self.now(), self.inner.settings.default_daily_cap);
        let out = self
            .write(move |tx| ops::reserve(tx, &req, job.as_ref(), rules.as_ref(), default_cap, now))
            .await?;
        Ok(Hold::from_record(out.key, out.hold))
    }

    /// Spends `amount` (at most what is held) and releases the rest. Settling again with
    /// the same amount returns the hold unchanged; anything else on a resolved hold is
    /// [`LedgerError::AlreadyResolved`].
    #[tracing::instrument(skip_all, fields(key = key, amount = amount))]
    pub async fn settle(
        &self,
        key: &str,
        amount: u64,
        job: Option<JobWrite>,
    ) -> Result<Hold, LedgerError> {
        self.resolve(key, Resolution::Settle(amount), job).await
    }

    /// Returns the whole hold to the pool and to the member's usage of its day. Voiding
    /// again returns the hold unchanged; voiding a settled hold is `AlreadyResolved`.
    #[tracing::instrument(skip_all, fields(key = key, reason = reason))]
    pub async fn void(
        &self,
        key: &str,
        reason: &str,
        job: Option<JobWrite>,
    ) -> Result<Hold, LedgerError> {
        self.resolve(key, Resolution::Void(reason.to_owned()), job)
            .await
    }

    async fn resolve(
        &self,
        key: &str,
        how: Resolution,
        job: Option<JobWrite>,
    ) -> Result<Hold, LedgerError> {
        let (now, key) = (self.now(), key.to_owned());
        let out = self
            .write(move |tx| {
                let how = match &how {
                    Resolution::Settle(amount) => ops::Resolution::Settle(*amount),
                    Resolution::Void(reason) => ops::Resolution::Void(reason),
                };
                ops::resolve(tx, &key, &how, job.as_ref(), now)
            })
            .await?;
        Ok(Hold::from_record(out.key, out.hold))
    }

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

    /// Makes `guild` spend from `with`'s current pool. Balances stay with their pools;
    /// holds already made keep their pool.
    #[tracing::instrument(skip_all, fields(guild = guild.0, with = with.0, actor = %actor))]
    pub async fn link(
        &self,
        guild: GuildId,
        with: GuildId,
        actor: Actor,
    ) -> Result<PoolId, LedgerError> {
        let now = self.now();
        let pool = self
            .write(move |tx| ops::link(tx, guild.0, with.0, actor.into(), now))
            .await?;
        Ok(PoolId(pool))
    }

    /// Makes `guild` spend from its own pool again.
    #[tracing::instrument(skip_all, fields(guild = guild.0, actor = %actor))]
    pub async fn unlink(&self, guild: GuildId, actor: Actor) -> Result<PoolId, LedgerError> {
        self.link(guild, guild, actor).await
    }

    pub fn hold(&self, key: &str) -> Result<Option<Hold>, LedgerError> {
        match self.inner.tree("credits.holds").get(key.as_bytes())? {
            Some(bytes) => Ok(Some(Hold::from_record(
                key.to_owned(),
                records::decode("hold", &bytes)?,
            ))),
            None => Ok(None),
        }
    }

    /// The hold keys (job ids) of a member's live jobs, oldest first, as the admit
    /// transaction counts them (whichever process admitted them).
    pub fn active_jobs(&self, member: MemberId) -> Result<Vec<String>, LedgerError> {
        match self
            .inner
            .tree(records::MEMBERS)
            .get(member.0.to_be_bytes())?
        {
            Some(bytes) => {
                let record: records::MemberRecord = records::decode("member", &bytes)?;
                Ok(record.active.into_iter().map(|(key, _)| key).collect())
            }
            None => Ok(Vec::new()),
        }
    }

    /// The keys of every pending hold: the ids of every live job, read from the pending
    /// index alone (cheap enough to poll).
    pub fn pending_keys(&self) -> Result<Vec<String>, LedgerError> {
        self.inner
            .tree("credits.pending")
            .iter()
            .keys()
            .map(|key| {
                String::from_utf8(key?.to_vec())
                    .map_err(|_| LedgerError::Corrupt("a hold key is not UTF-8".into()))
            })
            .collect()
    }

    /// Every hold not yet settled or voided (e.g. to resume or refund after a restart).
    pub fn pending_holds(&self) -> Result<Vec<Hold>, LedgerError> {
        let mut holds = Vec::new();
        for entry in self.inner.tree("credits.pending").iter() {
            let (key, _) = entry?;
            let key = String::from_utf8(key.to_vec())
                .map_err(|_| LedgerError::Corrupt("a hold key is not UTF-8".into()))?;
            match self.hold(&key)? {
                Some(hold) => holds.push(hold),
                None => {
                    return Err(LedgerError::Corrupt(format!(
                        "pending hold {key} is missing"
                    )));
                }
            }
        }
        Ok(holds)
    }

    /// The pool a guild spends from now.
    pub fn pool_of(&self, guild: GuildId) -> Result<PoolId, LedgerError> {
        Ok(PoolId(self.guild_record(guild)?.pool.unwrap_or(guild.0)))
    }

    fn guild_record(&self, guild: GuildId) -> Result<records::GuildRecord, LedgerError> {
        match self
            .inner
            .tree("credits.guilds")
            .get(records::guild_key(guild.0))?
        {
            Some(bytes) => records::decode("guild", &bytes),
            None => Ok(records::GuildRecord::default()),
        }
    }

    /// The balance of the pool the guild spends from now.
    pub fn balance(&self, guild: GuildId) -> Result<Balance, LedgerError> {
        self.pool_balance(self.pool_of(guild)?)
    }

    pub fn pool_balance(&self, pool: PoolId) -> Result<Balance, LedgerError> {
        let p = match self
            .inner
            .tree("credits.pools")
            .get(records::pool_key(pool.0))?
        {
            Some(bytes) => records::decode("pool", &bytes)?,
            None => records::PoolRecord::default(),
        };
        let available = tx::available(&p).map_err(|e| match e {
            TxFail::Abort(e) => e,
            TxFail::Storage(e) => LedgerError::Storage(e),
            TxFail::Conflict => LedgerError::Corrupt("unexpected conflict".into()),
        })?;
        Ok(Balance {
            pool,
            available,
            pending: p.pending,
            settled: p.settled,
            granted: p.granted,
        })
    }

    /// Today's usage and cap of a member holding `roles` spending through `guild`.
    pub fn member_usage(
        &self,
        guild: GuildId,
        member: MemberId,
        roles: &[u64],
    ) -> Result<MemberUsage, LedgerError> {
        let (pool, day) = (self.pool_of(guild)?, self.now().div_euclid(DAY_MS));
        let used_today = match self
            .inner
            .tree("credits.usage")
            .get(records::usage_key(pool.0, member.0, day))?
        {
            Some(bytes) => records::decode_u64("usage", &bytes)?,
            None => 0,
        };
        let own = match self
            .inner
            .tree("credits.member_caps")
            .get(records::member_cap_key(guild.0, member.0))?
        {
            Some(bytes) => {
                Some(records::decode::<records::MemberCapRecord>("member cap", &bytes)?.cap)
            }
            None => None,
        };
        let mut role_caps = Vec::new();
        for &role in roles {
            if let Some(cap) = self.role_cap(guild, role)? {
                role_caps.push((role, cap));
            }
        }
        let (cap, source) = tx::choose_cap(own, role_caps, self.default_cap_of(guild)?);
        Ok(MemberUsage {
            used_today,
            cap: (cap > 0).then_some(cap),
            source,
            resets_at: (day + 1) * DAY_MS,
        })
    }

    fn default_cap_of(&self, guild: GuildId) -> Result<u64, LedgerError> {
        Ok(self
            .guild_record(guild)?
            .default_cap
            .unwrap_or(self.inner.settings.default_daily_cap))
    }

    /// Where a guild spends from, its default cap and who shares its pool.
    pub fn guild_info(&self, guild: GuildId) -> Result<GuildInfo, LedgerError> {
        let pool = self.pool_of(guild)?;
        let mut sharing = Vec::new();
        // A guild without a record spends from its own pool.
        if pool.0 == guild.0 || self.guild_record(GuildId(pool.0))?.pool.is_none() {
            sharing.push(GuildId(pool.0));
        }
        for entry in self.inner.tree("credits.guilds").iter() {
            let (key, bytes) = entry?;
            let id = records::parse_u64_prefix(&key)
                .ok_or_else(|| LedgerError::Corrupt("bad guild key".into()))?;
            let record: records::GuildRecord = records::decode("guild", &bytes)?;
            if record.pool == Some(pool.0) && !sharing.contains(&GuildId(id)) {
                sharing.push(GuildId(id));
            }
        }
        sharing.sort();
        let cap = self.default_cap_of(guild)?;
        Ok(GuildInfo {
            guild,
            pool,
            default_cap: (cap > 0).then_some(cap),
            guilds_sharing_pool: sharing,
        })
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

/// The owned form of `ops::Resolution`, moved into the blocking thread.
enum Resolution {
    Settle(u64),
    Void(String),
}
