//! Group commit on PostgreSQL, what only PostgreSQL can show: a statement that fails in a
//! batch, and a conflict with another session (the rules both backends share are tested in
//! `batch.rs`).
//!
//! Every test makes its batch deterministic instead of hoping for one: another connection
//! locks a row, a first transaction runs into that lock (it leads a batch of one and cannot
//! commit), the transactions under test queue behind it in a known order, and the lock is
//! released. The next batch is then exactly those transactions. Which transaction wrote a
//! row is read from PostgreSQL itself (its `xmin`), so the tests would see separate commits.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use seedance_bot::store::postgres::PgStore;
use seedance_bot::store::{StorageError, Store, TxFail};

const GATE_TREE: &str = "test.gate";
const TREE: &str = "test.batch";

/// A fresh database, the store on it and its URL (`None` when PostgreSQL is not there).
fn database() -> Option<(PgStore, SecretString)> {
    let url = crate::support::postgres::database_url()?;
    let pg = PgStore::connect(&url).expect("connect");
    Some((pg, url))
}

/// Runs `work` with a client of its own on a plain thread (the blocking client must not run
/// on an async runtime's thread).
fn with_client<T: Send + 'static>(
    url: &SecretString,
    work: impl FnOnce(&mut postgres::Client) -> T + Send + 'static,
) -> T {
    let url = url.expose_secret().to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        work(&mut client)
    })
    .join()
    .expect("client thread")
}

/// Another session holding every row of one tree locked until [`Gate::open`].
struct Gate {
    release: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Gate {
    /// Locks every row of `tree` (at least one must exist).
    fn close(url: &SecretString, tree: &'static str) -> Gate {
        Gate::close_rows(url, tree, None)
    }

    /// Locks the row `key` of `tree`, or every row of it (at least one must exist).
    fn close_rows(url: &SecretString, tree: &'static str, key: Option<&'static [u8]>) -> Gate {
        let url = url.expose_secret().to_owned();
        let (locked, is_locked) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let mut tx = client.transaction().unwrap();
            let rows = tx
                .execute(
                    "SELECT 1 FROM seedance_kv
                     WHERE tree = $1 AND ($2::bytea IS NULL OR key = $2) FOR UPDATE",
                    &[&tree, &key],
                )
                .unwrap();
            assert!(rows > 0, "nothing to lock in {tree}");
            locked.send(()).unwrap();
            let _ = released.recv();
            tx.commit().unwrap();
        });
        is_locked.recv().expect("the gate locked its rows");
        Gate { release, thread }
    }

    fn open(self) {
        self.release.send(()).unwrap();
        self.thread.join().expect("gate thread");
    }
}

/// Waits until some session of this database waits for a row lock (the gate's).
async fn someone_waits_at_the_gate(url: &SecretString) {
    loop {
        let waiting: i64 = with_client(url, |c| {
            c.query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .unwrap()
            .get(0)
        });
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `n` transactions are queued for the next batch.
async fn queued(pg: &PgStore, n: usize) {
    while pg.batch_counts().waiting < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(pg.batch_counts().waiting, n);
}

/// How many transactions wrote the rows of `tree` (distinct `xmin`s).
pub(super) fn writers_of(url: &SecretString, tree: &'static str) -> i64 {
    with_client(url, move |c| {
        c.query_one(
            "SELECT count(DISTINCT xmin::text) FROM seedance_kv WHERE tree = $1",
            &[&tree],
        )
        .unwrap()
        .get(0)
    })
}

/// Holds a transaction of this store at the gate: it reads (locks) the gate's row.
async fn stuck_at_the_gate(
    pg: &PgStore,
    url: &SecretString,
) -> tokio::task::JoinHandle<Result<(), TxFail<()>>> {
    let store = Store::Postgres(pg.clone());
    let stuck = tokio::task::spawn_blocking(move || {
        store.transact(&[GATE_TREE], |kv| {
            kv.get(0, b"gate")?;
            Ok(())
        })
    });
    someone_waits_at_the_gate(url).await;
    stuck
}

fn put_gate_row(pg: &PgStore) {
    let store = Store::Postgres(pg.clone());
    store
        .tree(GATE_TREE)
        .unwrap()
        .insert(b"gate", b"closed")
        .unwrap();
}

/// A fresh database whose store has a transaction held at the gate: the transactions a
/// test starts next queue for one batch, which runs once the gate opens.
struct Held {
    pg: PgStore,
    url: SecretString,
    store: Store,
    gate: Gate,
    stuck: tokio::task::JoinHandle<Result<(), TxFail<()>>>,
}

async fn held_at_the_gate() -> Option<Held> {
    let (pg, url) = database()?;
    put_gate_row(&pg);
    let store = Store::Postgres(pg.clone());
    let gate = Gate::close(&url, GATE_TREE);
    let stuck = stuck_at_the_gate(&pg, &url).await;
    Some(Held {
        pg,
        url,
        store,
        gate,
        stuck,
    })
}

/// A transaction of `store` writing `key` in the test tree.
fn writer(
    store: &Store,
    key: Vec<u8>,
    value: &'static [u8],
) -> tokio::task::JoinHandle<Result<(), TxFail<()>>> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        store.transact(&[TREE], |kv| {
            kv.insert(0, &key, value)?;
            Ok(())
        })
    })
}

