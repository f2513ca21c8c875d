//! A full consistency check: every pool's stored totals against its holds, usage rows and
//! journal, and the history indexes against the rows they index. Used by the tests after
//! every step and by `credits verify`.

use std::collections::BTreeMap;

use super::records::{self, DAY_MS, HoldRecord, HoldStateRecord, PoolRecord};
use super::{EntryKind, Ledger, LedgerError, PoolId};

#[derive(Default)]
struct Totals {
    granted: i128,
    pending: i128,
    settled: i128,
}

pub(crate) fn run(ledger: &Ledger) -> Result<Vec<String>, LedgerError> {
    let inner = &ledger.inner;
    let mut problems = Vec::new();
    let mut pools: BTreeMap<u64, PoolRecord> = BTreeMap::new();
    for entry in inner.tree("credits.pools").iter() {
        let (key, bytes) = entry?;
        let id = records::parse_u64_prefix(&key)
            .ok_or_else(|| LedgerError::Corrupt("bad pool key".into()))?;
        pools.insert(id, records::decode("pool", &bytes)?);
    }

    // Totals and usage as the holds say they should be.
    let mut from_holds: BTreeMap<u64, Totals> = BTreeMap::new();
    let mut usage: BTreeMap<(u64, u64, i64), u64> = BTreeMap::new();
    for entry in inner.tree("credits.holds").iter() {
        let (key, bytes) = entry?;
        let key = String::from_utf8_lossy(&key).into_owned();
        let hold: HoldRecord = records::decode("hold", &bytes)?;
        let t = from_holds.entry(hold.pool).or_default();
        let used = match hold.state {
            HoldStateRecord::Pending => {
                t.pending += i128::from(hold.amount);
                hold.amount
            }
            HoldStateRecord::Settled => {
                let settled = hold.settled.unwrap_or(u64::MAX);
                if settled > hold.amount {
                    problems.push(format!(
                        "hold {key} settled {settled} > held {}",
                        hold.amount
                    ));
                }
                t.settled += i128::from(settled);
                settled
            }
            HoldStateRecord::Voided => 0,
        };
        let indexed = inner.tree("credits.pending").contains_key(key.as_bytes())?;
        if indexed != (hold.state == HoldStateRecord::Pending) {
            problems.push(format!(
                "hold {key} is {:?} but indexed as pending: {indexed}",
                hold.state
            ));
        }
        let day = hold.created_at.div_euclid(DAY_MS);
        *usage.entry((hold.pool, hold.member, day)).or_default() += used;
    }
    usage.retain(|_, used| *used > 0);
    let mut stored_usage = BTreeMap::new();
    for entry in inner.tree("credits.usage").iter() {
        let (key, bytes) = entry?;
        let id = records::parse_usage_key(&key)
            .ok_or_else(|| LedgerError::Corrupt("bad usage key".into()))?;
        stored_usage.insert(id, records::decode_u64("usage", &bytes)?);
    }
    if stored_usage != usage {
        problems.push(format!(
            "usage rows {stored_usage:?} but holds say {usage:?}"
        ));
    }
    for entry in inner.tree("credits.pending").iter() {
        let (key, _) = entry?;
        if !inner.tree("credits.holds").contains_key(&key)? {
            problems.push(format!("pending index names a missing hold {key:?}"));
        }
    }
    for entry in inner.tree("credits.role_caps").iter() {
        let (key, bytes) = entry?;
        if key.len() != 16 {
            problems.push(format!("role cap key {key:?} is not guild ++ role"));
            continue;
        }
        match records::decode::<records::RoleCapRecord>("role cap", &bytes) {
            Ok(r) if r.cap > super::MAX_AMOUNT => problems.push(format!(
                "role cap {key:?} is {} credits, more than any cap may be",
                r.cap
            )),
            Ok(_) => {}
            Err(e) => problems.push(e.to_string()),
        }
    }

    for (&id, p) in &pools {
        let h = from_holds.remove(&id).unwrap_or_default();
        if (i128::from(p.pending), i128::from(p.settled)) != (h.pending, h.settled) {
            problems.push(format!(
                "pool {id}: stored pending {} settled {}, holds say {} and {}",
                p.pending, p.settled, h.pending, h.settled
            ));
        }
        problems.extend(replay_journal(ledger, id, p)?);
    }
    for (id, _) in from_holds {
        problems.push(format!("holds name pool {id}, which has no record"));
    }
    problems.extend(ledger.check_indexes()?);
    problems.extend(ledger.check_members()?);
    Ok(problems)
}

/// Replays one pool's journal and compares it with the stored totals.
fn replay_journal(ledger: &Ledger, id: u64, p: &PoolRecord) -> Result<Vec<String>, LedgerError> {
    let mut problems = Vec::new();
    let mut t = Totals::default();
    let mut rows = 0u64;
    let mut last_available = 0;
    for row in ledger.journal_rows(PoolId(id)) {
        let row = row?;
        if row.seq != rows {
            problems.push(format!(
                "pool {id}: journal row {} where {rows} was due",
                row.seq
            ));
        }
        rows += 1;
        let amount = i128::from(row.amount);
        match row.kind {
            EntryKind::Grant => t.granted += amount,
            EntryKind::Reserve => t.pending += amount,
            EntryKind::Settle => {
                t.pending -= amount + i128::from(row.released);
                t.settled += amount;
            }
            EntryKind::Void => t.pending -= amount,
            _ => {}
        }
        let available = t.granted - t.pending - t.settled;
        if available != i128::from(row.available_after) || available < 0 {
            problems.push(format!(
                "pool {id}: journal row {} says available {} but replay gives {available}",
                row.seq, row.available_after
            ));
        }
        last_available = row.available_after;
    }
    let stored = (
        i128::from(p.granted),
        i128::from(p.pending),
        i128::from(p.settled),
    );
    if stored != (t.granted, t.pending, t.settled) || rows != p.next_seq {
        problems.push(format!(
            "pool {id}: stored (granted, pending, settled, rows) {:?} but the journal replays to {:?}",
            (p.granted, p.pending, p.settled, p.next_seq),
            (t.granted, t.pending, t.settled, rows)
        ));
    }
    let _ = last_available;
    Ok(problems)
}
