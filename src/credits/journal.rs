//! Reading the journal: a pool's rows newest first (history) or oldest first (export).

use super::{ExportFormat, JournalEntry, Ledger, LedgerError, PoolId, export, records};
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
        let mut rows = Vec::new();
        for row in self.journal_rows(pool).rev() {
            let row = row?;
            if member.is_none() || row.member == member {
                rows.push(row);
                if rows.len() >= limit {
                    break;
                }
            }
        }
        Ok(rows)
    }

    /// A pool's whole journal, oldest first.
    pub(crate) fn journal_rows(
        &self,
        pool: PoolId,
    ) -> impl DoubleEndedIterator<Item = Result<JournalEntry, LedgerError>> + use<> {
        self.inner
            .tree("credits.journal")
            .scan_prefix(records::pool_key(pool.0))
            .map(move |entry| {
                let (key, bytes) = entry?;
                let seq = key
                    .get(8..)
                    .and_then(records::parse_u64_prefix)
                    .ok_or_else(|| LedgerError::Corrupt("bad journal key".into()))?;
                let r: records::JournalRecord = records::decode("journal", &bytes)?;
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
