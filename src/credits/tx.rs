//! The bodies of the ledger's transactions: pure functions over a transactional view of
//! every ledger tree. sled may run them more than once, so they do no I/O, no logging and
//! read the clock never (the caller passes `now`).

use crate::store::{KvTx, TxFail};

use super::records::{
    self, ActorRecord, GuildRecord, HoldRecord, HoldStateRecord, JournalRecord, KindRecord,
    MemberCapRecord, MemberRecord, PoolRecord, RoleCapRecord, decode, decode_u64, encode,
};
use super::{CapSource, JobWrite, LedgerError, MAX_AMOUNT, MAX_POOL_TOTAL};
use crate::store::SCHEMA_VERSION;

pub(crate) type TxResult<T> = Result<T, TxFail<LedgerError>>;

pub(crate) fn abort<T>(e: LedgerError) -> TxResult<T> {
    Err(TxFail::Abort(e))
}

/// One of the ledger's trees inside a transaction: its index in `TREE_NAMES`.
#[derive(Clone, Copy)]
struct View<'a> {
    kv: &'a dyn KvTx,
    tree: usize,
}

impl View<'_> {
    fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<sled::IVec>> {
        Ok(self.kv.get(self.tree, key.as_ref())?)
    }
    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> TxResult<()> {
        Ok(self.kv.insert(self.tree, key.as_ref(), value.as_ref())?)
    }
    fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<()> {
        Ok(self.kv.remove(self.tree, key.as_ref())?)
    }
}

/// Typed access to the ledger's trees inside one transaction, in `TREE_NAMES` order.
pub(crate) struct Tx<'a> {
    pools: View<'a>,
    guilds: View<'a>,
    member_caps: View<'a>,
    holds: View<'a>,
    pending: View<'a>,
    usage: View<'a>,
    journal: View<'a>,
    jobs: View<'a>,
    journal_by_member: View<'a>,
    jobs_by_member: View<'a>,
    members: View<'a>,
    role_caps: View<'a>,
}

/// A journal row before the ledger numbers it and stamps the balance after.
pub(crate) struct Row<'a> {
    pub at: i64,
    pub guild: u64,
    pub member: Option<u64>,
    pub actor: ActorRecord,
    pub kind: KindRecord,
    pub amount: i64,
    pub released: u64,
    pub hold: Option<&'a str>,
    pub reason: &'a str,
}

fn corrupt<T>(r: Result<T, LedgerError>) -> TxResult<T> {
    r.map_err(TxFail::Abort)
}

