//! Group commit on PostgreSQL: concurrent transactions of one process share one database
//! transaction and one COMMIT.
//!
//! The queue (who leads, who waits, at most [`super::MAX_BATCH`] bodies) is `batch.rs`'s;
//! here a batch's bodies run one after another inside ONE PostgreSQL transaction, then
//! commit once.
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
use std::collections::BTreeMap;

use postgres::Statement;
use sled::IVec;

use super::batch::{self, Failure};
use super::postgres::{Conn, PgStore, off_worker};
use super::{KvError, KvTx, StorageError, TxFail};

/// How many times a batch runs before a run of conflicts is reported.
const MAX_CONFLICTS: usize = 200;

/// The callers waiting for a batch on PostgreSQL; a member names its trees.
pub(super) type Batches = batch::Batches<&'static str>;
type Member = batch::Member<&'static str>;

impl PgStore {
    /// Runs `body` in one transaction over `trees`, batched with the transactions other
    /// threads of this process run at the same time (see the module's notes). Blocking.
    pub(super) fn transact<T: Send, E: Send>(
        &self,
        trees: &[&'static str],
        body: impl Fn(&dyn KvTx) -> Result<T, TxFail<E>> + Sync,
    ) -> Result<T, TxFail<E>> {
        off_worker(|| {
            self.batches()
                .transact(trees.to_vec(), &body, |batch| self.lead(batch))
        })
    }

    /// How many batches and bodies this store has committed, and how many callers wait.
    pub fn batch_counts(&self) -> batch::BatchCounts {
        self.batches().counts()
    }

    /// Runs a batch on a connection's thread (the blocking client must not run on an async
    /// runtime's thread) and answers its members.
    fn lead(&self, batch: Vec<Member>) {
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
                    self.batches().committed(members.len());
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
                Ran::BodyFailed(i, words) => {
                    members.remove(i).answer(Err(Failure::Postgres(words)))
                }
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

/// Answers every member with the same outcome (words: a PostgreSQL error's).
fn answer_all(members: Vec<Member>, result: &Result<(), String>) {
    let result = result.clone().map_err(Failure::Postgres);
    batch::answer_all(members, &result);
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
