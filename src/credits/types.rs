//! The ledger's public vocabulary: pools, actors, holds, balances and journal rows, and
//! how they convert from the stored records.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::records::{ActorRecord, HoldRecord, HoldStateRecord, KindRecord};
use crate::ids::{GuildId, MemberId};

/// A pool of credits. By default a guild's pool id equals its guild id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PoolId(pub u64);

impl fmt::Display for PoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Who made a change; journalled with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Member(MemberId),
    Operator(MemberId),
    Cli,
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Member(id) => write!(f, "member:{id}"),
            Actor::Operator(id) => write!(f, "operator:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerSettings {
    /// Daily cap for members of guilds that set none of their own; 0 = none.
    pub default_daily_cap: u64,
}

/// A change of one job record, made in [`Ledger::jobs_tree`] in the same transaction as the
/// ledger change it goes with. The change is a guard and an update in one: it sees the
/// stored bytes and either returns the record to store (`None` removes it) or refuses, and
/// a refusal aborts the whole transaction, money included ([`LedgerError::JobMoved`]).
/// It may run more than once (sled retries conflicting transactions): keep it pure.
#[derive(Clone)]
pub struct JobWrite {
    pub key: Vec<u8>,
    update: JobUpdate,
    /// Lists the job in its server's recent jobs ([`Ledger::recent_jobs`]); rewriting the
    /// same index on later writes changes nothing. Set on a job's first write.
    pub index: Option<JobIndex>,
}

type JobUpdate = Arc<dyn Fn(Option<&[u8]>) -> Result<Option<Vec<u8>>, String> + Send + Sync>;

impl JobWrite {
    /// Stores `value` whatever was there; an empty `value` removes the key instead.
    pub fn put(key: impl Into<Vec<u8>>, value: Vec<u8>) -> JobWrite {
        JobWrite::guarded(key, move |_| Ok((!value.is_empty()).then(|| value.clone())))
    }

    /// Computes the record to store from the stored one, or refuses with why.
    pub fn guarded(
        key: impl Into<Vec<u8>>,
        update: impl Fn(Option<&[u8]>) -> Result<Option<Vec<u8>>, String> + Send + Sync + 'static,
    ) -> JobWrite {
        JobWrite {
            key: key.into(),
            update: Arc::new(update),
            index: None,
        }
    }

    /// Also lists the job in the recent-jobs index.
    pub fn indexed(mut self, index: JobIndex) -> JobWrite {
        self.index = Some(index);
        self
    }

    /// Runs the update against the stored bytes.
    pub(crate) fn apply(&self, stored: Option<&[u8]>) -> Result<Option<Vec<u8>>, String> {
        (self.update)(stored)
    }
}

impl std::fmt::Debug for JobWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobWrite")
            .field("key", &String::from_utf8_lossy(&self.key))
            .finish_non_exhaustive()
    }
}

/// What the recent-jobs index orders a job by. Never changes for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobIndex {
    pub guild: GuildId,
    pub member: MemberId,
    /// Unix millis, the job record's `created_at`.
    pub created_at: i64,
}

/// One entry of a server's recent jobs, newest first; also the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedJob {
    pub id: String,
    /// Unix millis.
    pub created_at: i64,
}

/// The member rules an admission checks in its transaction (so they hold across every
/// process sharing the store): at most `max_active` live jobs per member, and `cooldown_ms`
/// between a member's accepted jobs in one server (0 = none); `roles`, the roles the member
/// holds now (as the interaction says), choose their daily cap when they have none of their
/// own (see [`CapSource`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberRules {
    pub max_active: usize,
    pub cooldown_ms: i64,
    pub roles: Vec<u64>,
}

/// Which daily cap applies to a member: their own, the highest of their roles' caps, or the
/// server's default (in that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapSource {
    Member,
    Role(u64),
    Default,
}

/// A decision on a job held for approval, as the ledger journals it ([`Ledger::decide`]).
///
/// [`Ledger::decide`]: super::Ledger::decide
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// By a member allowed to decide: the hold stays pending.
    Approved { by: MemberId },
    /// By a member allowed to decide: the hold is voided.
    Rejected { by: MemberId },
    /// Nobody decided within `jobs.approval_timeout`: the hold is voided.
    Expired,
}

/// A request to hold credits for one video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserve {
    /// Idempotency key: the Discord interaction id. A repeat returns the stored hold.
    pub key: String,
    pub guild: GuildId,
    pub member: MemberId,
    pub amount: u64,
    /// What the credits are for, e.g. "video 720p 5s"; journalled.
    pub memo: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldState {
    Pending,
    Settled,
    Voided,
}

impl fmt::Display for HoldState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HoldState::Pending => "pending",
            HoldState::Settled => "settled",
            HoldState::Voided => "voided",
        })
    }
}

impl From<HoldStateRecord> for HoldState {
    fn from(s: HoldStateRecord) -> Self {
        match s {
            HoldStateRecord::Pending => HoldState::Pending,
            HoldStateRecord::Settled => HoldState::Settled,
            HoldStateRecord::Voided => HoldState::Voided,
        }
    }
}

