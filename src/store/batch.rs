//! Group transactions: the transaction bodies that threads of one process start at the
//! same time run together, one after another, in ONE database transaction with one commit.
//! This module is the queue both backends share; `sled_batch.rs` and `pg_batch.rs` run a
//! batch on theirs.
//!
//! A caller queues its body and waits. When no batch is running, it leads: it takes the
//! callers queued so far (itself first, at most [`MAX_BATCH`]) and hands them to its
//! backend, which runs their bodies and answers each one. Callers that arrive meanwhile
//! queue for the next batch, which the leader hands to the first of them when it is done;
//! a lone caller never waits for company (there is no timer: a batch is whoever queued
//! while the previous one ran).
//!
//! Inside a batch each body writes to an overlay of its own, read before the batch's
//! writes: a body that returns `Ok` keeps its writes (a later body sees them, so two
//! admissions to one pool are serialized here, in memory), a body that refuses (`Abort`)
//! has its writes discarded and the others keep theirs. Every caller is answered after the
//! commit that covers its body (its refusal too: the refusal was decided on the batch's
//! view, which only stands once committed).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{KvTx, StorageError, TxFail};

/// The most bodies one batch runs.
pub const MAX_BATCH: usize = 64;

/// The callers waiting for a batch, and the store's counters. `K` is how a caller names
/// the trees its body works on (a sled tree, or a PostgreSQL tree's name).
pub(super) struct Batches<K> {
    queue: Mutex<Queue<K>>,
    commits: AtomicU64,
    bodies: AtomicU64,
}

impl<K> Default for Batches<K> {
    fn default() -> Self {
        Batches {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                leading: false,
            }),
            commits: AtomicU64::new(0),
            bodies: AtomicU64::new(0),
        }
    }
}

struct Queue<K> {
    waiting: VecDeque<Member<K>>,
    /// A leader is running a batch (or has been chosen): newcomers wait.
    leading: bool,
}

/// How many batches and bodies a store has committed (for tests and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchCounts {
    /// Commits of batches.
    pub commits: u64,
    /// Bodies those commits covered (a refused body counts: it was answered by one).
    pub bodies: u64,
    /// Callers queued now, waiting for a batch to take them.
    pub waiting: usize,
}

/// Why a batch answers a caller with an error instead of its body's result. One failure
/// may answer every member of a batch, so it can be cloned (unlike [`StorageError`]).
#[derive(Clone)]
pub(super) enum Failure {
    Sled(sled::Error),
    Postgres(String),
    /// Nothing a backend reported: the batch's thread panicked, or a member was answered
    /// without its body having run.
    Lost(&'static str),
}

impl From<Failure> for StorageError {
    fn from(failure: Failure) -> StorageError {
        match failure {
            Failure::Sled(e) => StorageError::Sled(e),
            Failure::Postgres(words) => StorageError::Postgres(words),
            Failure::Lost(words) => StorageError::Io(std::io::Error::other(words)),
        }
    }
}

/// What a caller is told.
enum Signal {
    /// Lead the next batch (the caller is first in the queue).
    Lead,
    /// The batch that ran this caller's body is over: `Ok` means committed (the body's own
    /// result stands).
    Done(Result<(), Failure>),
}

/// One waiting caller: its body, its trees and where its answer goes.
pub(super) struct Member<K> {
    /// The caller's body, with its lifetime erased. SAFETY: the caller blocks in
    /// [`Batches::transact`] until it receives on the other end of `reply`, which happens
    /// only once this member has been consumed by [`Member::answer`] or dropped; the
    /// reference is used only through this member (never copied out), so it is never used
    /// after the caller returns.
    run: &'static (dyn Fn(&dyn KvTx) -> bool + Sync),
    /// The body's trees: its view's tree `i` is `trees[i]`.
    pub(super) trees: Vec<K>,
    reply: mpsc::Sender<Signal>,
}

impl<K> Member<K> {
    /// Runs the body over `kv`; true when it returned `Ok` (its writes are kept).
    pub(super) fn run(&self, kv: &dyn KvTx) -> bool {
        (self.run)(kv)
    }

