//! Group transactions on both backends: transactions that wait together run in one
//! database transaction with one commit, each body over its own writes and the batch's.
//!
//! Every test makes its batch deterministic instead of hoping for one: a first transaction
//! leads a batch of its own and its body waits at a gate, the transactions under test
//! queue behind it in a known order (the store counts who waits), and the gate opens. The
//! next batch is then exactly those transactions; the store's batch counts say how many
//! commits covered them, and on PostgreSQL the database itself says which transaction
//! wrote a row (`xmin`). What only PostgreSQL can do (a failing statement, a conflict with
//! another session) is in `pg_batch.rs`.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use seedance_bot::credits::{Actor, Ledger, LedgerSettings, PoolId};
use seedance_bot::ids::GuildId;
use seedance_bot::store::postgres::PgStore;
use seedance_bot::store::{Store, TxFail};

use super::pg_batch::writers_of;
use super::{Backend, assert_consistent, reserve_outcomes, spawn_reserve};

const GATE_TREE: &str = "test.gate";
const TREE: &str = "test.batch";

/// A fresh store of one backend.
struct Fresh {
    store: Store,
    /// PostgreSQL: the database's URL, to ask it who wrote what.
    url: Option<SecretString>,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh store of `backend` (`None` when PostgreSQL is not there).
fn fresh(backend: Backend) -> Option<Fresh> {
    Some(match backend {
        Backend::Sled => {
            let dir = tempfile::tempdir().unwrap();
            let db = seedance_bot::store::open(dir.path()).unwrap();
            Fresh {
                store: Store::from(db),
                url: None,
                _dir: Some(dir),
            }
        }
        Backend::Postgres => {
            let url = crate::support::postgres::database_url()?;
            let pg = PgStore::connect(&url).expect("connect");
            Fresh {
                store: Store::Postgres(pg),
                url: Some(url),
                _dir: None,
            }
        }
    })
}

impl Fresh {
    /// On PostgreSQL, checks that exactly `n` database transactions wrote the rows of
    /// `tree` (sled cannot tell; its batch counts are checked by every test).
    fn written_by(&self, tree: &'static str, n: i64) {
        if let Some(url) = &self.url {
            assert_eq!(writers_of(url, tree), n, "transactions that wrote {tree}");
        }
    }
}

/// Where the first transaction's body waits until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Default)]
struct GateState {
    reached: bool,
    open: bool,
}

impl Gate {
    /// In the body: says it is there, then waits until the gate opens.
    fn pass(&self) {
        let (state, changed) = &*self.0;
        let mut state = state.lock().unwrap();
        state.reached = true;
        changed.notify_all();
        while !state.open {
            state = changed.wait(state).unwrap();
        }
    }

    /// Waits until a body is at the gate.
    fn reached(&self) {
        let (state, changed) = &*self.0;
        let mut state = state.lock().unwrap();
        while !state.reached {
            state = changed.wait(state).unwrap();
        }
    }

    fn open(&self) {
        let (state, changed) = &*self.0;
        state.lock().unwrap().open = true;
        changed.notify_all();
    }
}

/// A transaction of `store` that leads a batch of its own and waits at `gate` inside it.
async fn stuck_at(store: &Store, gate: &Gate) -> tokio::task::JoinHandle<Result<(), TxFail<()>>> {
    let (store, inside) = (store.clone(), gate.clone());
    let stuck = tokio::task::spawn_blocking(move || {
        store.transact(&[GATE_TREE], |kv| {
            kv.insert(0, b"gate", b"passed")?;
            inside.pass();
            Ok(())
        })
    });
    let gate = gate.clone();
    tokio::task::spawn_blocking(move || gate.reached())
        .await
        .unwrap();
    stuck
}

/// Waits until `n` transactions are queued for the next batch.
async fn queued(store: &Store, n: usize) {
    while store.batch_counts().waiting < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(store.batch_counts().waiting, n);
}

/// A transaction of `store` writing `key` in the test tree.
fn writer(store: &Store, key: u8) -> tokio::task::JoinHandle<Result<(), TxFail<()>>> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        store.transact(&[TREE], |kv| {
            kv.insert(0, &[key], b"value")?;
            Ok(())
        })
    })
}

/// 21 admissions against a pool that affords 5 queue behind a transaction held at the gate
/// and then run as one batch, where the first 5 fit and 16 are refused for want of
/// credits: exactly 5 holds, and one commit for the 21.
async fn admissions_queued_together_commit_once_and_exactly_the_affordable_ones_land(
    backend: Backend,
) {
    let Some(fresh) = fresh(backend) else {
        return;
    };
    let store = &fresh.store;
    let ledger = Ledger::open(store, LedgerSettings::default()).unwrap();
    let guild = GuildId(7);
    ledger.grant(guild, 50, Actor::Cli, "top-up").await.unwrap();
    let before = store.batch_counts();
    let gate = Gate::default();
    let stuck = stuck_at(store, &gate).await;
    let rest: Vec<_> = (0..21)
        .map(|i| spawn_reserve(&ledger, guild, i, 10))
        .collect();
    queued(store, 21).await;
    gate.open();

    stuck.await.unwrap().unwrap();
    let (ok, refused) = reserve_outcomes(rest, 10, 0).await;
    assert_eq!((ok, refused), (5, 16));
    let after = store.batch_counts();
    // The gate's batch of one, then the 21 together.
    assert_eq!(after.commits - before.commits, 2, "{before:?} -> {after:?}");
    assert_eq!(after.bodies - before.bodies, 22, "{before:?} -> {after:?}");
    fresh.written_by("credits.holds", 1);
    let b = ledger.balance(guild).unwrap();
    assert_eq!(
        (b.available, b.pending, b.settled, b.granted),
        (0, 50, 0, 50)
    );
    assert_eq!(ledger.pending_holds().unwrap().len(), 5);
    let journal = ledger.pool_history(PoolId(7), None, usize::MAX).unwrap();
    assert_eq!(
        journal.len(),
        6,
        "one grant and five reserves: {journal:#?}"
    );
    assert_consistent(&ledger, [PoolId(7)]);
}

