//! What the ledger stores: versioned record types, separate from the API types, and the
//! key layout of each tree.
//!
//! Keys are big-endian so that sled's byte order is numeric order: a pool's journal is one
//! range scan (`pool ++ seq`), and a member's usage is keyed `pool ++ member ++ day`. Two
//! index trees, written in the same transaction as what they index, make history reads
//! range scans too: a member's journal rows (`pool ++ member ++ seq`) and a server's jobs
//! (`guild ++ member ++ created_at ++ job id`, member 0 standing for every member).
//! Values are JSON with a `v` field holding [`crate::store::SCHEMA_VERSION`] at write time.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::LedgerError;
use crate::store::SCHEMA_VERSION;

/// Tree names. `jobs` is shared with the job queue; the rest belong to the ledger alone.
pub(crate) const TREE_NAMES: [&str; 12] = [
    "credits.pools",
    "credits.guilds",
    "credits.member_caps",
    "credits.holds",
    "credits.pending",
    "credits.usage",
    "credits.journal",
    "jobs",
    JOURNAL_BY_MEMBER,
    JOBS_BY_MEMBER,
    MEMBERS,
    "credits.role_caps",
];

/// The trees a job's own change writes (the record and its index rows): a transaction that
/// moves no money spans only these.
pub(crate) const JOB_TREES: [&str; 2] = ["jobs", JOBS_BY_MEMBER];

/// Each member's live jobs and when they last had one accepted in each server:
/// member id (BE) -> [`MemberRecord`]. Written with the holds it mirrors, so the active-job
/// limit and the cooldown are checked inside the admit transaction, whichever process runs it.
pub(crate) const MEMBERS: &str = "jobs.members";

/// A member's journal rows: `pool ++ member ++ seq` -> empty.
pub(crate) const JOURNAL_BY_MEMBER: &str = "credits.journal_by_member";
/// A server's jobs, newest last: `guild ++ member ++ created_at ++ job id` -> empty, once
/// under the job's member and once under [`EVERY_MEMBER`].
pub(crate) const JOBS_BY_MEMBER: &str = "jobs.by_member";
/// The member slot of a job index row listing every member's jobs (snowflakes are never 0).
pub(crate) const EVERY_MEMBER: u64 = 0;
/// Which indexes a store has been given (name -> layout version), outside the transactions.
pub(crate) const INDEX_MARKS: &str = "credits.indexes";

/// A member's pending holds (their live jobs) and last acceptance per server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberRecord {
    pub v: u32,
    /// Hold key and creation time of each live job, oldest first.
    pub active: Vec<(String, i64)>,
    /// (guild, unix millis) of the member's latest accepted job in each server.
    pub last: Vec<(u64, i64)>,
}

/// One millisecond-day: usage is counted per UTC day, `unix_millis.div_euclid(DAY_MS)`.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// A pool's running totals, and the next journal sequence number. Key: pool id (BE).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PoolRecord {
    pub v: u32,
    pub granted: u64,
    pub pending: u64,
    pub settled: u64,
    pub next_seq: u64,
}

/// A guild's settings. Key: guild id (BE). Absent = own pool, the configured default cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GuildRecord {
    pub v: u32,
    /// The pool the guild spends from, when linked to another guild's pool.
    pub pool: Option<u64>,
    /// The guild's own default daily cap (0 = none); `None` = the configured default.
    pub default_cap: Option<u64>,
}

/// A member's own daily cap in a guild (0 = none). Key: guild (BE) ++ member (BE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberCapRecord {
    pub v: u32,
    pub cap: u64,
}

/// The daily cap of the members holding a role in a guild (0 = none). Key: guild (BE) ++
/// role (BE). A member's own cap overrides it; of several role caps the highest applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RoleCapRecord {
    pub v: u32,
    pub cap: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HoldStateRecord {
    Pending,
    Settled,
    Voided,
}

/// A hold; also the idempotency row of its reserve. Key: the idempotency key (UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HoldRecord {
    pub v: u32,
    pub pool: u64,
    pub guild: u64,
    pub member: u64,
    pub amount: u64,
    pub settled: Option<u64>,
    pub state: HoldStateRecord,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub memo: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ActorRecord {
    Member(u64),
    Operator(u64),
    Cli,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum KindRecord {
    Grant,
    Reserve,
    Settle,
    Void,
    DefaultCap,
    MemberCap,
    MemberCapCleared,
    RoleCap,
    RoleCapCleared,
    Link,
    Unlink,
    Approved,
    Rejected,
    ApprovalExpired,
}

/// One journal row. Key: pool (BE) ++ seq (BE). Never rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JournalRecord {
    pub v: u32,
    pub at: i64,
    pub guild: u64,
    pub member: Option<u64>,
    pub actor: ActorRecord,
    pub kind: KindRecord,
    pub amount: i64,
    pub released: u64,
    pub hold: Option<String>,
    pub reason: String,
    pub available_after: u64,
}