    pub(super) fn answer(self, result: Result<(), Failure>) {
        // The caller blocks until answered, so the answer reaches it.
        let _ = self.reply.send(Signal::Done(result));
    }
}

/// Answers every member with the same outcome.
pub(super) fn answer_all<K>(members: Vec<Member<K>>, result: &Result<(), Failure>) {
    for member in members {
        member.answer(result.clone());
    }
}

impl<K> Batches<K> {
    fn lock(&self) -> MutexGuard<'_, Queue<K>> {
        // The queue stays consistent across a panic (changed under the lock only).
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one committed batch of `bodies` bodies.
    pub(super) fn committed(&self, bodies: usize) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.bodies.fetch_add(bodies as u64, Ordering::Relaxed);
    }

    pub(super) fn counts(&self) -> BatchCounts {
        BatchCounts {
            commits: self.commits.load(Ordering::Relaxed),
            bodies: self.bodies.load(Ordering::Relaxed),
            waiting: self.lock().waiting.len(),
        }
    }

    /// Runs `body` in one transaction over `trees`, batched with the bodies other threads
    /// queue at the same time. When this caller leads, `run_batch` gets the batch (this
    /// caller's body first) and must answer each member, after the commit that covers it;
    /// a member it drops unanswered (a panic) is told its transaction panicked. Blocking.
    pub(super) fn transact<T: Send, E: Send>(
        &self,
        trees: Vec<K>,
        body: &(impl Fn(&dyn KvTx) -> Result<T, TxFail<E>> + Sync),
        run_batch: impl Fn(Vec<Member<K>>),
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
        // received, and the member holding the reference is gone by then. Should
        // `run_batch` unwind, the batch it took (this member first: a leader is always
        // first in the queue) has been dropped before this frame is left.
        let run: &'static (dyn Fn(&dyn KvTx) -> bool + Sync + 'static) =
            unsafe { std::mem::transmute(run) };
        let (reply, answer) = mpsc::channel();
        let member = Member { run, trees, reply };
        let mut lead = {
            let mut queue = self.lock();
            queue.waiting.push_back(member);
            !std::mem::replace(&mut queue.leading, true)
        };
        let done = loop {
            if lead {
                self.lead(&run_batch);
            }
            match answer.recv() {
                Ok(Signal::Lead) => lead = true,
                Ok(Signal::Done(done)) => break done,
                // The member was dropped unanswered: its leader's batch panicked.
                Err(_) => break Err(Failure::Lost("a database transaction panicked")),
            }
        };
        match done {
            Ok(()) => slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .unwrap_or_else(|| {
                    let lost =
                        Failure::Lost("a batched transaction ended without running its body");
                    Err(TxFail::Storage(lost.into()))
                }),
            Err(failure) => Err(TxFail::Storage(failure.into())),
        }
    }

    /// Takes a batch from the queue, hands it to `run_batch`, and passes the lead to the
    /// first caller still queued (or gives it up).
    fn lead(&self, run_batch: &impl Fn(Vec<Member<K>>)) {
        // Even if the batch panics below, the callers still queued get a leader.
        let _hand_off = HandOff(self);
        let batch: Vec<Member<K>> = {
            let mut queue = self.lock();
            let n = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..n).collect()
        };
        run_batch(batch);
    }
}

/// Passes the lead on when dropped: to the first caller still queued, or to nobody.
struct HandOff<'a, K>(&'a Batches<K>);

impl<K> Drop for HandOff<'_, K> {
    fn drop(&mut self) {
        let mut queue = self.0.lock();
        match queue.waiting.front() {
            // A queued caller is waiting on its channel, so the signal reaches it.
            Some(next) => drop(next.reply.send(Signal::Lead)),
            None => queue.leading = false,
        }
    }
}
