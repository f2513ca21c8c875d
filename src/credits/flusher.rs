//! Group commit: one thread makes the ledger's committed transactions durable, one
//! `Db::flush` for every write that committed while the previous flush ran.
//!
//! A writer announces its transaction ([`Flusher::begin`]), commits it, asks for a flush
//! ([`Commit::committed`]) and waits on the returned [`Ticket`]. The flusher thread takes
//! every request queued so far and runs one flush: each of those commits happened before
//! the flush read sled's highest reserved log position, so that flush covers all of them.
//! Requests arriving during the flush wait for the next one. The flush's result, error
//! included, goes to every request it covered.
//!
//! The thread runs the blocking `Db::flush`, never `flush_async` (sled 0.34.7's
//! `flush_async` deadlocks when several run at once, issues #1241 and #1308). It is a plain
//! OS thread, not a tokio task, because a ledger is opened outside any runtime too (the
//! CLI, tests) and must not depend on one to stay alive.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::LedgerError;

/// Where one flush's result is sent.
type Waiter = oneshot::Sender<Result<(), sled::Error>>;

/// The thread that owns the ledger's flushes. Dropping it lets the thread finish the
/// flush it is in (answering its waiters) and joins it, so the store is released (sled
/// holds a file lock until its last handle is gone) when the ledger is dropped.
pub(super) struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a waiter is queued, a commit ends, or the flusher is dropped.
    changed: Condvar,
}

/// Writers are counted per *epoch* while they commit. Before a flush the flusher closes
/// the current epoch and waits for the commits counted in it: sled 0.34.7 holds
/// transactions off while a flush runs (its flush takes the read side of the lock every
/// transaction takes for writing), so a flush started at the first request would cover
/// one commit and block the rest behind its fsync. Commits that begin after the close
/// count in the next epoch, so a steady stream of writers cannot hold a flush back.
/// Two slots suffice: an epoch is closed only once the one before it has drained.
#[derive(Default)]
struct State {
    epoch: usize,
    committing: [usize; 2],
    waiters: Vec<Waiter>,
    stopping: bool,
}

/// A writer between the start of its transaction and its flush request. Dropped without
/// [`Commit::committed`] (the transaction failed), it only stops being waited for.
pub(super) struct Commit<'a> {
    shared: &'a Shared,
    slot: usize,
    counted: bool,
}

/// A pending answer to one flush request.
pub(super) struct Ticket(oneshot::Receiver<Result<(), sled::Error>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (counts change under the lock only).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Flusher {
    pub(super) fn start(db: sled::Db) -> Result<Flusher, LedgerError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("ledger-flusher".into())
                .spawn(move || run(&db, &shared))
                .map_err(|e| LedgerError::Storage(e.into()))?
        };
        Ok(Flusher {
            shared,
            thread: Some(thread),
        })
    }

    /// Call right before a transaction: the next flush waits for it to end.
    pub(super) fn begin(&self) -> Commit<'_> {
        let mut state = self.shared.lock();
        let slot = state.epoch % 2;
        state.committing[slot] += 1;
        Commit {
            shared: &self.shared,
            slot,
            counted: true,
        }
    }
}

impl Commit<'_> {
    /// Call once the transaction has committed: asks for a flush that starts after now.
    pub(super) fn committed(mut self) -> Ticket {
        let (waiter, answer) = oneshot::channel();
        let mut state = self.shared.lock();
        state.committing[self.slot] -= 1;
        state.waiters.push(waiter);
        self.counted = false;
        drop(state);
        self.shared.changed.notify_all();
        Ticket(answer)
    }
}

impl Drop for Commit<'_> {
    fn drop(&mut self) {
        if self.counted {
            self.shared.lock().committing[self.slot] -= 1;
            self.shared.changed.notify_all();
        }
    }
}

