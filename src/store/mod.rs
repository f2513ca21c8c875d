//! The store seam: where the ledger, the job records and the server settings live.
//!
//! Two backends behind one handle ([`Store`]):
//! - **sled** (the default): an embedded database in the data directory, one process at a
//!   time (`sled_dir.rs` opens it);
//! - **PostgreSQL** (`postgres.rs`): one database shared by any number of bot processes.
//!
//! Both hold the same named trees of ordered byte keys, and both run a transaction body
//! (the ledger's money rules in `credits::ops`, the job state machine's guards) over a
//! transactional view of them ([`KvTx`]): sled with its own transactions, PostgreSQL with
//! row locks (`SELECT ... FOR UPDATE`) and a retry when the database reports a conflict.
//! On both, the bodies that threads of one process start at the same time run together in
//! one database transaction with one commit (group transactions: the queue in `batch.rs`,
//! the backends' runs in `sled_batch.rs` and `pg_batch.rs`). The rules are written once;
//! nothing outside `src/store/` knows which backend runs them. Outside a transaction,
//! [`Tree`] reads one tree (ranges forward or newest first) the same way on both.

use sled::IVec;

mod batch;
mod pg_batch;
pub mod postgres;
mod sled_batch;
mod sled_dir;
mod tree;

pub use batch::{BatchCounts, MAX_BATCH};
pub use tree::{Pair, Scan, Tree};

pub use sled_dir::{
    DEFAULT_CACHE_MB, LOCK_PATIENCE, Missing, SCHEMA_VERSION, StoreError, absolute, exists, flush,
    open, open_async, open_with,
};

/// Opens the store the configuration names: the sled data directory (`Missing` decides
/// whether a missing one is created) or the PostgreSQL database (migrated; with
/// `Missing::Refuse` a database without the bot's tables is refused). Either way the stored
/// records' schema must be one this build reads.
pub async fn open_configured(
    config: &crate::config::StorageConfig,
    missing: Missing,
) -> Result<Store, StoreError> {
    match config.backend {
        crate::config::StorageBackend::Sled => Ok(Store::from(
            open_async(&config.path, missing, config.cache_mb).await?,
        )),
        crate::config::StorageBackend::Postgres => {
            let url = config.postgres_url.clone();
            let create = missing == Missing::Create;
            let store = tokio::task::spawn_blocking(move || {
                let pg = postgres::PgStore::connect_with(&url, create)?;
                check_schema(&Store::Postgres(pg.clone()))?;
                Ok::<_, StorageError>(pg)
            })
            .await
            .map_err(|e| StoreError::Postgres(std::io::Error::other(e.to_string()).into()))?
            .map_err(StoreError::Postgres)?;
            Ok(Store::Postgres(store))
        }
    }
}

/// Refuses records from a newer build; stamps a new store with this build's version.
fn check_schema(store: &Store) -> Result<(), StorageError> {
    let meta = store.tree("meta")?;
    match meta.get(b"schema_version")? {
        Some(bytes) => {
            let found = bytes
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .unwrap_or(u32::MAX);
            if found > SCHEMA_VERSION {
                return Err(StorageError::Postgres(format!(
                    "the database was written by a newer seedance-bot (records schema {found}, this build reads {SCHEMA_VERSION})"
                )));
            }
            Ok(())
        }
        None => meta.insert(b"schema_version", &SCHEMA_VERSION.to_be_bytes()),
    }
}

/// A storage failure, whichever backend had it. Its words never hold a password.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    Sled(#[from] sled::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The store: sled in a data directory, or a PostgreSQL database. Cheap to clone.
#[derive(Clone)]
pub enum Store {
    Sled(SledStore),
    Postgres(postgres::PgStore),
}

/// A sled database and the queue its transactions batch in (`sled_batch.rs`). Derefs to
/// the database.
#[derive(Clone)]
pub struct SledStore {
    db: sled::Db,
    batches: std::sync::Arc<sled_batch::Batches>,
}

impl std::ops::Deref for SledStore {
    type Target = sled::Db;
    fn deref(&self) -> &sled::Db {
        &self.db
    }
}

impl From<&sled::Db> for Store {
    fn from(db: &sled::Db) -> Store {
        Store::from(db.clone())
    }
}

