//! The history indexes: a member's journal rows and a server's recent jobs, so `/credits
//! history` and `/jobs` read a range instead of scanning every row. The transactions keep
//! them in step (see `tx`); this file builds them for stores written before they existed,
//! checks them for `verify`, and reads the recent jobs.

use std::collections::BTreeSet;

use serde::Deserialize;

use std::collections::BTreeMap;

use super::records::{
    self, EVERY_MEMBER, HoldRecord, HoldStateRecord, INDEX_MARKS, JOBS_BY_MEMBER,
    JOURNAL_BY_MEMBER, MEMBERS, MemberRecord,
};
use super::{IndexedJob, Ledger, LedgerError};
use crate::ids::{GuildId, MemberId};

/// The layout version of both indexes, stored under their names in [`INDEX_MARKS`].
const INDEX_VERSION: u32 = 1;

/// The fields of a stored job record the jobs index orders by. The ledger writes job
/// records for the job queue; it reads only these, and skips a record without them.
#[derive(Deserialize)]
struct IndexedFields {
    created_at: i64,
    request: RequestFields,
}

#[derive(Deserialize)]
struct RequestFields {
    guild: u64,
    member: u64,
}

impl Ledger {
    /// Builds each index the store has no mark for (a store written before it existed),
    /// then marks it and flushes. Rebuilding is safe: rows are derived, so a build cut
    /// short by a crash is simply done again at the next open.
    pub(super) fn ensure_indexes(&self) -> Result<(), LedgerError> {
        let marks = self.inner.store.tree(INDEX_MARKS)?;
        let mut built = false;
        for name in [JOURNAL_BY_MEMBER, JOBS_BY_MEMBER] {
            if marks.get(name)?.is_some() {
                continue;
            }
            let tree = self.inner.tree(name);
            let rows = if name == JOURNAL_BY_MEMBER {
                self.expected_journal_index()?
            } else {
                self.expected_jobs_index()?
            };
            if !rows.is_empty() {
                // A store from before the index: a one-time scan, worth a line.
                tracing::info!(index = name, rows = rows.len(), "building a history index");
            }
            for key in rows {
                tree.insert(key, &[])?;
            }
            marks.insert(name, &INDEX_VERSION.to_be_bytes())?;
            built = true;
        }
        if marks.get(MEMBERS)?.is_none() {
            let members = self.expected_members()?;
            if !members.is_empty() {
                tracing::info!(members = members.len(), "recording members' live jobs");
            }
            let tree = self.inner.tree(MEMBERS);
            for (member, record) in members {
                tree.insert(member.to_be_bytes(), &records::encode(&record))?;
            }
            marks.insert(MEMBERS, &INDEX_VERSION.to_be_bytes())?;
            built = true;
        }
        if built && let Some(db) = self.inner.store.sled() {
            db.flush()?;
        }
        Ok(())
    }

    /// A server's jobs, newest first, optionally one member's; `before` is the last entry
    /// of the previous page.
    pub fn recent_jobs(
        &self,
        guild: GuildId,
        member: Option<MemberId>,
        before: Option<&IndexedJob>,
        limit: usize,
    ) -> Result<Vec<IndexedJob>, LedgerError> {
        let member = member.map_or(EVERY_MEMBER, |m| m.0);
        let prefix = records::job_index_prefix(guild.0, member);
        let tree = self.inner.tree(JOBS_BY_MEMBER);
        let keys = match before {
            Some(b) => tree.range(
                prefix.to_vec()..records::job_index_key(guild.0, member, b.created_at, &b.id),
            ),
            None => tree.scan_prefix(prefix),
        };
        let mut jobs = Vec::new();
        for key in keys.rev().keys() {
            if jobs.len() >= limit {
                break;
            }
            let key = key?;
            let (_, _, created_at, id) = records::parse_job_index_key(&key)
                .ok_or_else(|| LedgerError::Corrupt("bad jobs index key".into()))?;
            jobs.push(IndexedJob { id, created_at });
        }
        Ok(jobs)
    }

    /// Each member's record as the holds say it should be: pending holds are live jobs;
    /// the latest hold per server is the last acceptance.
    fn expected_members(&self) -> Result<BTreeMap<u64, MemberRecord>, LedgerError> {
        let mut members: BTreeMap<u64, MemberRecord> = BTreeMap::new();
        for entry in self.inner.tree("credits.holds").iter() {
            let (key, bytes) = entry?;
            let hold: HoldRecord = records::decode("hold", &bytes)?;
            let record = members.entry(hold.member).or_default();
            record.v = crate::store::SCHEMA_VERSION;
            if hold.state == HoldStateRecord::Pending {
                record
                    .active
                    .push((String::from_utf8_lossy(&key).into_owned(), hold.created_at));
            }
            match record.last.iter_mut().find(|(g, _)| *g == hold.guild) {
                Some((_, at)) => *at = (*at).max(hold.created_at),
                None => record.last.push((hold.guild, hold.created_at)),
            }
        }
        for record in members.values_mut() {
            record
                .active
                .sort_by_key(|(key, created)| (*created, key.clone()));
        }
        Ok(members)
    }