/// In one batch, in a known order: A writes, B writes and then refuses, C reads both. C
/// sees A's write and not B's; once committed A's and C's writes are there, B's are not.
async fn a_body_sees_earlier_bodies_writes_and_a_refused_body_leaves_nothing(backend: Backend) {
    let Some(fresh) = fresh(backend) else {
        return;
    };
    let store = &fresh.store;
    let gate = Gate::default();
    let stuck = stuck_at(store, &gate).await;
    let before = store.batch_counts();
    let a = writer(store, b'a');
    queued(store, 1).await;
    let b = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            store.transact(&[TREE], |kv| -> Result<(), TxFail<&str>> {
                kv.insert(0, b"b", b"value")?;
                kv.remove(0, b"a")?;
                Err(TxFail::Abort("B refuses"))
            })
        })
    };
    queued(store, 2).await;
    let c = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            store.transact(&[TREE], |kv| -> Result<_, TxFail<()>> {
                let seen = (kv.get(0, b"a")?, kv.get(0, b"b")?);
                kv.insert(0, b"c", b"value")?;
                Ok(seen)
            })
        })
    };
    queued(store, 3).await;
    gate.open();

    stuck.await.unwrap().unwrap();
    a.await.unwrap().unwrap();
    assert!(matches!(b.await.unwrap(), Err(TxFail::Abort("B refuses"))));
    let (seen_a, seen_b) = c.await.unwrap().unwrap();
    assert_eq!(seen_a.as_deref(), Some(&b"value"[..]));
    assert_eq!(seen_b, None, "C saw the write of a body that refused");
    let tree = store.tree(TREE).unwrap();
    assert!(tree.get(b"a").unwrap().is_some(), "A's write was lost");
    assert_eq!(tree.get(b"b").unwrap(), None);
    assert!(tree.get(b"c").unwrap().is_some(), "C's write was lost");
    let after = store.batch_counts();
    assert_eq!(after.commits - before.commits, 2, "{before:?} -> {after:?}");
    fresh.written_by(TREE, 1);
}

/// 70 transactions queued together: the next batch takes 64 of them, the one after the
/// other 6 (a batch is bounded).
async fn a_batch_takes_at_most_sixty_four(backend: Backend) {
    assert_eq!(seedance_bot::store::MAX_BATCH, 64);
    let Some(fresh) = fresh(backend) else {
        return;
    };
    let store = &fresh.store;
    let gate = Gate::default();
    let before = store.batch_counts();
    let stuck = stuck_at(store, &gate).await;
    let writers: Vec<_> = (0..70u8).map(|n| writer(store, n)).collect();
    queued(store, 70).await;
    gate.open();
    stuck.await.unwrap().unwrap();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let after = store.batch_counts();
    assert_eq!(after.commits - before.commits, 3, "{before:?} -> {after:?}");
    assert_eq!(after.bodies - before.bodies, 71, "{before:?} -> {after:?}");
    fresh.written_by(TREE, 2);
    assert_eq!(store.tree(TREE).unwrap().iter().count(), 70);
}

/// A body that panics takes its batch down with it: every caller of that batch is told
/// (nothing of the batch is written), and the store goes on committing afterwards.
async fn a_panicking_body_fails_its_batch_and_the_store_goes_on(backend: Backend) {
    let Some(fresh) = fresh(backend) else {
        return;
    };
    let store = &fresh.store;
    let gate = Gate::default();
    let stuck = stuck_at(store, &gate).await;
    let before = writer(store, 1);
    queued(store, 1).await;
    let panics = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            store.transact(&[TREE], |kv| -> Result<(), TxFail<()>> {
                kv.insert(0, &[2], b"value")?;
                panic!("a body that panics");
            })
        })
    };
    queued(store, 2).await;
    gate.open();
    stuck.await.unwrap().unwrap();
    for caller in [before, panics] {
        match caller.await.unwrap() {
            Err(TxFail::Storage(e)) => assert!(e.to_string().contains("panicked"), "{e}"),
            other => panic!("a caller of the panicked batch was told {other:?}"),
        }
    }
    let tree = store.tree(TREE).unwrap();
    assert_eq!(tree.iter().count(), 0, "the panicked batch wrote something");
    writer(store, 3)
        .await
        .unwrap()
        .expect("a transaction after the panic");
    assert!(tree.get([3]).unwrap().is_some());
}

on_both_backends!(
    admissions_queued_together_commit_once_and_exactly_the_affordable_ones_land,
    a_body_sees_earlier_bodies_writes_and_a_refused_body_leaves_nothing,
    a_batch_takes_at_most_sixty_four,
    a_panicking_body_fails_its_batch_and_the_store_goes_on,
);
