//! The money moves: a grant (or a take-back) into a guild's pool, and a video's hold
//! reserved (admitted, with the member's limits), then settled or voided.

use super::{
    Actor, Balance, Hold, JobWrite, Ledger, LedgerError, MemberRules, PoolId, Reserve, ops,
};
use crate::ids::GuildId;

impl Ledger {
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
}

/// The owned form of `ops::Resolution`, moved into the blocking thread.
enum Resolution {
    Settle(u64),
    Void(String),
}