/// Credits held for one video. It remembers its pool: linking later does not move it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub key: String,
    pub pool: PoolId,
    pub guild: GuildId,
    pub member: MemberId,
    pub amount: u64,
    pub settled: Option<u64>,
    pub state: HoldState,
    /// Unix millis.
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub memo: String,
}

impl Hold {
    pub(super) fn from_record(key: String, r: HoldRecord) -> Hold {
        Hold {
            key,
            pool: PoolId(r.pool),
            guild: GuildId(r.guild),
            member: MemberId(r.member),
            amount: r.amount,
            settled: r.settled,
            state: r.state.into(),
            created_at: r.created_at,
            resolved_at: r.resolved_at,
            memo: r.memo,
        }
    }
}

/// A pool's totals. `granted = available + pending + settled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub pool: PoolId,
    pub available: u64,
    pub pending: u64,
    pub settled: u64,
    pub granted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemberUsage {
    /// Settled + pending credits of holds made today (UTC) in the guild's current pool.
    pub used_today: u64,
    /// The cap in force; `None` = no cap.
    pub cap: Option<u64>,
    /// Where that cap comes from.
    pub source: CapSource,
    /// Unix millis of the next midnight UTC.
    pub resets_at: i64,
}

/// A guild's place in the ledger, for `credits show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuildInfo {
    pub guild: GuildId,
    pub pool: PoolId,
    /// The default daily cap in force for the guild's members; `None` = no cap.
    pub default_cap: Option<u64>,
    /// Every guild whose current pool is `pool` (including `guild`).
    pub guilds_sharing_pool: Vec<GuildId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// `amount`: credits added (negative: taken back).
    Grant,
    /// `amount`: credits held.
    Reserve,
    /// `amount`: credits spent; `released`: the rest of the hold, returned to the pool.
    Settle,
    /// `amount`: credits returned to the pool.
    Void,
    /// `amount`: the guild's new default daily cap (0 = none).
    DefaultCap,
    /// `amount`: the member's new daily cap (0 = none).
    MemberCap,
    /// The member is back to the guild's default cap.
    MemberCapCleared,
    /// `amount`: the new daily cap of members holding a role (0 = none); the role is in
    /// the reason.
    RoleCap,
    /// The role no longer has a cap of its own.
    RoleCapCleared,
    /// The guild now spends from another pool (row written in both pools).
    Link,
    /// The guild now spends from its own pool (row written in both pools).
    Unlink,
    /// A job held for approval was approved (amount 0; the hold stays pending and the job
    /// joins the queue). `actor` says who.
    Approved,
    /// A job held for approval was rejected (amount 0; a `void` row follows in the same
    /// transaction). `actor` says who.
    Rejected,
    /// Nobody decided on a job held for approval in time (amount 0; a `void` row follows).
    ApprovalExpired,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_value(self).expect("serialises");
        f.write_str(text.as_str().unwrap_or("?"))
    }
}

impl From<KindRecord> for EntryKind {
    fn from(k: KindRecord) -> Self {
        match k {
            KindRecord::Grant => EntryKind::Grant,
            KindRecord::Reserve => EntryKind::Reserve,
            KindRecord::Settle => EntryKind::Settle,
            KindRecord::Void => EntryKind::Void,
            KindRecord::DefaultCap => EntryKind::DefaultCap,
            KindRecord::MemberCap => EntryKind::MemberCap,
            KindRecord::MemberCapCleared => EntryKind::MemberCapCleared,
            KindRecord::RoleCap => EntryKind::RoleCap,
            KindRecord::RoleCapCleared => EntryKind::RoleCapCleared,
            KindRecord::Link => EntryKind::Link,
            KindRecord::Unlink => EntryKind::Unlink,
            KindRecord::Approved => EntryKind::Approved,
            KindRecord::Rejected => EntryKind::Rejected,
            KindRecord::ApprovalExpired => EntryKind::ApprovalExpired,
        }
    }
}

impl From<Actor> for ActorRecord {
    fn from(a: Actor) -> Self {
        match a {
            Actor::Member(m) => ActorRecord::Member(m.0),
            Actor::Operator(m) => ActorRecord::Operator(m.0),
            Actor::Cli => ActorRecord::Cli,
            Actor::System => ActorRecord::System,
        }
    }
}

impl From<ActorRecord> for Actor {
    fn from(a: ActorRecord) -> Self {
        match a {
            ActorRecord::Member(m) => Actor::Member(MemberId(m)),
            ActorRecord::Operator(m) => Actor::Operator(MemberId(m)),
            ActorRecord::Cli => Actor::Cli,
            ActorRecord::System => Actor::System,
        }
    }
}

/// One journal row: who, when, why, how much, and the pool's available balance after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub seq: u64,
    /// Unix millis.
    pub at: i64,
    pub pool: PoolId,
    pub guild: GuildId,
    pub member: Option<MemberId>,
    pub actor: Actor,
    pub kind: EntryKind,
    pub amount: i64,
    pub released: u64,
    pub hold: Option<String>,
    pub reason: String,
    pub available_after: u64,
}