pub(crate) fn pool_key(pool: u64) -> [u8; 8] {
    pool.to_be_bytes()
}

pub(crate) fn guild_key(guild: u64) -> [u8; 8] {
    guild.to_be_bytes()
}

pub(crate) fn member_cap_key(guild: u64, member: u64) -> [u8; 16] {
    concat2(guild, member)
}

pub(crate) fn role_cap_key(guild: u64, role: u64) -> [u8; 16] {
    concat2(guild, role)
}

pub(crate) fn journal_key(pool: u64, seq: u64) -> [u8; 16] {
    concat2(pool, seq)
}

pub(crate) fn usage_key(pool: u64, member: u64, day: i64) -> [u8; 24] {
    let mut key = [0; 24];
    key[..16].copy_from_slice(&concat2(pool, member));
    key[16..].copy_from_slice(&ordered_i64(day));
    key
}

pub(crate) fn journal_member_key(pool: u64, member: u64, seq: u64) -> [u8; 24] {
    let mut key = [0; 24];
    key[..16].copy_from_slice(&concat2(pool, member));
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The start of every job index row of a guild's member (or of [`EVERY_MEMBER`]).
pub(crate) fn job_index_prefix(guild: u64, member: u64) -> [u8; 16] {
    concat2(guild, member)
}

pub(crate) fn job_index_key(guild: u64, member: u64, created_at: i64, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(24 + id.len());
    key.extend_from_slice(&concat2(guild, member));
    key.extend_from_slice(&ordered_i64(created_at));
    key.extend_from_slice(id.as_bytes());
    key
}

/// Splits a job index key back into (guild, member, created_at, job id).
pub(crate) fn parse_job_index_key(key: &[u8]) -> Option<(u64, u64, i64, String)> {
    let guild = parse_u64_prefix(key)?;
    let member = parse_u64_prefix(key.get(8..)?)?;
    let created_at = (parse_u64_prefix(key.get(16..)?)? ^ (1 << 63)) as i64;
    let id = String::from_utf8(key.get(24..)?.to_vec()).ok()?;
    Some((guild, member, created_at, id))
}

/// A signed number as big-endian bytes that sort in numeric order: times before 1970
/// would sort wrongly as plain signed BE; the clock never goes there, but flipping the
/// sign bit keeps the order right anyway.
fn ordered_i64(n: i64) -> [u8; 8] {
    ((n as u64) ^ (1 << 63)).to_be_bytes()
}

/// Splits a usage key back into (pool, member, day).
pub(crate) fn parse_usage_key(key: &[u8]) -> Option<(u64, u64, i64)> {
    let pool = u64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    let member = u64::from_be_bytes(key.get(8..16)?.try_into().ok()?);
    let day = u64::from_be_bytes(key.get(16..24)?.try_into().ok()?) ^ (1 << 63);
    Some((pool, member, day as i64))
}

pub(crate) fn parse_u64_prefix(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(..8)?.try_into().ok()?))
}

fn concat2(a: u64, b: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&a.to_be_bytes());
    key[8..].copy_from_slice(&b.to_be_bytes());
    key
}

pub(crate) fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    serde_json::to_vec(record).expect("ledger records always serialise")
}

/// Decodes a record; a record from a newer schema is refused rather than misread.
pub(crate) fn decode<T: DeserializeOwned + Versioned>(
    what: &str,
    bytes: &[u8],
) -> Result<T, LedgerError> {
    let record: T = serde_json::from_slice(bytes)
        .map_err(|e| LedgerError::Corrupt(format!("unreadable {what} record: {e}")))?;
    if record.version() > SCHEMA_VERSION {
        return Err(LedgerError::Corrupt(format!(
            "{what} record has schema {} but this build reads {SCHEMA_VERSION}",
            record.version()
        )));
    }
    Ok(record)
}

pub(crate) fn decode_u64(what: &str, bytes: &[u8]) -> Result<u64, LedgerError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| LedgerError::Corrupt(format!("{what} is not an 8-byte counter")))
}

pub(crate) trait Versioned {
    fn version(&self) -> u32;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> u32 {
                self.v
            }
        }
    )*};
}
versioned!(
    MemberRecord,
    PoolRecord,
    GuildRecord,
    MemberCapRecord,
    RoleCapRecord,
    HoldRecord,
    JournalRecord
);
