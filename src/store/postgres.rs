//! The PostgreSQL backend: the store's trees as rows of one table, shared by every bot
//! process pointed at the same database.
//!
//! - `seedance_kv (tree, key, value)`: one row per stored pair; `bytea` keys order byte by
//!   byte, exactly as sled's do, so ranges and "newest first" read the same on both.
//! - A transaction runs the caller's body with `READ COMMITTED` and row locks: every read
//!   inside it is `SELECT ... FOR UPDATE`, so a read-modify-write (a pool's totals, a hold,
//!   a job's state) waits for the writer before it and then sees its commit. A key read as
//!   absent is created with a plain `INSERT`, so two transactions that both found it
//!   missing cannot both create it: the second gets a unique violation. That, a deadlock and
//!   a serialization failure all mean "run the body again" (it is pure, see `credits::tx`).
//!   The bodies that threads of one process run at the same time share one database
//!   transaction and one COMMIT (group commit, `pg_batch.rs`).
//! - Migrations are embedded and run at open (and by `seedance-bot migrate`), under an
//!   advisory lock so processes starting together migrate once.
//!
//! The `postgres` crate (the blocking client over `tokio-postgres`) is used from plain
//! threads: each call borrows a connection from a small pool and runs on a scoped thread,
//! so it never blocks inside the async runtime's context and needs no `'static` closures.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex};

use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};
use secrecy::{ExposeSecret, SecretString};
use sled::IVec;

use super::{KvError, Pair, StorageError};

/// The most connections one process opens.
const POOL_SIZE: usize = 16;
/// Rows fetched per page of a range read.
const PAGE: i64 = 512;

/// The schema, in order; each runs once, in its own transaction.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "CREATE TABLE seedance_kv (
             tree text NOT NULL,
             key bytea NOT NULL,
             value bytea NOT NULL,
             PRIMARY KEY (tree, key)
         );",
    ),
    (
        2,
        "CREATE TABLE seedance_leases (
             name text PRIMARY KEY,
             owner text NOT NULL,
             until_ms bigint NOT NULL
         );",
    ),
];

/// The database's clock in unix millis: every lease is timed by it, so the processes'
/// own clocks never have to agree.
const DB_NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// A handle on the database. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: postgres::Config,
    /// The URL with its password masked, for messages.
    shown: String,
    password: Option<String>,
    idle: Mutex<Pool>,
    freed: Condvar,
    /// A read snapshot (see [`PgStore::snapshot`]): its one connection holds the snapshot's
    /// transaction, and no other may be opened.
    snapshot: bool,
    /// The transactions waiting for, or running in, a batch (`pg_batch.rs`).
    batches: super::pg_batch::Batches,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

/// Runs `wait`, which blocks until the database answers (or a pooled connection is free),
/// without holding up the async tasks of the thread it is called on: on a worker of the
/// multi-thread runtime, the worker first hands its other tasks to a new one. Elsewhere (a
/// plain thread, a blocking task, a one-thread runtime) it simply runs.
pub(super) fn off_worker<T>(wait: impl FnOnce() -> T) -> T {
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
pub(super) struct Conn {
    pub(super) client: Client,
    get: Statement,
    pub(super) get_locked: Statement,
    upsert: Statement,
    delete: Statement,
    page_forward: Statement,
    page_backward: Statement,
    pub(super) insert_many: Statement,
    pub(super) upsert_many: Statement,
    pub(super) delete_many: Statement,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.inner.shown)
    }
}

/// `url` with any password replaced by `***`: the only form of it that may be shown.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            let mut shown = parsed.to_string();
            // A password may also come as a query parameter.
            if parsed.query_pairs().any(|(k, _)| k == "password") {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "password" {
                            "***".into()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
                shown = parsed.to_string();
            }
            shown
        }
        // Not a URL (a "host=... password=..." string): show only that it was given.
        Err(_) => "(a PostgreSQL connection string)".to_owned(),
    }
}