impl<'a> Tx<'a> {
    pub fn new(kv: &'a dyn KvTx) -> Tx<'a> {
        let view = |tree| View { kv, tree };
        Tx {
            pools: view(0),
            guilds: view(1),
            member_caps: view(2),
            holds: view(3),
            pending: view(4),
            usage: view(5),
            journal: view(6),
            jobs: view(7),
            journal_by_member: view(8),
            jobs_by_member: view(9),
            members: view(10),
            role_caps: view(11),
        }
    }

    pub fn pool(&self, pool: u64) -> TxResult<PoolRecord> {
        match self.pools.get(records::pool_key(pool))? {
            Some(bytes) => corrupt(decode("pool", &bytes)),
            None => Ok(PoolRecord {
                v: SCHEMA_VERSION,
                ..PoolRecord::default()
            }),
        }
    }

    pub fn guild(&self, guild: u64) -> TxResult<GuildRecord> {
        match self.guilds.get(records::guild_key(guild))? {
            Some(bytes) => corrupt(decode("guild", &bytes)),
            None => Ok(GuildRecord {
                v: SCHEMA_VERSION,
                ..GuildRecord::default()
            }),
        }
    }

    pub fn put_guild(&self, guild: u64, record: &GuildRecord) -> TxResult<()> {
        self.guilds
            .insert(records::guild_key(guild), encode(record))?;
        Ok(())
    }

    /// The pool a guild spends from now.
    pub fn pool_of(&self, guild: u64) -> TxResult<u64> {
        Ok(self.guild(guild)?.pool.unwrap_or(guild))
    }

    /// The cap in force for a member of a guild holding `roles` (0 = none), and where it
    /// comes from.
    pub fn effective_cap(
        &self,
        guild: u64,
        member: u64,
        roles: &[u64],
        default: u64,
    ) -> TxResult<(u64, CapSource)> {
        let own = match self
            .member_caps
            .get(records::member_cap_key(guild, member))?
        {
            Some(bytes) => Some(corrupt(decode::<MemberCapRecord>("member cap", &bytes))?.cap),
            None => None,
        };
        let mut role_caps = Vec::new();
        if own.is_none() {
            for &role in roles {
                if let Some(bytes) = self.role_caps.get(records::role_cap_key(guild, role))? {
                    let record: RoleCapRecord = corrupt(decode("role cap", &bytes))?;
                    role_caps.push((role, record.cap));
                }
            }
        }
        let default = if own.is_none() && role_caps.is_empty() {
            self.guild(guild)?.default_cap.unwrap_or(default)
        } else {
            default
        };
        Ok(choose_cap(own, role_caps, default))
    }

    pub fn set_role_cap(&self, guild: u64, role: u64, cap: Option<u64>) -> TxResult<()> {
        let key = records::role_cap_key(guild, role);
        match cap {
            Some(cap) => {
                let record = RoleCapRecord {
                    v: SCHEMA_VERSION,
                    cap,
                };
                self.role_caps.insert(key, encode(&record))?;
            }
            None => self.role_caps.remove(key)?,
        }
        Ok(())
    }

    pub fn set_member_cap(&self, guild: u64, member: u64, cap: Option<u64>) -> TxResult<()> {
        let key = records::member_cap_key(guild, member);
        match cap {
            Some(cap) => {
                let record = MemberCapRecord {
                    v: SCHEMA_VERSION,
                    cap,
                };
                self.member_caps.insert(key, encode(&record))?;
            }
            None => {
                self.member_caps.remove(key)?;
            }
        }
        Ok(())
    }

    pub fn member(&self, member: u64) -> TxResult<MemberRecord> {
        match self.members.get(member.to_be_bytes())? {
            Some(bytes) => corrupt(decode("member", &bytes)),
            None => Ok(MemberRecord::default()),
        }
    }

    pub fn put_member(&self, member: u64, mut record: MemberRecord) -> TxResult<()> {
        record.v = SCHEMA_VERSION;
        self.members.insert(member.to_be_bytes(), encode(&record))
    }

    pub fn hold(&self, key: &str) -> TxResult<Option<HoldRecord>> {
        match self.holds.get(key.as_bytes())? {
            Some(bytes) => corrupt(decode("hold", &bytes)).map(Some),
            None => Ok(None),
        }
    }

    /// Writes a hold and keeps the pending index in step with its state.
    pub fn put_hold(&self, key: &str, hold: &HoldRecord) -> TxResult<()> {
        self.holds.insert(key.as_bytes(), encode(hold))?;
        if hold.state == HoldStateRecord::Pending {
            self.pending.insert(key.as_bytes(), [])?;
        } else {
            self.pending.remove(key.as_bytes())?;
        }
        Ok(())
    }

    pub fn usage(&self, pool: u64, member: u64, day: i64) -> TxResult<u64> {
        match self.usage.get(records::usage_key(pool, member, day))? {
            Some(bytes) => corrupt(decode_u64("usage", &bytes)),
            None => Ok(0),
        }
    }

    pub fn put_usage(&self, pool: u64, member: u64, day: i64, used: u64) -> TxResult<()> {
        let key = records::usage_key(pool, member, day);
        if used == 0 {
            self.usage.remove(key)?;
        } else {
            self.usage.insert(key, used.to_be_bytes())?;
        }
        Ok(())
    }

    /// Applies the caller's guarded job change (a refusal aborts the whole transaction) and
    /// keeps the recent-jobs index in step with it. Returns the record as stored after the
    /// change (`None`: removed).
    pub fn write_job(&self, job: Option<&JobWrite>) -> TxResult<Option<Vec<u8>>> {
        let Some(job) = job else {
            return Ok(None);
        };
        JobTx {
            jobs: self.jobs,
            jobs_by_member: self.jobs_by_member,
        }
        .write_job(job)
    }

    /// Appends a journal row to `pool` stamped with the balance in `record`, then stores
    /// the pool record (whose sequence counter this bumps).
    pub fn journal(&self, pool: u64, mut record: PoolRecord, row: Row<'_>) -> TxResult<()> {
        let seq = record.next_seq;
        record.next_seq = seq + 1;
        record.v = SCHEMA_VERSION;
        let entry = JournalRecord {
            v: SCHEMA_VERSION,
            at: row.at,
            guild: row.guild,
            member: row.member,
            actor: row.actor,
            kind: row.kind,
            amount: row.amount,
            released: row.released,
            hold: row.hold.map(str::to_owned),
            reason: row.reason.to_owned(),
            available_after: available(&record)?,
        };
        self.journal
            .insert(records::journal_key(pool, seq), encode(&entry))?;
        if let Some(member) = entry.member {
            self.journal_by_member
                .insert(records::journal_member_key(pool, member, seq), [])?;
        }
        self.pools
            .insert(records::pool_key(pool), encode(&record))?;
        Ok(())
    }
}

/// The cap that applies (0 = none): the member's own; else the highest of their roles'
/// caps, where 0 (no cap) is the highest of all (ties: the lowest role id, for a stable
/// answer); else the guild's default.
pub(crate) fn choose_cap(
    own: Option<u64>,
    role_caps: impl IntoIterator<Item = (u64, u64)>,
    default: u64,
) -> (u64, CapSource) {
    if let Some(cap) = own {
        return (cap, CapSource::Member);
    }
    let rank = |cap: u64| if cap == 0 { u64::MAX } else { cap };
    role_caps
        .into_iter()
        .min_by_key(|&(role, cap)| (std::cmp::Reverse(rank(cap)), role))
        .map_or((default, CapSource::Default), |(role, cap)| {
            (cap, CapSource::Role(role))
        })
}

/// granted - pending - settled; a negative result means the records are damaged.
pub(crate) fn available(p: &PoolRecord) -> TxResult<u64> {
    p.pending
        .checked_add(p.settled)
        .and_then(|out| p.granted.checked_sub(out))
        .map_or_else(
            || {
                abort(LedgerError::Corrupt(format!(
                    "pool totals are inconsistent: granted {} < pending {} + settled {}",
                    p.granted, p.pending, p.settled
                )))
            },
            Ok,
        )
}

/// Checks one operation's amount against the per-operation bound.
pub(crate) fn check_amount(what: &str, amount: u64) -> TxResult<()> {
    if amount == 0 || amount > MAX_AMOUNT {
        return abort(LedgerError::InvalidAmount(format!(
            "{what} must be between 1 and {MAX_AMOUNT} credits, not {amount}"
        )));
    }
    Ok(())
}

/// Adds to a pool total, refusing totals past [`MAX_POOL_TOTAL`].
pub(crate) fn add_total(total: u64, amount: u64) -> TxResult<u64> {
    match total.checked_add(amount) {
        Some(sum) if sum <= MAX_POOL_TOTAL => Ok(sum),
        _ => abort(LedgerError::InvalidAmount(format!(
            "a pool holds at most {MAX_POOL_TOTAL} credits in total"
        ))),
    }
}

/// Subtracts from a stored total; going below zero means the records are damaged.
pub(crate) fn sub_total(what: &str, total: u64, amount: u64) -> TxResult<u64> {
    total.checked_sub(amount).map_or_else(
        || {
            abort(LedgerError::Corrupt(format!(
                "{what} {total} is smaller than {amount} being released"
            )))
        },
        Ok,
    )
}

/// The job trees alone inside one transaction (`records::JOB_TREES` order): a job's own
/// change, which moves no money.
pub(crate) struct JobTx<'a> {
    jobs: View<'a>,
    jobs_by_member: View<'a>,
}

