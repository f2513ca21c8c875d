//! Group commit on PostgreSQL: concurrent transactions of one process share one database
//! transaction and one COMMIT.
//!
//! A caller of [`PgStore::transact`] queues its body and waits. When no batch is running,
//! it leads: it takes the callers queued so far (itself first, at most [`MAX_BATCH`]) and
//! runs their bodies one after another inside ONE PostgreSQL transaction, then commits
//! once. Callers that arrive meanwhile queue for the next batch, which the leader hands
//! to the first of them when it is done; a lone caller never waits for company (there is
//! no timer: a batch is whoever queued while the previous one ran).
//!
//! Inside the batch each body writes to an overlay of its own, read before the batch's
//! combined overlay, which is read before the rows the batch has read from the database:
//! - a body that returns `Ok` keeps its writes: they join the combined overlay, so a later
//!   body sees them (two admissions to one pool are serialized here, in memory, rather than
//!   on the pool row);
//! - a body that refuses (`Abort`) has its writes discarded; the others keep theirs;
//! - a row read once is not read again: it is locked (`FOR UPDATE`) until the COMMIT, so no
//!   other transaction can have changed it. A key read as absent is created with a plain
//!   `INSERT`, so if another process created it meanwhile the batch conflicts and runs again.
//!
//! Every caller is answered after the COMMIT that covers its body (its refusal too: the
//! refusal was decided on the batch's view, which only stands once committed). Failures:
//! - a conflict (serialization failure, deadlock, a unique violation) in any statement or
//!   at the COMMIT: the whole batch is rolled back and run again (bodies are pure and may
//!   run more than once);
//! - any other error in one body's read: that caller gets the error; the database has
//!   aborted the transaction, so the other bodies run again without it (on a fresh
//!   connection if that one was lost);
//! - any other error while writing the combined overlay (before the COMMIT, so nothing
//!   landed): the culprit is unknown, so each body runs again in a transaction of its own,
//!   and only a body whose own writes fail gets the error;
//! - an error at the COMMIT itself: the outcome is unknown (the connection may have dropped
//!   after the server committed), so every caller of the batch gets the error, as a lone
//!   caller would.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};

use postgres::Statement;
use sled::IVec;

use super::postgres::{Conn, PgStore, off_worker};
use super::{KvError, KvTx, StorageError, TxFail};

/// The most bodies one batch runs.
pub const MAX_BATCH: usize = 64;
/// How many times a batch runs before a run of conflicts is reported.
const MAX_CONFLICTS: usize = 200;

/// The callers waiting for a batch, and the store's counters.
#[derive(Default)]
pub(super) struct Batches {
    queue: Mutex<Queue>,
    commits: AtomicU64,
    bodies: AtomicU64,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Member>,
    /// A leader is running a batch (or has been chosen): newcomers wait.
    leading: bool,
}

/// How many batches and bodies a store has committed (for tests and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchCounts {
    /// COMMITs of batches.
    pub commits: u64,
    /// Bodies those COMMITs covered (a refused body counts: it was answered by one).
    pub bodies: u64,
    /// Callers queued now, waiting for a batch to take them.
    pub waiting: usize,
}

/// What a caller is told.
enum Signal {
    /// Lead the next batch (the caller is first in the queue).
    Lead,
    /// The batch that ran this caller's body is over: `Ok` means committed (the body's own
    /// result stands), `Err` the words of the error that is this caller's answer.
    Done(Result<(), String>),
}

/// One waiting caller: its body and where its answer goes.
struct Member {
    /// The caller's body, with its lifetime erased. SAFETY: the caller blocks in
    /// [`PgStore::transact`] until it receives on the other end of `reply`, which happens
    /// only once this member has been consumed by [`Member::answer`] or dropped; the
    /// reference is used only through this member (never copied out), so it is never used
    /// after the caller returns.
    run: &'static (dyn Fn(&dyn KvTx) -> bool + Sync),
    trees: Vec<&'static str>,
    reply: mpsc::Sender<Signal>,
}

impl Member {
    /// Runs the body over `kv`; true when it returned `Ok` (its writes are kept).
    fn run(&self, kv: &dyn KvTx) -> bool {
        (self.run)(kv)
    }

    fn answer(self, result: Result<(), String>) {
        // The caller blocks until answered, so the answer reaches it.
        let _ = self.reply.send(Signal::Done(result));
    }
}