impl From<sled::Db> for Store {
    fn from(db: sled::Db) -> Store {
        Store::Sled(SledStore {
            db,
            batches: Default::default(),
        })
    }
}

impl From<&Store> for Store {
    fn from(store: &Store) -> Store {
        store.clone()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend())
    }
}

impl Store {
    /// "sled" or "postgres", for the start line and `/healthz`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sled(_) => "sled",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Whether several processes may share this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// One named tree, for reads and for writes outside a transaction.
    pub fn tree(&self, name: &'static str) -> Result<Tree, StorageError> {
        Ok(match self {
            Store::Sled(db) => Tree::Sled(db.open_tree(name)?),
            Store::Postgres(pg) => Tree::Pg(pg.clone(), name),
        })
    }

    /// A view for reads that must agree with each other while other processes write
    /// (`verify`): on PostgreSQL one read-only snapshot transaction; sled is one process's
    /// store, read as it is. Blocking.
    pub fn snapshot(&self) -> Result<Store, StorageError> {
        match self {
            Store::Sled(_) => Ok(self.clone()),
            Store::Postgres(pg) => Ok(Store::Postgres(pg.snapshot()?)),
        }
    }

    /// The sled database, when this store is one (the group-commit flusher needs it).
    pub fn sled(&self) -> Option<&sled::Db> {
        match self {
            Store::Sled(sled) => Some(&sled.db),
            Store::Postgres(_) => None,
        }
    }