impl Ticket {
    /// Waits for the flush that covers this request; its error is this caller's error.
    pub(super) async fn durable(self) -> Result<(), LedgerError> {
        match self.0.await {
            Ok(result) => result.map_err(|e| LedgerError::Storage(e.into())),
            Err(_) => Err(LedgerError::Storage(
                std::io::Error::other("the ledger's flusher thread stopped").into(),
            )),
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The flusher loop: one flush per batch of waiters, until the flusher is dropped.
fn run(db: &sled::Db, shared: &Shared) {
    loop {
        let batch = {
            let mut state = shared.lock();
            while state.waiters.is_empty() && !state.stopping {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.waiters.is_empty() {
                return;
            }
            let closed = state.epoch % 2;
            state.epoch += 1;
            while state.committing[closed] > 0 {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            std::mem::take(&mut state.waiters)
        };
        let result = db.flush().map(drop);
        if let Err(e) = &result {
            tracing::error!(error = %e, waiters = batch.len(), "ledger flush failed");
        }
        for waiter in batch {
            // The caller may have gone (its future dropped); the flush still covered it.
            let _ = waiter.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests made together, each after its own write, are all answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_request_is_answered_after_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let flusher = Flusher::start(db.clone()).unwrap();
        let tickets: Vec<Ticket> = (0..32u32)
            .map(|i| {
                let commit = flusher.begin();
                db.insert(i.to_be_bytes(), &[1]).unwrap();
                commit.committed()
            })
            .collect();
        for ticket in tickets {
            ticket.durable().await.unwrap();
        }
        assert_eq!(db.len(), 32);
    }

    /// Dropping the flusher joins its thread, so the store can be opened again at once.
    #[test]
    fn dropping_the_flusher_releases_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let flusher = Flusher::start(db.clone()).unwrap();
        drop(flusher);
        drop(db);
        sled::open(dir.path()).unwrap();
    }

    const CHILD_DIR: &str = "SEEDANCE_FLUSH_ERROR_DIR";
    const WRITERS: u32 = 16;

    /// The child: a store whose file may not grow any more (`RLIMIT_FSIZE`, the way a full
    /// disk refuses), sixteen commits made in memory, one flush for all of them. Prints
    /// one line per writer with what its ticket said.
    #[tokio::test]
    #[ignore = "run by a_flush_error_reaches_every_writer_it_covered"]
    async fn flush_error_child() {
        let Some(dir) = std::env::var_os(CHILD_DIR) else {
            return;
        };
        // sled's own 500 ms flush is off so that the only flush is the flusher's.
        let db = sled::Config::new()
            .path(&dir)
            .flush_every_ms(None)
            .open()
            .unwrap();
        db.insert("before", "limit").unwrap();
        db.flush().unwrap();
        let size = std::fs::metadata(std::path::Path::new(&dir).join("db"))
            .unwrap()
            .len();
        // SAFETY: plain libc calls on this process, before any other thread writes files;
        // ignoring SIGXFSZ makes an oversized write fail with EFBIG instead of killing us.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: size as libc::rlim_t,
                rlim_max: libc::RLIM_INFINITY,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
        }
        let flusher = Flusher::start(db.clone()).unwrap();
        // Every writer is counted before any commits, so one flush must cover all of them.
        let commits: Vec<Commit<'_>> = (0..WRITERS).map(|_| flusher.begin()).collect();
        let tickets: Vec<Ticket> = commits
            .into_iter()
            .zip(0..WRITERS)
            .map(|(commit, i)| {
                db.insert(i.to_be_bytes(), vec![7u8; 64]).unwrap();
                commit.committed()
            })
            .collect();
        for ticket in tickets {
            match ticket.durable().await {
                Ok(()) => println!("WRITER ok"),
                Err(e) => println!("WRITER err {e}"),
            }
        }
    }

    #[test]
    fn a_flush_error_reaches_every_writer_it_covered() {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "credits::flusher::tests::flush_error_child",
                "--ignored",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The harness prints the test's name on the line of the first answer.
        let answers: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.find("WRITER ").map(|at| &l[at..]))
            .collect();
        assert_eq!(answers.len(), WRITERS as usize, "child said: {stdout}");
        for answer in answers {
            assert!(
                answer.starts_with("WRITER err credit storage failed")
                    && answer.contains("File too large"),
                "a writer covered by a failed flush was told: {answer}"
            );
        }
    }
}