impl PgStore {
    /// Connects to `url` (one connection now, to fail early with a clear message), runs
    /// the migrations and returns the store. Blocking.
    pub fn connect(url: &SecretString) -> Result<PgStore, StorageError> {
        Self::connect_with(url, true)
    }

    /// [`PgStore::connect`]; with `create` false a database without the bot's tables is
    /// refused instead of set up (the offline commands: a wrong URL must not look empty).
    pub fn connect_with(url: &SecretString, create: bool) -> Result<PgStore, StorageError> {
        let raw = url.expose_secret();
        let shown = mask_url(raw);
        let config: postgres::Config = raw.parse().map_err(|_| {
            StorageError::Postgres(format!(
                "storage.postgres_url is not a valid PostgreSQL URL: {shown}"
            ))
        })?;
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .filter(|p| !p.is_empty());
        let store = PgStore {
            inner: Arc::new(Inner {
                config,
                shown,
                password,
                idle: Mutex::new(Pool::default()),
                freed: Condvar::new(),
                snapshot: false,
                batches: Default::default(),
            }),
        };
        store.migrate_with(create)?;
        Ok(store)
    }

    /// Brings the database's tables up to this build's schema (also `seedance-bot migrate`).
    pub fn migrate(&self) -> Result<(), StorageError> {
        self.migrate_with(true)
    }

