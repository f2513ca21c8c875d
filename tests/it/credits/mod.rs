//! The credit ledger: properties, concurrency, crash safety, CLI.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use seedance_bot::credits::{
    EntryKind, Hold, Ledger, LedgerError, LedgerSettings, PoolId, Reserve,
};
use seedance_bot::ids::{GuildId, MemberId};

mod batch;
mod cli;
mod concurrency;
mod copy;
mod crash;
mod group_commit;
mod history;
mod pg_batch;
mod properties;
mod role_caps;
mod settings;

/// 2023-11-14 23:00 UTC: an hour before midnight, so short runs cross a UTC day.
pub const START_MILLIS: i64 = 1_700_002_800_000;

/// Where a test's ledger lives: the suite runs against both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sled,
    Postgres,
}

/// A ledger on a fresh store with a clock the test moves.
pub struct TestLedger {
    pub ledger: Ledger,
    pub clock: Arc<AtomicI64>,
    _dir: Option<tempfile::TempDir>,
}

/// A ledger on a fresh store of `backend`: a sled temp directory, or a database of its own
/// on the test PostgreSQL server (`None`, after a loud message, when there is none).
pub fn test_ledger_on(backend: Backend, default_daily_cap: u64) -> Option<TestLedger> {
    let (store, dir) = match backend {
        Backend::Sled => {
            let dir = tempfile::tempdir().unwrap();
            let db = seedance_bot::store::open(dir.path()).unwrap();
            (seedance_bot::store::Store::from(db), Some(dir))
        }
        Backend::Postgres => (crate::support::postgres::store()?, None),
    };
    let clock = Arc::new(AtomicI64::new(START_MILLIS));
    let read = clock.clone();
    let ledger = Ledger::open(store, LedgerSettings { default_daily_cap })
        .unwrap()
        .with_clock(Arc::new(move || read.load(Ordering::SeqCst)));
    Some(TestLedger {
        ledger,
        clock,
        _dir: dir,
    })
}

/// Starts member `100 + i`'s reserve of `amount` in `guild` (key `interaction-<i>`) on a
/// task of its own.
pub fn spawn_reserve(
    ledger: &Ledger,
    guild: GuildId,
    i: u64,
    amount: u64,
) -> tokio::task::JoinHandle<Result<Hold, LedgerError>> {
    let ledger = ledger.clone();
    tokio::spawn(async move {
        let req = Reserve {
            key: format!("interaction-{i}"),
            guild,
            member: MemberId(100 + i),
            amount,
            memo: "video".into(),
        };
        ledger.reserve(req, None).await
    })
}

/// Awaits concurrent reserves of `amount` each: how many made a hold and how many were
/// refused for want of credits, every refusal seeing exactly `left` available.
pub async fn reserve_outcomes(
    tasks: Vec<tokio::task::JoinHandle<Result<Hold, LedgerError>>>,
    amount: u64,
    left: u64,
) -> (usize, usize) {
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(hold) => {
                assert_eq!(hold.amount, amount);
                ok += 1;
            }
            Err(LedgerError::InsufficientCredits { available, needed }) => {
                assert_eq!((available, needed), (left, amount));
                refused += 1;
            }
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    (ok, refused)
}

/// The ledger's own full check, plus an independent replay of each pool's journal and each
/// member's history read through the index against the whole journal filtered.
pub fn assert_consistent(ledger: &Ledger, pools: impl IntoIterator<Item = PoolId>) {
    let problems = ledger.verify().unwrap();
    assert!(problems.is_empty(), "ledger inconsistent: {problems:#?}");
    for pool in pools {
        let b = ledger.pool_balance(pool).unwrap();
        assert_eq!(b.granted, b.available + b.pending + b.settled, "{b:?}");
        let mut rows = ledger.pool_history(pool, None, usize::MAX).unwrap();
        rows.reverse();
        let (mut granted, mut pending, mut settled) = (0i64, 0i64, 0i64);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.seq, i as u64, "journal sequence of pool {pool}");
            match r.kind {
                EntryKind::Grant => granted += r.amount,
                EntryKind::Reserve => pending += r.amount,
                EntryKind::Settle => {
                    pending -= r.amount + r.released as i64;
                    settled += r.amount;
                }
                EntryKind::Void => pending -= r.amount,
                _ => {}
            }
            assert_eq!(
                granted - pending - settled,
                r.available_after as i64,
                "{r:?}"
            );
        }
        let replay = (granted as u64, pending as u64, settled as u64);
        assert_eq!(
            replay,
            (b.granted, b.pending, b.settled),
            "pool {pool} replay"
        );
        rows.reverse();
        let members: BTreeSet<_> = rows.iter().filter_map(|r| r.member).collect();
        for member in members {
            let mine: Vec<_> = rows.iter().filter(|r| r.member == Some(member)).collect();
            let indexed = ledger.pool_history(pool, Some(member), usize::MAX).unwrap();
            assert_eq!(
                indexed.iter().collect::<Vec<_>>(),
                mine,
                "pool {pool}, member {member}"
            );
        }
    }
}

/// Every job record in the jobs tree, as text.
pub fn jobs(ledger: &Ledger) -> BTreeMap<String, String> {
    ledger
        .jobs_tree()
        .iter()
        .map(|e| {
            let (k, v) = e.unwrap();
            (
                String::from_utf8(k.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect()
}