impl Batches {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue stays consistent across a panic (changed under the lock only).
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PgStore {
    /// Runs `body` in one transaction over `trees`, batched with the transactions other
    /// threads of this process run at the same time (see the module's notes). Blocking.
    pub(super) fn transact<T: Send, E: Send>(
        &self,
        trees: &[&'static str],
        body: impl Fn(&dyn KvTx) -> Result<T, TxFail<E>> + Sync,
    ) -> Result<T, TxFail<E>> {
        off_worker(|| self.transact_here(trees, &body))
    }

    fn transact_here<T: Send, E: Send>(
        &self,
        trees: &[&'static str],
        body: &(impl Fn(&dyn KvTx) -> Result<T, TxFail<E>> + Sync),
    ) -> Result<T, TxFail<E>> {
        let slot: Mutex<Option<Result<T, TxFail<E>>>> = Mutex::new(None);
        let run = |kv: &dyn KvTx| {
            let out = body(kv);
            let kept = out.is_ok();
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
            kept
        };
        let run: &(dyn Fn(&dyn KvTx) -> bool + Sync + '_) = &run;
        // SAFETY: see `Member::run`. This function does not return before `answer` has
        // received, and the member holding the reference is gone by then. Should `lead`
        // unwind, the batch it took (this member first: a leader is always first in the
        // queue) has been dropped before this frame is left.
        let run: &'static (dyn Fn(&dyn KvTx) -> bool + Sync + 'static) =
            unsafe { std::mem::transmute(run) };
        let (reply, answer) = mpsc::channel();
        let member = Member {
            run,
            trees: trees.to_vec(),
            reply,
        };
        let batches = self.batches();
        let mut lead = {
            let mut queue = batches.lock();
            queue.waiting.push_back(member);
            !std::mem::replace(&mut queue.leading, true)
        };
        let done = loop {
            if lead {
                self.lead();
            }
            match answer.recv() {
                Ok(Signal::Lead) => lead = true,
                Ok(Signal::Done(done)) => break done,
                // The member was dropped unanswered: its leader's thread panicked.
                Err(_) => break Err("a database transaction panicked".to_owned()),
            }
        };
        match done {
            Ok(()) => slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .unwrap_or_else(|| {
                    Err(TxFail::Storage(StorageError::Postgres(
                        "a batched transaction ended without running its body".into(),
                    )))
                }),
            Err(words) => Err(TxFail::Storage(StorageError::Postgres(words))),
        }
    }

    /// How many batches and bodies this store has committed, and how many callers wait.
    pub fn batch_counts(&self) -> BatchCounts {
        let batches = self.batches();
        BatchCounts {
            commits: batches.commits.load(Ordering::Relaxed),
            bodies: batches.bodies.load(Ordering::Relaxed),
            waiting: batches.lock().waiting.len(),
        }
    }

    /// Takes a batch from the queue, runs it on a connection's thread, answers its
    /// members, and hands the lead to the first caller still queued (or gives it up).
    fn lead(&self) {
        let batches = self.batches();
        // Even if this thread panics below, the callers still queued get a leader.
        let _hand_off = HandOff(batches);
        let batch: Vec<Member> = {
            let mut queue = batches.lock();
            let n = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..n).collect()
        };
        let conn = self.checkout();
        let ran = std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let mut conn = match conn {
                        Some(conn) => conn,
                        None => match self.open_conn() {
                            Ok(conn) => conn,
                            Err(e) => return answer_all(batch, &Err(words(&e))),
                        },
                    };
                    self.run_batch(&mut conn, batch);
                    self.checkin(conn);
                })
                .join()
        });
        if ran.is_err() {
            // The connection went down with the thread, and the batch's members with it
            // (their callers learn it from their channels).
            self.release_slot();
        }
    }

    /// Runs `members` to an answer each: committed together, or each its error.
    fn run_batch(&self, conn: &mut Conn, mut members: Vec<Member>) {
        let mut conflicts = 0;
        let mut reconnected = false;
        while !members.is_empty() {
            if conn.client.is_closed() {
                match self.new_conn() {
                    Ok(fresh) => *conn = fresh,
                    Err(e) => return answer_all(members, &Err(words(&e))),
                }
            }
            match self.attempt(conn, &members) {
                Ran::Committed => {
                    let batches = self.batches();
                    batches.commits.fetch_add(1, Ordering::Relaxed);
                    batches
                        .bodies
                        .fetch_add(members.len() as u64, Ordering::Relaxed);
                    return answer_all(members, &Ok(()));
                }
                Ran::Conflict if conflicts < MAX_CONFLICTS => {
                    conflicts += 1;
                    // Let the winner finish before trying again.
                    std::thread::sleep(std::time::Duration::from_micros(
                        100 * conflicts.min(50) as u64,
                    ));
                }
                Ran::Conflict => {
                    let words = format!("gave up after {conflicts} conflicting transactions");
                    return answer_all(members, &Err(words));
                }
                Ran::NotBegun(words) if conn.client.is_closed() && !reconnected => {
                    // A pooled connection the server had closed: one more try on a new one.
                    tracing::debug!(error = %words, "a pooled PostgreSQL connection was closed");
                    reconnected = true;
                }
                Ran::NotBegun(words) | Ran::CommitFailed(words) => {
                    return answer_all(members, &Err(words));
                }
                Ran::BodyFailed(i, words) => members.remove(i).answer(Err(words)),
                Ran::WritesFailed(words) if members.len() == 1 => {
                    return answer_all(members, &Err(words));
                }
                Ran::WritesFailed(_) => {
                    for member in members {
                        self.run_batch(conn, vec![member]);
                    }
                    return;
                }
            }
        }
    }

    /// One run of the batch in one transaction.
    fn attempt(&self, conn: &mut Conn, members: &[Member]) -> Ran {
        let statements = Statements {
            get_locked: conn.get_locked.clone(),
            insert_new: conn.insert_many.clone(),
            upsert: conn.upsert_many.clone(),
            delete: conn.delete_many.clone(),
        };
        let tx = match conn.client.transaction() {
            Ok(tx) => tx,
            Err(e) => return Ran::NotBegun(self.failure(&e).1),
        };
        let batch = BatchTx {
            store: self,
            tx: RefCell::new(tx),
            statements,
            read: RefCell::new(BTreeMap::new()),
            writes: RefCell::new(BTreeMap::new()),
            failed: RefCell::new(None),
        };
        for (i, member) in members.iter().enumerate() {
            let view = BodyTx {
                batch: &batch,
                trees: &member.trees,
                writes: RefCell::new(BTreeMap::new()),
            };
            let kept = member.run(&view);
            // A failed statement aborts the whole transaction, whatever the body made of it.
            if let Some((conflict, words)) = batch.failed.take() {
                return if conflict {
                    Ran::Conflict
                } else {
                    Ran::BodyFailed(i, words)
                };
            }
            if kept {
                batch.writes.borrow_mut().extend(view.writes.into_inner());
            }
        }
        if let Err((conflict, words)) = batch.flush_writes() {
            return if conflict {
                Ran::Conflict
            } else {
                Ran::WritesFailed(words)
            };
        }
        match batch.tx.into_inner().commit() {
            Ok(()) => Ran::Committed,
            Err(e) => match self.failure(&e) {
                (true, _) => Ran::Conflict,
                (false, words) => Ran::CommitFailed(words),
            },
        }
    }

    /// Whether `e` means "run again", and its words.
    fn failure(&self, e: &postgres::Error) -> (bool, String) {
        match self.kv_error(e) {
            KvError::Conflict => (true, format!("conflict: {}", self.words(e))),
            KvError::Storage(e) => (false, words(&e)),
        }
    }
}

