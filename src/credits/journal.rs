//! Reading the journal: a pool's rows newest first (history, a page at a time: a reverse
//! range scan of the journal, or of the member index for one member's rows) or oldest
//! first (export).

use super::records::{self, JOURNAL_BY_MEMBER};
use super::{ExportFormat, JournalEntry, Ledger, LedgerError, PoolId, export};
use crate::ids::{GuildId, MemberId};

impl Ledger {
    /// The journal of the guild's current pool, newest first, optionally one member's rows.
    pub fn history(
        &self,
        guild: GuildId,
        member: Option<MemberId>,
        limit: usize,
    ) -> Result<Vec<JournalEntry>, LedgerError> {
        self.pool_history(self.pool_of(guild)?, member, limit)
    }

    /// A pool's journal, newest first, optionally one member's rows.
    pub fn pool_history(
        &self,
        pool: PoolId,
        member: Option<MemberId>,
        limit: usize,
    ) -> Result<Vec<JournalEntry>, LedgerError> {
        self.pool_history_page(pool, member, None, limit)
    }

    /// One page of a pool's journal, newest first: the rows before sequence number
    /// `before` (the last `seq` of the previous page), optionally one member's rows.
    pub fn pool_history_page(
        &self,
        pool: PoolId,
        member: Option<MemberId>,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<JournalEntry>, LedgerError> {
        let Some(member) = member else {
            let end = records::journal_key(pool.0, before.unwrap_or(u64::MAX)).to_vec();
            let start = records::journal_key(pool.0, 0).to_vec();
            let rows = self.inner.tree("credits.journal").range(start..end);
            // `u64::MAX` itself is never a sequence number: a pool writes far fewer rows.
            return rows
                .rev()
                .take(limit)
                .map(|entry| {
                    let (key, bytes) = entry?;
                    journal_entry(pool, &key, &bytes)
                })
                .collect();
        };
        let start = records::journal_member_key(pool.0, member.0, 0).to_vec();
        let end = records::journal_member_key(pool.0, member.0, before.unwrap_or(u64::MAX));
        let journal = self.inner.tree("credits.journal");
        let mut rows = Vec::new();
        for key in self
            .inner
            .tree(JOURNAL_BY_MEMBER)
            .range(start..end.to_vec())
            .rev()
            .keys()
            .take(limit)
        {
            let key = key?;
            let seq = key
                .get(16..)
                .and_then(records::parse_u64_prefix)
                .ok_or_else(|| LedgerError::Corrupt("bad journal index key".into()))?;
            let row_key = records::journal_key(pool.0, seq);
            let bytes = journal.get(row_key)?.ok_or_else(|| {
                LedgerError::Corrupt(format!("pool {pool}: indexed journal row {seq} is missing"))
            })?;
            rows.push(journal_entry(pool, &row_key, &bytes)?);
        }
        Ok(rows)
    }

    /// A pool's whole journal, oldest first.
    pub(crate) fn journal_rows(
        &self,
        pool: PoolId,
    ) -> impl Iterator<Item = Result<JournalEntry, LedgerError>> + use<> {
        self.inner
            .tree("credits.journal")
            .scan_prefix(records::pool_key(pool.0))
            .map(move |entry| {
                let (key, bytes) = entry?;
                journal_entry(pool, &key, &bytes)
            })
    }

    /// Writes the journal of the guild's current pool, oldest first; returns the row count.
    pub fn export(
        &self,
        guild: GuildId,
        format: ExportFormat,
        out: &mut dyn std::io::Write,
    ) -> Result<usize, LedgerError> {
        export::write(self.journal_rows(self.pool_of(guild)?), format, out)
    }
}

/// One stored journal row of `pool` as the API shows it.
fn journal_entry(pool: PoolId, key: &[u8], bytes: &[u8]) -> Result<JournalEntry, LedgerError> {
    let seq = key
        .get(8..)
        .and_then(records::parse_u64_prefix)
        .ok_or_else(|| LedgerError::Corrupt("bad journal key".into()))?;
    let r: records::JournalRecord = records::decode("journal", bytes)?;
    Ok(JournalEntry {
        seq,
        at: r.at,
        pool,
        guild: GuildId(r.guild),
        member: r.member.map(MemberId),
        actor: r.actor.into(),
        kind: r.kind.into(),
        amount: r.amount,
        released: r.released,
        hold: r.hold,
        reason: r.reason,
        available_after: r.available_after,
    })
}