impl<'a> JobTx<'a> {
    pub fn new(kv: &'a dyn KvTx) -> JobTx<'a> {
        JobTx {
            jobs: View { kv, tree: 0 },
            jobs_by_member: View { kv, tree: 1 },
        }
    }

    /// Applies `job`'s change to its stored record (and its index rows); the stored value
    /// after, `None` once removed.
    pub fn write_job(&self, job: &JobWrite) -> TxResult<Option<Vec<u8>>> {
        let index_keys = job.index.map(|i| {
            let id = String::from_utf8_lossy(&job.key);
            [i.member.0, records::EVERY_MEMBER]
                .map(|member| records::job_index_key(i.guild.0, member, i.created_at, &id))
        });
        let stored = self.jobs.get(job.key.as_slice())?;
        match job.apply(stored.as_deref()) {
            Ok(Some(value)) => {
                self.jobs.insert(job.key.as_slice(), value.as_slice())?;
                for key in index_keys.iter().flatten() {
                    self.jobs_by_member.insert(key.as_slice(), [])?;
                }
                Ok(Some(value))
            }
            Ok(None) => {
                self.jobs.remove(job.key.as_slice())?;
                for key in index_keys.iter().flatten() {
                    self.jobs_by_member.remove(key.as_slice())?;
                }
                Ok(None)
            }
            Err(why) => abort(LedgerError::JobMoved(why)),
        }
    }
}
