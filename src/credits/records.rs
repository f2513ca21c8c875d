//! What the ledger stores: versioned record types, separate from the API types, and the
//! key layout of each tree.
//!
//! Keys are big-endian so that sled's byte order is numeric order: a pool's journal is one
//! range scan (`pool ++ seq`), and a member's usage is keyed `pool ++ member ++ day`.
//! Values are JSON with a `v` field holding [`crate::store::SCHEMA_VERSION`] at write time.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::LedgerError;
use crate::store::SCHEMA_VERSION;

/// Tree names. `jobs` is shared with the job queue; the rest belong to the ledger alone.
pub(crate) const TREE_NAMES: [&str; 8] = [
    "credits.pools",
    "credits.guilds",
    "credits.member_caps",
    "credits.holds",
    "credits.pending",
    "credits.usage",
    "credits.journal",
    "jobs",
];

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
    Link,
    Unlink,
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

pub(crate) fn journal_key(pool: u64, seq: u64) -> [u8; 16] {
    concat2(pool, seq)
}

pub(crate) fn usage_key(pool: u64, member: u64, day: i64) -> [u8; 24] {
    let mut key = [0; 24];
    key[..16].copy_from_slice(&concat2(pool, member));
    // Days before 1970 would sort wrongly as signed BE; the clock never goes there, but
    // flipping the sign bit keeps the order right anyway.
    key[16..].copy_from_slice(&((day as u64) ^ (1 << 63)).to_be_bytes());
    key
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
    PoolRecord,
    GuildRecord,
    MemberCapRecord,
    HoldRecord,
    JournalRecord
);
