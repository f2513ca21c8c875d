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
//!
//! The handle and its errors (the URL's password masked in every message) are here; the
//! rest by concept: `postgres/pool.rs` the connections (a small pool, each connection's
//! statements prepared once, the calls kept off the async runtime's threads, read
//! snapshots), `postgres/migrations.rs` the schema, `postgres/leases.rs` the named leases,
//! `postgres/trees.rs` one tree's reads and writes outside a transaction (ranges a page at a
//! time).

use std::sync::{Arc, Condvar, Mutex};

use postgres::error::SqlState;
use secrecy::{ExposeSecret, SecretString};

use super::{KvError, StorageError};

mod leases;
mod migrations;
mod pool;
mod trees;

pub(super) use pool::{Conn, off_worker};
pub use trees::PgScan;

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
    idle: Mutex<pool::Pool>,
    freed: Condvar,
    /// A read snapshot (see [`PgStore::snapshot`]): its one connection holds the snapshot's
    /// transaction, and no other may be opened.
    snapshot: bool,
    /// The transactions waiting for, or running in, a batch (`pg_batch.rs`).
    batches: super::pg_batch::Batches,
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
                idle: Mutex::new(pool::Pool::default()),
                freed: Condvar::new(),
                snapshot: false,
                batches: Default::default(),
            }),
        };
        store.migrate_with(create)?;
        Ok(store)
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

    pub(super) fn batches(&self) -> &super::pg_batch::Batches {
        &self.inner.batches
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
