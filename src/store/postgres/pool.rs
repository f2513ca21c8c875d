//! The connections: a small pool of them, each with its statements prepared once, and each
//! call run on a scoped thread so the blocking client never runs inside the async runtime's
//! context; a read snapshot is a pool of one connection holding its transaction.

use std::sync::{Arc, Condvar, Mutex};

use postgres::{Client, NoTls, Statement};

use super::{Inner, PgStore};
use crate::store::StorageError;

/// The most connections one process opens.
const POOL_SIZE: usize = 16;

#[derive(Default)]
pub(super) struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

/// Runs `wait`, which blocks until the database answers (or a pooled connection is free),
/// without holding up the async tasks of the thread it is called on: on a worker of the
/// multi-thread runtime, the worker first hands its other tasks to a new one. Elsewhere (a
/// plain thread, a blocking task, a one-thread runtime) it simply runs.
pub(in crate::store) fn off_worker<T>(wait: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}

impl Drop for Pool {
    /// Closing a connection runs the blocking client's own runtime, which must not happen
    /// on an async runtime's thread: the last handle may be dropped anywhere.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.idle);
        if !idle.is_empty() {
            std::thread::scope(|s| {
                s.spawn(move || drop(idle));
            });
        }
    }
}

/// A connection with its statements prepared once.
pub(in crate::store) struct Conn {
    pub(in crate::store) client: Client,
    pub(super) get: Statement,
    pub(in crate::store) get_locked: Statement,
    pub(super) upsert: Statement,
    pub(super) delete: Statement,
    pub(super) page_forward: Statement,
    pub(super) page_backward: Statement,
    pub(in crate::store) insert_many: Statement,
    pub(in crate::store) upsert_many: Statement,
    pub(in crate::store) delete_many: Statement,
}

impl PgStore {
    /// Runs `work` with a pooled connection on a plain thread (never inside the async
    /// runtime's context, where the blocking client must not run).
    pub(super) fn with_conn<T: Send>(
        &self,
        work: impl FnOnce(&mut Conn) -> Result<T, StorageError> + Send,
    ) -> Result<T, StorageError> {
        off_worker(|| self.with_conn_here(work))
    }

    fn with_conn_here<T: Send>(
        &self,
        work: impl FnOnce(&mut Conn) -> Result<T, StorageError> + Send,
    ) -> Result<T, StorageError> {
        let conn = self.checkout();
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let mut conn = match conn {
                        Some(conn) => conn,
                        None => self.open_conn()?,
                    };
                    let out = work(&mut conn);
                    self.checkin(conn);
                    out
                })
                .join()
                .unwrap_or_else(|_| {
                    self.release_slot();
                    Err(StorageError::Postgres("a database call panicked".into()))
                })
        })
    }

    /// An idle connection, or `None` when a new one may be opened (waiting while every
    /// connection is in use).
    pub(in crate::store) fn checkout(&self) -> Option<Conn> {
        let mut pool = self.inner.idle.lock().expect("pool lock");
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Some(conn);
            }
            if pool.open < POOL_SIZE && !self.inner.snapshot {
                pool.open += 1;
                return None;
            }
            pool = self.inner.freed.wait(pool).expect("pool lock");
        }
    }

    pub(in crate::store) fn checkin(&self, conn: Conn) {
        let mut pool = self.inner.idle.lock().expect("pool lock");
        if conn.client.is_closed() {
            pool.open -= 1;
        } else {
            pool.idle.push(conn);
        }
        self.inner.freed.notify_one();
    }

    pub(in crate::store) fn release_slot(&self) {
        let mut pool = self.inner.idle.lock().expect("pool lock");
        pool.open = pool.open.saturating_sub(1);
        self.inner.freed.notify_one();
    }

    /// A read-only view of the database as it is now, for reads that must agree with each
    /// other while other processes write (`verify`): one connection in a `REPEATABLE READ
    /// READ ONLY` transaction, which every read of the returned store goes through. Its
    /// writes fail. Blocking.
    pub fn snapshot(&self) -> Result<PgStore, StorageError> {
        let store = PgStore {
            inner: Arc::new(Inner {
                config: self.inner.config.clone(),
                shown: self.inner.shown.clone(),
                password: self.inner.password.clone(),
                idle: Mutex::new(Pool::default()),
                freed: Condvar::new(),
                snapshot: true,
                batches: Default::default(),
            }),
        };
        let conn = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut conn = store.new_conn()?;
                    conn.client
                        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        .map_err(|e| store.error(&e))?;
                    Ok::<_, StorageError>(conn)
                })
                .join()
                .unwrap_or_else(|_| Err(StorageError::Postgres("a snapshot panicked".into())))
        })?;
        {
            let mut pool = store.inner.idle.lock().expect("pool lock");
            pool.idle.push(conn);
            pool.open = 1;
        }
        Ok(store)
    }

    pub(in crate::store) fn open_conn(&self) -> Result<Conn, StorageError> {
        if self.inner.snapshot {
            self.release_slot();
            return Err(StorageError::Postgres(
                "the snapshot's connection was lost".into(),
            ));
        }
        let connected = self.new_conn();
        if connected.is_err() {
            self.release_slot();
        }
        connected
    }

    /// A new connection with the statements prepared.
    pub(in crate::store) fn new_conn(&self) -> Result<Conn, StorageError> {
        self.inner
            .config
            .connect(NoTls)
            .map_err(|e| self.error(&e))
            .and_then(|mut client| {
                let mut prepare = |sql: &str| client.prepare(sql).map_err(|e| self.error(&e));
                let get = prepare("SELECT value FROM seedance_kv WHERE tree = $1 AND key = $2");
                let get_locked = prepare(
                    "SELECT value FROM seedance_kv WHERE tree = $1 AND key = $2 FOR UPDATE",
                );
                let upsert = prepare(
                    "INSERT INTO seedance_kv (tree, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
                );
                let delete = prepare("DELETE FROM seedance_kv WHERE tree = $1 AND key = $2");
                let page_forward = prepare(
                    "SELECT key, value FROM seedance_kv
                     WHERE tree = $1 AND key >= $2 AND ($3::bytea IS NULL OR key < $3)
                     ORDER BY key LIMIT $4",
                );
                let page_backward = prepare(
                    "SELECT key, value FROM seedance_kv
                     WHERE tree = $1 AND key >= $2 AND ($3::bytea IS NULL OR key < $3)
                     ORDER BY key DESC LIMIT $4",
                );
                let insert_many = prepare(
                    "INSERT INTO seedance_kv (tree, key, value)
                     SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])",
                );
                let upsert_many = prepare(
                    "INSERT INTO seedance_kv (tree, key, value)
                     SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])
                     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
                );
                let delete_many = prepare(
                    "DELETE FROM seedance_kv k USING unnest($1::text[], $2::bytea[]) AS d(tree, key)
                     WHERE k.tree = d.tree AND k.key = d.key",
                );
                Ok(Conn {
                    insert_many: insert_many?,
                    upsert_many: upsert_many?,
                    delete_many: delete_many?,
                    get: get?,
                    get_locked: get_locked?,
                    upsert: upsert?,
                    delete: delete?,
                    page_forward: page_forward?,
                    page_backward: page_backward?,
                    client,
                })
            })
    }
}