/// The words of a storage error, as the caller's `StorageError::Postgres` will carry them.
fn words(e: &StorageError) -> String {
    match e {
        StorageError::Postgres(words) => words.clone(),
        other => other.to_string(),
    }
}

/// Passes the lead on when dropped: to the first caller still queued, or to nobody.
struct HandOff<'a>(&'a Batches);

impl Drop for HandOff<'_> {
    fn drop(&mut self) {
        let mut queue = self.0.lock();
        match queue.waiting.front() {
            // A queued caller is waiting on its channel, so the signal reaches it.
            Some(next) => drop(next.reply.send(Signal::Lead)),
            None => queue.leading = false,
        }
    }
}

fn answer_all(members: Vec<Member>, result: &Result<(), String>) {
    for member in members {
        member.answer(result.clone());
    }
}

/// How one run of a batch ended.
enum Ran {
    Committed,
    Conflict,
    /// The transaction could not be started.
    NotBegun(String),
    /// Body `.0`'s read failed (not a conflict).
    BodyFailed(usize, String),
    /// Writing the combined overlay failed (not a conflict); nothing was committed.
    WritesFailed(String),
    /// The COMMIT failed: the outcome is unknown.
    CommitFailed(String),
}

struct Statements {
    get_locked: Statement,
    insert_new: Statement,
    upsert: Statement,
    delete: Statement,
}

