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
        "the data directory {path} was written by a newer seedance-bot (schema {found}, this build reads {SCHEMA_VERSION})"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("the data directory {path} could not be opened: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
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

/// Opens (creating if needed) the store at `path` and checks its schema version.
///
/// A store that was closed a moment ago may still be locked while sled's background
/// threads let go of it (a quick restart, a CLI call right after the bot stopped): a lock
/// is retried for up to [`LOCK_PATIENCE`] before it is reported as "in use".
pub fn open(path: &Path) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    let db = loop {
        match open_once(path) {
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

/// How long [`open`] waits for a lock that is about to be released.
pub const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

fn open_once(path: &Path) -> Result<sled::Db, StoreError> {
    sled::Config::new().path(path).open().map_err(|source| {
        let locked = matches!(&source, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock)
            || source.to_string().contains("lock");
        if locked {
            StoreError::Locked(path.to_owned())
        } else {
            StoreError::Open { path: path.to_owned(), source }
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
