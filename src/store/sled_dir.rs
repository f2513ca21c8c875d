//! The data directory: one sled database shared by the ledger and the job queue.
//!
//! Only one process may hold it; a second gets a clear message instead of sled's lock error.

use std::path::{Path, PathBuf};

/// The current layout of stored records. Records carry it so later versions can migrate.
pub const SCHEMA_VERSION: u32 = 1;

const META_TREE: &str = "meta";
const SCHEMA_KEY: &[u8] = b"schema_version";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data directory {0} is in use: is another seedance-bot running on it? Stop it first"
    )]
    Locked(PathBuf),
    #[error(
        "no seedance-bot store at {}: {}; point at the bot's data directory with --config FILE (its storage.path) or SEEDANCE_BOT__STORAGE__PATH, or start the bot once with `seedance-bot run` to create it",
        path.display(),
        if *directory_exists { "the directory holds no store" } else { "the directory does not exist" }
    )]
    NotFound {
        path: PathBuf,
        directory_exists: bool,
    },
    #[error(
        "the data directory {path} was written by a newer seedance-bot (schema {found}, this build reads {SCHEMA_VERSION})"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("the data directory {path} could not be opened: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("the PostgreSQL store could not be opened: {0}")]
    Postgres(super::StorageError),
}

/// Makes every write so far durable, on a blocking thread. One flush covers the whole
/// database. (sled 0.34.7's `flush_async` deadlocks when several run at once: its flushes
/// wait for a log write that needs the very pool threads they occupy.)
pub async fn flush(tree: &sled::Tree) -> Result<(), sled::Error> {
    let tree = tree.clone();
    match tokio::task::spawn_blocking(move || tree.flush()).await {
        Ok(result) => result.map(|_| ()),
        Err(e) => Err(sled::Error::ReportableBug(format!(
            "flush task failed: {e}"
        ))),
    }
}

/// Whether a missing store may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The bot itself (`run`) and tests: a first start makes the store.
    Create,
    /// The offline commands: a missing store means the wrong directory (a typo, another
    /// working directory), and a new empty one would hide credits where the bot never looks.
    Refuse,
}

/// Opens (creating if needed) the store at `path` and checks its schema version. Blocking:
/// async code uses [`open_async`].
pub fn open(path: &Path) -> Result<sled::Db, StoreError> {
    open_with(path, Missing::Create, DEFAULT_CACHE_MB)
}

/// The store's cache when the configuration does not say (`storage.cache_mb`).
pub const DEFAULT_CACHE_MB: u64 = 16;

/// [`open_with`] on a blocking thread, so the lock retry never stalls the async runtime.
pub async fn open_async(
    path: &Path,
    missing: Missing,
    cache_mb: u64,
) -> Result<sled::Db, StoreError> {
    let owned = path.to_owned();
    match tokio::task::spawn_blocking(move || open_with(&owned, missing, cache_mb)).await {
        Ok(result) => result,
        Err(e) => Err(StoreError::Sled(sled::Error::ReportableBug(format!(
            "the store could not be opened: {e}"
        )))),
    }
}

/// Opens the store at `path`, creating it only when `missing` allows, and checks its schema
/// version.
///
/// A store that was closed a moment ago may still be locked while sled's background
/// threads let go of it (a quick restart, a CLI call right after the bot stopped): a lock
/// is retried for up to [`LOCK_PATIENCE`] before it is reported as "in use".
/// sled keeps at most `cache_mb` MiB of the store in memory.
pub fn open_with(path: &Path, missing: Missing, cache_mb: u64) -> Result<sled::Db, StoreError> {
    if missing == Missing::Refuse && !exists(path) {
        return Err(StoreError::NotFound {
            path: absolute(path),
            directory_exists: path.is_dir(),
        });
    }
    let started = std::time::Instant::now();
    let db = loop {
        match open_once(path, cache_mb) {
            Err(StoreError::Locked(_)) if started.elapsed() < LOCK_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other?,
        }
    };
    let meta = db.open_tree(META_TREE)?;
    match meta.get(SCHEMA_KEY)? {
        Some(bytes) => {
            let found = bytes
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .unwrap_or(u32::MAX);
            if found > SCHEMA_VERSION {
                return Err(StoreError::TooNew {
                    path: path.to_owned(),
                    found,
                });
            }
        }
        None => {
            meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
            db.flush()?;
        }
    }
    Ok(db)
}

/// Whether `path` holds a sled store (sled writes its `conf` and `db` files on creation).
pub fn exists(path: &Path) -> bool {
    path.join("conf").is_file() && path.join("db").is_file()
}

/// `path` made absolute against the working directory, for messages and logs (the
/// default `storage.path` is relative, so where it lands depends on where the bot starts).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// How long [`open`] waits for a lock that is about to be released.
pub const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

fn open_once(path: &Path, cache_mb: u64) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(cache_mb.saturating_mul(1024 * 1024));
    config.open().map_err(|source| {
        let locked = matches!(&source, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock)
            || source.to_string().contains("lock");
        if locked {
            StoreError::Locked(absolute(path))
        } else {
            StoreError::Open { path: absolute(path), source }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_of_the_same_directory_says_it_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _db = open(dir.path()).unwrap();
        let err = open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Locked(_)), "{err:?}");
        assert!(err.to_string().contains("another seedance-bot"), "{err}");
    }

    /// A lock held by this very task must not stall the runtime while `open_async` waits:
    /// on one thread, the drop that releases it only runs if the wait yields.
    #[tokio::test(flavor = "current_thread")]
    async fn the_lock_wait_does_not_block_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let held = open(dir.path()).unwrap();
        let release = tokio::spawn(async move {
            tokio::task::yield_now().await;
            drop(held);
        });
        let db = open_async(dir.path(), Missing::Refuse, DEFAULT_CACHE_MB).await;
        assert!(db.is_ok(), "{:?}", db.err());
        release.await.unwrap();
    }

    #[test]
    fn a_missing_store_is_created_only_when_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let err = open_with(&path, Missing::Refuse, DEFAULT_CACHE_MB).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NotFound {
                    directory_exists: false,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!path.exists());
        drop(open_with(&path, Missing::Create, DEFAULT_CACHE_MB).unwrap());
        assert!(exists(&path));
    }

    #[test]
    fn refuses_a_store_from_a_newer_build() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = open(dir.path()).unwrap();
            let meta = db.open_tree(META_TREE).unwrap();
            meta.insert(SCHEMA_KEY, &(SCHEMA_VERSION + 1).to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        let err = open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err:?}");
    }
}