    /// Each member whose stored live jobs disagree with their pending holds.
    pub(super) fn check_members(&self) -> Result<Vec<String>, LedgerError> {
        let expected = self.expected_members()?;
        let mut stored: BTreeMap<u64, MemberRecord> = BTreeMap::new();
        for entry in self.inner.tree(MEMBERS).iter() {
            let (key, bytes) = entry?;
            let member = records::parse_u64_prefix(&key)
                .ok_or_else(|| LedgerError::Corrupt("bad member key".into()))?;
            stored.insert(member, records::decode("member", &bytes)?);
        }
        let live = |r: Option<&MemberRecord>| -> BTreeSet<String> {
            r.map(|r| r.active.iter().map(|(k, _)| k.clone()).collect())
                .unwrap_or_default()
        };
        let mut problems = Vec::new();
        let ids: BTreeSet<u64> = expected.keys().chain(stored.keys()).copied().collect();
        for member in ids {
            let (want, have) = (live(expected.get(&member)), live(stored.get(&member)));
            if want != have {
                problems.push(format!(
                    "{MEMBERS}: member {member} lists live jobs {have:?}, the pending holds are {want:?}"
                ));
            }
        }
        Ok(problems)
    }

    /// Every journal index row the journal says there should be.
    fn expected_journal_index(&self) -> Result<BTreeSet<Vec<u8>>, LedgerError> {
        let mut rows = BTreeSet::new();
        for entry in self.inner.tree("credits.journal").iter() {
            let (key, bytes) = entry?;
            let (Some(pool), Some(seq)) = (
                records::parse_u64_prefix(&key),
                key.get(8..).and_then(records::parse_u64_prefix),
            ) else {
                return Err(LedgerError::Corrupt("bad journal key".into()));
            };
            let row: records::JournalRecord = records::decode("journal", &bytes)?;
            if let Some(member) = row.member {
                rows.insert(records::journal_member_key(pool, member, seq).to_vec());
            }
        }
        Ok(rows)
    }

    /// Every jobs index row the job records say there should be.
    fn expected_jobs_index(&self) -> Result<BTreeSet<Vec<u8>>, LedgerError> {
        let mut rows = BTreeSet::new();
        for entry in self.jobs_tree().iter() {
            let (key, bytes) = entry?;
            let Ok(job) = serde_json::from_slice::<IndexedFields>(&bytes) else {
                continue;
            };
            let id = String::from_utf8_lossy(&key);
            let (guild, created) = (job.request.guild, job.created_at);
            for member in [job.request.member, EVERY_MEMBER] {
                rows.insert(records::job_index_key(guild, member, created, &id));
            }
        }
        Ok(rows)
    }

    /// Each disagreement between an index and the rows it indexes.
    pub(super) fn check_indexes(&self) -> Result<Vec<String>, LedgerError> {
        let mut problems = Vec::new();
        let journal = self.expected_journal_index()?;
        let jobs = self.expected_jobs_index()?;
        for (name, expected) in [(JOURNAL_BY_MEMBER, journal), (JOBS_BY_MEMBER, jobs)] {
            let mut stored = BTreeSet::new();
            for key in self.inner.tree(name).iter().keys() {
                stored.insert(key?.to_vec());
            }
            for key in expected.difference(&stored) {
                problems.push(format!("{name}: row {} is missing", describe(name, key)));
            }
            for key in stored.difference(&expected) {
                problems.push(format!(
                    "{name}: row {} indexes nothing",
                    describe(name, key)
                ));
            }
        }
        Ok(problems)
    }
}

/// An index key in words, for `verify`'s report.
fn describe(name: &str, key: &[u8]) -> String {
    if name == JOBS_BY_MEMBER
        && let Some((guild, member, created_at, id)) = records::parse_job_index_key(key)
    {
        return format!("(guild {guild}, member {member}, created {created_at}, job {id})");
    }
    let part = |at: usize| key.get(at..).and_then(records::parse_u64_prefix);
    match (part(0), part(8), part(16)) {
        (Some(pool), Some(member), Some(seq)) => {
            format!("(pool {pool}, member {member}, seq {seq})")
        }
        _ => format!("{key:?}"),
    }
}