    fn migrate_with(&self, create: bool) -> Result<(), StorageError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut client = self
                        .inner
                        .config
                        .connect(NoTls)
                        .map_err(|e| self.error(&e))?;
                    if !create && !has_tables(&mut client).map_err(|e| self.error(&e))? {
                        return Err(StorageError::Postgres(format!(
                            "no seedance-bot tables in {}: is this the bot's database? Start the bot once (or run `seedance-bot migrate`) to set it up",
                            self.inner.shown
                        )));
                    }
                    migrate(&mut client)
                })
                .join()
                .unwrap_or_else(|_| Err(StorageError::Postgres("the migration panicked".into())))
        })
    }

    /// The database as it may be shown (password masked).
    pub fn shown(&self) -> &str {
        &self.inner.shown
    }

    fn error(&self, e: &postgres::Error) -> StorageError {
        StorageError::Postgres(self.words(e))
    }

    /// An error's words with the password taken out, should the server or the driver
    /// ever echo it.
    pub(super) fn words(&self, e: &postgres::Error) -> String {
        let mut words = match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => {
                let mut chain = e.to_string();
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    chain.push_str(": ");
                    chain.push_str(&s.to_string());
                    source = s.source();
                }
                chain
            }
        };
        if let Some(password) = &self.inner.password {
            words = words.replace(password.as_str(), "***");
        }
        format!("{words} [{}]", self.inner.shown)
    }

    pub(super) fn kv_error(&self, e: &postgres::Error) -> KvError {
        let retry = e.code().is_some_and(|code| {
            *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::UNIQUE_VIOLATION
        });
        if retry {
            KvError::Conflict
        } else {
            KvError::Storage(self.error(e))
        }
    }

    /// Runs `work` with a pooled connection on a plain thread (never inside the async
    /// runtime's context, where the blocking client must not run).
    fn with_conn<T: Send>(
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
    pub(super) fn checkout(&self) -> Option<Conn> {
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

    pub(super) fn checkin(&self, conn: Conn) {
        let mut pool = self.inner.idle.lock().expect("pool lock");
        if conn.client.is_closed() {
            pool.open -= 1;
        } else {
            pool.idle.push(conn);
        }
        self.inner.freed.notify_one();
    }

    pub(super) fn release_slot(&self) {
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

    pub(super) fn open_conn(&self) -> Result<Conn, StorageError> {
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
    pub(super) fn new_conn(&self) -> Result<Conn, StorageError> {
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

    pub(super) fn get(&self, tree: &str, key: &[u8]) -> Result<Option<IVec>, StorageError> {
        self.with_conn(|conn| {
            let row = conn
                .client
                .query_opt(&conn.get, &[&tree, &key])
                .map_err(|e| self.error(&e))?;
            Ok(row.map(|r| IVec::from(r.get::<_, Vec<u8>>(0))))
        })
    }

    pub(super) fn put(
        &self,
        tree: &str,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), StorageError> {
        self.with_conn(|conn| {
            let done = match value {
                Some(value) => conn.client.execute(&conn.upsert, &[&tree, &key, &value]),
                None => conn.client.execute(&conn.delete, &[&tree, &key]),
            };
            done.map(drop).map_err(|e| self.error(&e))
        })
    }

    /// One page of `tree` within `[lower, upper)` (`upper` `None`: no bound).
    fn page(
        &self,
        tree: &str,
        lower: &[u8],
        upper: Option<&[u8]>,
        backward: bool,
    ) -> Result<Vec<Pair>, StorageError> {
        self.with_conn(|conn| {
            let statement = if backward {
                &conn.page_backward
            } else {
                &conn.page_forward
            };
            let rows = conn
                .client
                .query(statement, &[&tree, &lower, &upper, &PAGE])
                .map_err(|e| self.error(&e))?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        IVec::from(r.get::<_, Vec<u8>>(0)),
                        IVec::from(r.get::<_, Vec<u8>>(1)),
                    )
                })
                .collect())
        })
    }

    /// Takes or renews the lease `name` for `owner` for `ttl` (database time): true when
    /// `owner` holds it now, false while another owner's lease is unexpired.
    pub fn lease(
        &self,
        name: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StorageError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.with_conn(|conn| {
            let sql = format!(
                "INSERT INTO seedance_leases (name, owner, until_ms) VALUES ($1, $2, {DB_NOW_MS} + $3)
                 ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until_ms = EXCLUDED.until_ms
                 WHERE seedance_leases.owner = EXCLUDED.owner OR seedance_leases.until_ms < {DB_NOW_MS}
                 RETURNING owner"
            );
            let row = conn
                .client
                .query_opt(sql.as_str(), &[&name, &owner, &ttl_ms])
                .map_err(|e| self.error(&e))?;
            Ok(row.is_some())
        })
    }

    /// How long ago (database time, milliseconds) the lease `name` ran out or was ended,
    /// whoever held it: negative while it still runs, `None` when it was never taken.
    pub fn since_lease_end(&self, name: &str) -> Result<Option<i64>, StorageError> {
        self.with_conn(|conn| {
            let sql = format!("SELECT {DB_NOW_MS} - until_ms FROM seedance_leases WHERE name = $1");
            let row = conn
                .client
                .query_opt(sql.as_str(), &[&name])
                .map_err(|e| self.error(&e))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    /// Renews, for `ttl` (database time), each lease of `names` still held by `owner`;
    /// returns the names renewed.
    pub fn renew_leases(
        &self,
        names: &[String],
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<Vec<String>, StorageError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.with_conn(|conn| {
            let sql = format!(
                "UPDATE seedance_leases SET until_ms = {DB_NOW_MS} + $3
                 WHERE name = ANY($1) AND owner = $2 RETURNING name"
            );
            let rows = conn
                .client
                .query(sql.as_str(), &[&names, &owner, &ttl_ms])
                .map_err(|e| self.error(&e))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// The names starting with `prefix` of leases that have run out (database time).
    pub fn expired_leases(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.with_conn(|conn| {
            let sql = format!(
                "SELECT name FROM seedance_leases
                 WHERE starts_with(name, $1) AND until_ms < {DB_NOW_MS} ORDER BY name"
            );
            let rows = conn
                .client
                .query(sql.as_str(), &[&prefix])
                .map_err(|e| self.error(&e))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// The names of the trees that hold at least one pair.
    pub(super) fn tree_names(&self) -> Result<Vec<String>, StorageError> {
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query("SELECT DISTINCT tree FROM seedance_kv ORDER BY tree", &[])
                .map_err(|e| self.error(&e))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// Gives the lease up at once (a clean stop), so another process need not wait it out.
    pub fn release(&self, name: &str, owner: &str) -> Result<(), StorageError> {
        self.with_conn(|conn| {
            conn.client
                .execute(
                    "DELETE FROM seedance_leases WHERE name = $1 AND owner = $2",
                    &[&name, &owner],
                )
                .map(drop)
                .map_err(|e| self.error(&e))
        })
    }

    pub(super) fn batches(&self) -> &super::pg_batch::Batches {
        &self.inner.batches
    }
}

fn has_tables(client: &mut Client) -> Result<bool, postgres::Error> {
    Ok(client
        .query_one("SELECT to_regclass('seedance_schema') IS NOT NULL", &[])?
        .get(0))
}

/// Runs every migration the database has not had, under an advisory lock.
fn migrate(client: &mut Client) -> Result<(), StorageError> {
    let pg = |e: postgres::Error| {
        StorageError::Postgres(match e.as_db_error() {
            Some(db) => format!("migration failed: {} ({})", db.message(), db.code().code()),
            None => format!("migration failed: {e}"),
        })
    };
    let mut tx = client.transaction().map_err(pg)?;
    // One key for this application's migrations: processes starting together wait here.
    tx.execute("SELECT pg_advisory_xact_lock(7301844271)", &[])
        .map_err(pg)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS seedance_schema (version integer NOT NULL)")
        .map_err(pg)?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM seedance_schema", &[])
        .map_err(pg)?
        .get(0);
    let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > newest {
        return Err(StorageError::Postgres(format!(
            "the database was written by a newer seedance-bot (schema {current}, this build knows {newest})"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).map_err(pg)?;
        tx.execute(
            "INSERT INTO seedance_schema (version) VALUES ($1)",
            &[version],
        )
        .map_err(pg)?;
        tracing::info!(version, "database migrated");
    }
    tx.commit().map_err(pg)
}

/// A lazily read range of one tree, a page at a time.
pub struct PgScan {
    store: PgStore,
    tree: &'static str,
    /// Inclusive.
    lower: Vec<u8>,
    /// Exclusive; `None`: no bound.
    upper: Option<Vec<u8>>,
    backward: bool,
    buffer: VecDeque<Pair>,
    done: bool,
}

/// The least key after `key`.
fn after(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

impl PgScan {
    pub(super) fn new(
        store: PgStore,
        tree: &'static str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
    ) -> PgScan {
        let lower = match lower {
            Bound::Included(k) => k,
            Bound::Excluded(k) => after(&k),
            Bound::Unbounded => Vec::new(),
        };
        let upper = match upper {
            Bound::Included(k) => Some(after(&k)),
            Bound::Excluded(k) => Some(k),
            Bound::Unbounded => None,
        };
        PgScan {
            store,
            tree,
            lower,
            upper,
            backward: false,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    pub(super) fn reversed(mut self) -> PgScan {
        self.backward = !self.backward;
        self
    }
}

impl Iterator for PgScan {
    type Item = Result<Pair, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            match self
                .store
                .page(self.tree, &self.lower, self.upper.as_deref(), self.backward)
            {
                Ok(rows) => {
                    self.done = (rows.len() as i64) < PAGE;
                    if let Some((last, _)) = rows.last() {
                        if self.backward {
                            self.upper = Some(last.to_vec());
                        } else {
                            self.lower = after(last);
                        }
                    }
                    self.buffer.extend(rows);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url;

    #[test]
    fn a_shown_url_never_holds_the_password() {
        let shown = mask_url("postgres://bot:s3cret@db.example:5432/seedance");
        assert_eq!(shown, "postgres://bot:***@db.example:5432/seedance");
        let shown = mask_url("postgres://bot@db/seedance?password=s3cret&sslmode=disable");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("sslmode=disable"), "{shown}");
        assert!(!mask_url("host=db password=s3cret").contains("s3cret"));
    }
}
