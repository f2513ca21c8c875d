//! Reads outside a transaction: holds (one, a member's live ones, every pending one), the
//! pool a guild spends from and its balance, a member's usage and cap today, a guild's info.

use super::records::{self, DAY_MS};
use super::{Balance, GuildInfo, Hold, Ledger, LedgerError, MemberUsage, PoolId, tx};
use crate::ids::{GuildId, MemberId};
use crate::store::TxFail;

impl Ledger {
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
}