    /// Runs `body` as one transaction over `trees` (its view's tree `i` is `trees[i]`).
    /// The body may run more than once (a conflict is retried), so it must do no I/O of
    /// its own. Blocking: async code calls it from a blocking thread.
    pub fn transact<T: Send, E: Send>(
        &self,
        trees: &[&'static str],
        body: impl Fn(&dyn KvTx) -> Result<T, TxFail<E>> + Sync,
    ) -> Result<T, TxFail<E>> {
        let trees = trees
            .iter()
            .map(|name| self.tree(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(TxFail::Storage)?;
        self.transact_over(&trees, body)
    }

    /// [`Store::transact`] over trees opened once (the ledger keeps its own), so a hot
    /// path does not look every tree up again per transaction.
    pub fn transact_over<T: Send, E: Send>(
        &self,
        trees: &[Tree],
        body: impl Fn(&dyn KvTx) -> Result<T, TxFail<E>> + Sync,
    ) -> Result<T, TxFail<E>> {
        match self {
            Store::Sled(sled) => {
                let trees: Vec<sled::Tree> = trees
                    .iter()
                    .filter_map(|t| match t {
                        Tree::Sled(t) => Some(t.clone()),
                        Tree::Pg(..) => None,
                    })
                    .collect();
                sled_batch::transact(&sled.batches, trees, body)
            }
            Store::Postgres(pg) => {
                let names: Vec<&'static str> = trees
                    .iter()
                    .filter_map(|t| match t {
                        Tree::Pg(_, name) => Some(*name),
                        Tree::Sled(_) => None,
                    })
                    .collect();
                pg.transact(&names, body)
            }
        }
    }

    /// How many batches of transactions this handle has committed, the bodies they
    /// covered, and how many callers wait for one (`batch.rs`).
    pub fn batch_counts(&self) -> BatchCounts {
        match self {
            Store::Sled(sled) => sled.batches.counts(),
            Store::Postgres(pg) => pg.batch_counts(),
        }
    }

    /// Takes or renews the named lease for `owner` (see `postgres::PgStore::lease`); the
    /// name may be built at run time (`report:<job id>`). A sled store has one process,
    /// which always holds every lease.
    pub async fn lease(
        &self,
        name: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StorageError> {
        match self {
            Store::Sled(_) => Ok(true),
            Store::Postgres(pg) => {
                let (pg, name, owner) = (pg.clone(), name.to_owned(), owner.to_owned());
                blocking(move || pg.lease(&name, &owner, ttl)).await
            }
        }
    }

    /// How long ago the named lease ran out or was ended, in milliseconds (see
    /// `postgres::PgStore::since_lease_end`); `None` on sled, where no other process holds it.
    pub async fn since_lease_end(&self, name: &str) -> Result<Option<i64>, StorageError> {
        match self {
            Store::Sled(_) => Ok(None),
            Store::Postgres(pg) => {
                let (pg, name) = (pg.clone(), name.to_owned());
                blocking(move || pg.since_lease_end(&name)).await
            }
        }
    }

    /// Gives up a lease held by `owner`.
    pub async fn release(&self, name: &str, owner: &str) -> Result<(), StorageError> {
        match self {
            Store::Sled(_) => Ok(()),
            Store::Postgres(pg) => {
                let (pg, name, owner) = (pg.clone(), name.to_owned(), owner.to_owned());
                blocking(move || pg.release(&name, &owner)).await
            }
        }
    }

    /// Renews every lease of `names` that `owner` still holds, in one statement; returns
    /// the names renewed (a name missing from the answer passed to another owner).
    pub async fn renew_leases(
        &self,
        names: Vec<String>,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<Vec<String>, StorageError> {
        match self {
            Store::Sled(_) => Ok(names),
            Store::Postgres(pg) => {
                let (pg, owner) = (pg.clone(), owner.to_owned());
                blocking(move || pg.renew_leases(&names, &owner, ttl)).await
            }
        }
    }

    /// The names starting with `prefix` of leases that have run out and were not given
    /// up: work a process that stopped answering left behind. None on sled.
    pub async fn expired_leases(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        match self {
            Store::Sled(_) => Ok(Vec::new()),
            Store::Postgres(pg) => {
                let (pg, prefix) = (pg.clone(), prefix.to_owned());
                blocking(move || pg.expired_leases(&prefix)).await
            }
        }
    }

    /// The names of every tree holding data (sled's own default tree excluded).
    pub fn tree_names(&self) -> Result<Vec<String>, StorageError> {
        match self {
            Store::Sled(db) => Ok(db
                .tree_names()
                .into_iter()
                .map(|n| String::from_utf8_lossy(&n).into_owned())
                .filter(|n| n != "__sled__default")
                .collect()),
            Store::Postgres(pg) => pg.tree_names(),
        }
    }

    /// Makes every write so far durable. PostgreSQL commits are durable already.
    pub async fn flush(&self) -> Result<(), StorageError> {
        match self {
            Store::Sled(db) => Ok(sled_dir::flush(db).await?),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// A write that reaches the disk (sled) or the database (PostgreSQL), for `/healthz`.
    pub async fn probe(&self, now: i64) -> Result<(), StorageError> {
        let meta = self.tree("meta")?;
        let write = {
            let meta = meta.clone();
            move || meta.insert(b"health_probe", &now.to_be_bytes())
        };
        match tokio::task::spawn_blocking(write).await {
            Ok(result) => result?,
            Err(e) => return Err(StorageError::Io(std::io::Error::other(e.to_string()))),
        }
        self.flush().await
    }
}

/// Runs blocking store work off the async runtime's threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StorageError::Io(std::io::Error::other(e.to_string())))?
}

/// Why a transaction body stopped: the caller's own refusal (nothing is written), or a
/// conflict with a concurrent writer (the body is run again), or a storage failure.
#[derive(Debug)]
pub enum TxFail<E> {
    Abort(E),
    Conflict,
    Storage(StorageError),
}

impl<E> From<KvError> for TxFail<E> {
    fn from(e: KvError) -> TxFail<E> {
        match e {
            KvError::Conflict => TxFail::Conflict,
            KvError::Storage(e) => TxFail::Storage(e),
        }
    }
}

/// A read or write inside a transaction failed: a conflict (the whole body is retried) or
/// storage.
#[derive(Debug)]
pub enum KvError {
    Conflict,
    Storage(StorageError),
}

/// The transactional view a body runs over: `tree` is an index into the transaction's
/// tree list. Reads see the transaction's own writes; on PostgreSQL a read also locks the
/// row until the commit.
pub trait KvTx {
    fn get(&self, tree: usize, key: &[u8]) -> Result<Option<IVec>, KvError>;
    fn insert(&self, tree: usize, key: &[u8], value: &[u8]) -> Result<(), KvError>;
    fn remove(&self, tree: usize, key: &[u8]) -> Result<(), KvError>;
}
