//! Group transactions on sled: a batch's bodies (the queue is `batch.rs`'s) run one after
//! another inside ONE sled transaction over every tree any of them names.
//!
//! sled 0.34.7 runs a transaction under a process-wide exclusive lock, from its first read
//! to its commit, so concurrent transactions never overlap anyway: one at a time, each
//! waking the next thread. A batch takes that lock once for all its bodies, on the
//! leader's thread, and a key several bodies write (a pool's record, a counter) reaches the
//! log once per batch instead of once per body.
//!
//! Each body writes to an overlay of its own, read before the sled transaction's view
//! (which holds the writes of the earlier bodies that returned `Ok`): a body that returns
//! `Ok` has its overlay written into the transaction; a refusal's is discarded. Failures:
//! - a conflict reported by sled: the whole transaction runs again (bodies are pure);
//! - a storage error in one body's read or write: that caller gets it; the transaction is
//!   abandoned (nothing landed) and the others run again without it;
//! - an error at the commit: the outcome is unknown, so every caller of the batch gets it;
//! - a panic in a body: every caller of the batch is told its transaction panicked (the
//!   leader's thread carries on).

use std::cell::RefCell;
use std::collections::BTreeMap;

use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::{IVec, Transactional};

use super::batch::{self, Failure};
use super::{KvError, KvTx, StorageError, TxFail};

/// The callers waiting for a batch on sled; a member carries its trees.
pub(super) type Batches = batch::Batches<sled::Tree>;
type Member = batch::Member<sled::Tree>;

/// Runs `body` in one transaction over `trees`, batched with the transactions other
/// threads of this process run at the same time through `batches`. Blocking.
pub(super) fn transact<T: Send, E: Send>(
    batches: &Batches,
    trees: Vec<sled::Tree>,
    body: impl Fn(&dyn KvTx) -> Result<T, TxFail<E>> + Sync,
) -> Result<T, TxFail<E>> {
    batches.transact(trees, &body, |members| {
        // A panicking body drops the members (their callers are told); the leader's own
        // caller learns it the same way, from its dropped member.
        let _ =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_batch(batches, members)));
    })
}

/// How one run of the batch's transaction ended, short of committing.
enum Stop {
    /// Body `.0` failed to read or write: it gets `.1`, the others run again.
    Body(usize, sled::Error),
}

/// Runs `members` to an answer each: committed together, or each its error.
fn run_batch(batches: &Batches, mut members: Vec<Member>) {
    while !members.is_empty() {
        let (trees, maps) = union_of_trees(&members);
        let result = trees.as_slice().transaction(|views| {
            for (i, member) in members.iter().enumerate() {
                let body = BodyTx {
                    views,
                    map: &maps[i],
                    writes: RefCell::new(vec![BTreeMap::new(); views.len()]),
                    failed: RefCell::new(None),
                };
                let kept = member.run(&body);
                let writes = body.writes.into_inner();
                let failed = body.failed.into_inner();
                let applied = match failed {
                    None if kept => apply(views, writes),
                    None => Ok(()),
                    Some(e) => Err(e),
                };
                match applied {
                    Ok(()) => {}
                    Err(UnabortableTransactionError::Conflict) => {
                        return Err(ConflictableTransactionError::Conflict);
                    }
                    Err(UnabortableTransactionError::Storage(e)) => {
                        return Err(ConflictableTransactionError::Abort(Stop::Body(i, e)));
                    }
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                batches.committed(members.len());
                return batch::answer_all(members, &Ok(()));
            }
            Err(TransactionError::Abort(Stop::Body(i, e))) => {
                members.remove(i).answer(Err(Failure::Sled(e)));
            }
            Err(TransactionError::Storage(e)) => {
                return batch::answer_all(members, &Err(Failure::Sled(e)));
            }
        }
    }
}

/// Every tree the members name, once each, and per member where its trees are in that list.
fn union_of_trees(members: &[Member]) -> (Vec<&sled::Tree>, Vec<Vec<usize>>) {
    let mut trees: Vec<&sled::Tree> = Vec::new();
    let maps = members
        .iter()
        .map(|member| {
            member
                .trees
                .iter()
                .map(|tree| {
                    let same = |t: &&sled::Tree| std::ptr::eq(&***t, &**tree);
                    trees.iter().position(same).unwrap_or_else(|| {
                        trees.push(tree);
                        trees.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    (trees, maps)
}

/// A body's pending writes to one tree: the new value, `None` removed.
type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Writes a kept body's overlay (one map per tree of the batch) into the transaction.
fn apply(
    views: &[TransactionalTree],
    writes: Vec<Writes>,
) -> Result<(), UnabortableTransactionError> {
    for (view, writes) in views.iter().zip(writes) {
        for (key, value) in writes {
            let done = match value {
                Some(value) => view.insert(key, value).map(drop),
                None => view.remove(key).map(drop),
            };
            done?;
        }
    }
    Ok(())
}

fn kv_error(e: UnabortableTransactionError) -> KvError {
    match e {
        UnabortableTransactionError::Conflict => KvError::Conflict,
        UnabortableTransactionError::Storage(e) => KvError::Storage(StorageError::Sled(e)),
    }
}

/// One body's view of the batch: its own writes over the transaction's.
struct BodyTx<'a> {
    views: &'a [TransactionalTree],
    /// The body's tree `i` is `views[map[i]]`.
    map: &'a [usize],
    /// The body's writes, one map per tree of the batch.
    writes: RefCell<Vec<Writes>>,
    /// The first failed read of the body, whatever the body made of it.
    failed: RefCell<Option<UnabortableTransactionError>>,
}

impl KvTx for BodyTx<'_> {
    fn get(&self, tree: usize, key: &[u8]) -> Result<Option<IVec>, KvError> {
        let tree = self.map[tree];
        if let Some(written) = self.writes.borrow()[tree].get(key) {
            return Ok(written.as_deref().map(IVec::from));
        }
        self.views[tree].get(key).map_err(|e| {
            self.failed.borrow_mut().get_or_insert(e.clone());
            kv_error(e)
        })
    }

    fn insert(&self, tree: usize, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        self.writes.borrow_mut()[self.map[tree]].insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: usize, key: &[u8]) -> Result<(), KvError> {
        self.writes.borrow_mut()[self.map[tree]].insert(key.to_vec(), None);
        Ok(())
    }
}