/// A body whose read fails (a tree name PostgreSQL refuses) gets that error; the others of
/// its batch still commit, together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_that_fails_in_a_batch_fails_only_its_caller() {
    let Some(Held {
        pg,
        url,
        store,
        gate,
        stuck,
    }) = held_at_the_gate().await
    else {
        return;
    };

    let writer = |n: u8| writer(&store, vec![n], b"kept");
    let mut writers = vec![writer(1)];
    queued(&pg, 1).await;
    let bad = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            store.transact(&["test.\0bad"], |kv| -> Result<(), TxFail<()>> {
                kv.get(0, b"k")?;
                Ok(())
            })
        })
    };
    queued(&pg, 2).await;
    writers.push(writer(2));
    queued(&pg, 3).await;
    gate.open();

    stuck.await.unwrap().unwrap();
    match bad.await.unwrap() {
        Err(TxFail::Storage(StorageError::Postgres(words))) => {
            assert!(words.contains("0x00"), "{words}")
        }
        other => panic!("the failing read's caller was told {other:?}"),
    }
    for writer in writers {
        writer
            .await
            .unwrap()
            .expect("a writer batched with a failing read");
    }
    let tree = store.tree(TREE).unwrap();
    assert_eq!(tree.get([1]).unwrap().as_deref(), Some(&b"kept"[..]));
    assert_eq!(tree.get([2]).unwrap().as_deref(), Some(&b"kept"[..]));
    assert_eq!(writers_of(&url, TREE), 1, "the others committed together");
}

/// A body whose write fails at the database (a key too long for the index) gets that
/// error; the others of its batch, run again on their own, commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_that_fails_in_a_batch_fails_only_its_caller() {
    let Some(Held {
        pg,
        store,
        gate,
        stuck,
        ..
    }) = held_at_the_gate().await
    else {
        return;
    };

    let writer = |key: Vec<u8>| writer(&store, key, b"value");
    let good_1 = writer(vec![1]);
    queued(&pg, 1).await;
    // Incompressible, far beyond what one btree entry may hold (~2.7 KB).
    let mut huge = vec![0u8; 20_000];
    rand::Rng::fill(&mut rand::thread_rng(), &mut huge[..]);
    let bad = writer(huge.clone());
    queued(&pg, 2).await;
    let good_2 = writer(vec![2]);
    queued(&pg, 3).await;
    gate.open();

    stuck.await.unwrap().unwrap();
    match bad.await.unwrap() {
        Err(TxFail::Storage(StorageError::Postgres(words))) => {
            assert!(words.contains("index row"), "{words}")
        }
        other => panic!("the failing write's caller was told {other:?}"),
    }
    good_1
        .await
        .unwrap()
        .expect("a writer batched with a failing write");
    good_2
        .await
        .unwrap()
        .expect("a writer batched with a failing write");
    let tree = store.tree(TREE).unwrap();
    assert!(tree.get([1]).unwrap().is_some());
    assert!(tree.get([2]).unwrap().is_some());
    assert_eq!(tree.get(&huge).unwrap(), None);
}

/// A conflict runs the whole batch again: A reads a key as absent, another session creates
/// it before A's batch commits, so A's plain insert of it conflicts. The batch (A and B)
/// runs again: A now sees the other session's value, B's write is made once, and the two
/// commit together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conflict_runs_the_whole_batch_again() {
    let Some((pg, url)) = database() else {
        return;
    };
    put_gate_row(&pg);
    let store = Store::Postgres(pg.clone());
    store
        .tree(GATE_TREE)
        .unwrap()
        .insert(b"second", b"closed")
        .unwrap();
    let second = Gate::close_rows(&url, GATE_TREE, Some(b"second"));
    let first = Gate::close_rows(&url, GATE_TREE, Some(b"gate"));
    let stuck = stuck_at_the_gate(&pg, &url).await;
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));

    let a = {
        let (store, runs) = (store.clone(), runs.clone());
        tokio::task::spawn_blocking(move || {
            store.transact(&[TREE, GATE_TREE], |kv| -> Result<_, TxFail<()>> {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let found = kv.get(0, b"k")?;
                kv.get(1, b"second")?;
                match &found {
                    None => kv.insert(0, b"k", b"from A")?,
                    Some(_) => kv.insert(0, b"a saw it", b"yes")?,
                }
                Ok(found)
            })
        })
    };
    queued(&pg, 1).await;
    let b = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            store.transact(&[TREE], |kv| -> Result<(), TxFail<()>> {
                let n = kv.get(0, b"b")?.map_or(0, |v| v[0]);
                kv.insert(0, b"b", &[n + 1])?;
                Ok(())
            })
        })
    };
    queued(&pg, 2).await;
    first.open();
    stuck.await.unwrap().unwrap();
    // A has read "k" as absent and waits at the second gate.
    someone_waits_at_the_gate(&url).await;
    with_client(&url, |c| {
        c.execute(
            "INSERT INTO seedance_kv (tree, key, value) VALUES ($1, 'k'::bytea, 'from outside'::bytea)",
            &[&TREE],
        )
        .unwrap();
    });
    second.open();

    let found = a.await.unwrap().unwrap();
    assert_eq!(found.as_deref(), Some(&b"from outside"[..]));
    b.await.unwrap().unwrap();
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    let tree = store.tree(TREE).unwrap();
    assert_eq!(
        tree.get(b"k").unwrap().as_deref(),
        Some(&b"from outside"[..])
    );
    assert_eq!(tree.get(b"a saw it").unwrap().as_deref(), Some(&b"yes"[..]));
    assert_eq!(tree.get(b"b").unwrap().as_deref(), Some(&[1u8][..]));
    // The other session's row, and A's and B's from one transaction.
    assert_eq!(writers_of(&url, TREE), 2);
}