/// A stored key: the tree's name and the key.
type Key = (&'static str, Vec<u8>);
/// Pending writes: the new value, `None` removed.
type Writes = BTreeMap<Key, Option<Vec<u8>>>;

/// The batch's transaction: the rows read so far (locked until the COMMIT; `None`: read as
/// absent) and the writes of the bodies that returned `Ok`.
struct BatchTx<'a> {
    store: &'a PgStore,
    tx: RefCell<postgres::Transaction<'a>>,
    statements: Statements,
    read: RefCell<BTreeMap<Key, Option<Vec<u8>>>>,
    writes: RefCell<Writes>,
    /// The first failed statement of the running body: (a conflict?, its words).
    failed: RefCell<Option<(bool, String)>>,
}

/// One body's view of the batch: its own writes over the batch's.
struct BodyTx<'a, 'b> {
    batch: &'b BatchTx<'a>,
    trees: &'b [&'static str],
    writes: RefCell<Writes>,
}

impl BatchTx<'_> {
    /// The value of `key`: the batch's writes, then the rows read, then the database
    /// (locking the row).
    fn get(&self, key: Key) -> Result<Option<IVec>, KvError> {
        if let Some(written) = self.writes.borrow().get(&key) {
            return Ok(written.as_deref().map(IVec::from));
        }
        if let Some(read) = self.read.borrow().get(&key) {
            return Ok(read.as_deref().map(IVec::from));
        }
        let row = self
            .tx
            .borrow_mut()
            .query_opt(&self.statements.get_locked, &[&key.0, &key.1]);
        match row {
            Ok(row) => {
                let value = row.map(|r| r.get::<_, Vec<u8>>(0));
                let out = value.as_deref().map(IVec::from);
                self.read.borrow_mut().insert(key, value);
                Ok(out)
            }
            Err(e) => {
                let (conflict, words) = self.store.failure(&e);
                let error = if conflict {
                    KvError::Conflict
                } else {
                    KvError::Storage(StorageError::Postgres(words.clone()))
                };
                self.failed.borrow_mut().get_or_insert((conflict, words));
                Err(error)
            }
        }
    }

    /// Sends the combined writes: keys read as absent with a plain insert (a concurrent
    /// creator makes the batch conflict), the others as upserts, then the removals.
    fn flush_writes(&self) -> Result<(), (bool, String)> {
        let writes = self.writes.borrow();
        let read = self.read.borrow();
        let (mut new, mut upsert, mut delete) = (Rows::default(), Rows::default(), Rows::default());
        for (key, value) in writes.iter() {
            match value {
                Some(value) if matches!(read.get(key), Some(None)) => new.push(key, Some(value)),
                Some(value) => upsert.push(key, Some(value)),
                None => delete.push(key, None),
            }
        }
        let mut tx = self.tx.borrow_mut();
        for (statement, rows) in [
            (&self.statements.insert_new, &new),
            (&self.statements.upsert, &upsert),
            (&self.statements.delete, &delete),
        ] {
            if rows.trees.is_empty() {
                continue;
            }
            let result = if rows.values.is_empty() {
                tx.execute(statement, &[&rows.trees, &rows.keys])
            } else {
                tx.execute(statement, &[&rows.trees, &rows.keys, &rows.values])
            };
            result.map_err(|e| self.store.failure(&e))?;
        }
        Ok(())
    }
}

impl KvTx for BodyTx<'_, '_> {
    fn get(&self, tree: usize, key: &[u8]) -> Result<Option<IVec>, KvError> {
        let key = (self.trees[tree], key.to_vec());
        if let Some(written) = self.writes.borrow().get(&key) {
            return Ok(written.as_deref().map(IVec::from));
        }
        self.batch.get(key)
    }

    fn insert(&self, tree: usize, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        self.writes
            .borrow_mut()
            .insert((self.trees[tree], key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: usize, key: &[u8]) -> Result<(), KvError> {
        self.writes
            .borrow_mut()
            .insert((self.trees[tree], key.to_vec()), None);
        Ok(())
    }
}

/// Rows of one kind of write, as the arrays a statement takes.
#[derive(Default)]
struct Rows<'a> {
    trees: Vec<&'a str>,
    keys: Vec<&'a [u8]>,
    values: Vec<&'a [u8]>,
}

impl<'a> Rows<'a> {
    fn push(&mut self, key: &'a Key, value: Option<&'a Vec<u8>>) {
        self.trees.push(key.0);
        self.keys.push(&key.1);
        if let Some(value) = value {
            self.values.push(value);
        }
    }
}
