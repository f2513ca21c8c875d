//! A server's settings in the ledger: its default daily cap, a member's and a role's own
//! caps, and the pool it spends from (`link`/`unlink`).

use super::{Actor, Ledger, LedgerError, PoolId, ops, records};
use crate::ids::{GuildId, MemberId};

impl Ledger {
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
}
