//! `seedance-bot store copy`: moves an installation between backends (sled <-> PostgreSQL)
//! without losing a row, and proves it: the destination must be empty, every tree is copied
//! pair by pair, then both sides are counted and verified.

use std::process::ExitCode;

use secrecy::SecretString;

use crate::config::{Config, StorageBackend, StorageConfig};
use crate::credits::{Ledger, LedgerSettings};
use crate::store::{Missing, StorageError, Store, TxFail};

#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Copy every record from one store to another, empty one (stop the bot on a sled
    /// store first), then verify both.
    Copy {
        /// `sled:PATH` (a data directory) or `postgres:URL` (`postgres:` alone: the
        /// configured URL or DATABASE_URL).
        #[arg(long, value_name = "STORE")]
        from: String,
        /// Where to copy to, written the same way; must hold no records yet.
        #[arg(long, value_name = "STORE")]
        to: String,
    },
}

/// Pairs copied per transaction.
const BATCH: usize = 500;

pub async fn run(command: StoreCommand, config: &Config) -> ExitCode {
    match command {
        StoreCommand::Copy { from, to } => match copy(&from, &to, config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// A store named on the command line, as a storage configuration.
fn parse(spec: &str, config: &Config) -> Result<StorageConfig, String> {
    let mut storage = config.storage.clone();
    if let Some(path) = spec.strip_prefix("sled:") {
        if path.is_empty() {
            return Err("`sled:` needs the data directory: sled:PATH".into());
        }
        storage.backend = StorageBackend::Sled;
        storage.path = path.into();
    } else if let Some(url) = spec.strip_prefix("postgres:") {
        storage.backend = StorageBackend::Postgres;
        if !url.is_empty() {
            storage.postgres_url = SecretString::from(url.to_owned());
        }
        use secrecy::ExposeSecret;
        if storage.postgres_url.expose_secret().is_empty() {
            return Err(
                "`postgres:` needs a URL: postgres:URL, or storage.postgres_url / DATABASE_URL"
                    .into(),
            );
        }
    } else {
        return Err(format!(
            "`{}` names no store: write sled:PATH or postgres:URL",
            crate::store::postgres::mask_url(spec)
        ));
    }
    Ok(storage)
}

async fn copy(from: &str, to: &str, config: &Config) -> Result<(), String> {
    let (source, target) = (parse(from, config)?, parse(to, config)?);
    let source = crate::store::open_configured(&source, Missing::Refuse)
        .await
        .map_err(|e| format!("the source: {e}"))?;
    let target = crate::store::open_configured(&target, Missing::Create)
        .await
        .map_err(|e| format!("the destination: {e}"))?;
    let (source, target) = (source.clone(), target.clone());
    tokio::task::spawn_blocking(move || copy_blocking(&source, &target))
        .await
        .map_err(|e| e.to_string())?
}

fn copy_blocking(source: &Store, target: &Store) -> Result<(), String> {
    let storage = |e: StorageError| e.to_string();
    let occupied: Vec<String> = target
        .tree_names()
        .map_err(storage)?
        .into_iter()
        .filter(|name| name != "meta")
        .collect();
    if !occupied.is_empty() {
        return Err(format!(
            "the destination already holds records (in {}): copy only into an empty store",
            occupied.join(", ")
        ));
    }
    let mut total = 0usize;
    for name in source.tree_names().map_err(storage)? {
        // Tree names are 'static in the store's API: the copy leaks each name once.
        let name: &'static str = Box::leak(name.into_boxed_str());
        let mut batch = Vec::with_capacity(BATCH);
        let mut copied = 0usize;
        let flush = |batch: &mut Vec<(sled::IVec, sled::IVec)>| -> Result<(), String> {
            let pairs = std::mem::take(batch);
            target
                .transact(&[name], |kv| {
                    for (key, value) in &pairs {
                        kv.insert(0, key, value)?;
                    }
                    Ok::<_, TxFail<()>>(())
                })
                .map_err(|e| match e {
                    TxFail::Storage(e) => e.to_string(),
                    _ => "the copy conflicted with another writer".into(),
                })
        };
        for pair in source.tree(name).map_err(storage)?.iter() {
            batch.push(pair.map_err(storage)?);
            copied += 1;
            if batch.len() == BATCH {
                flush(&mut batch)?;
            }
        }
        if !batch.is_empty() {
            flush(&mut batch)?;
        }
        let counted = target.tree(name).map_err(storage)?.iter().count();
        if counted != copied {
            return Err(format!(
                "tree {name}: copied {copied} records but the destination holds {counted}"
            ));
        }
        println!("{name}: {copied} records");
        total += copied;
    }
    if let Some(db) = target.sled() {
        db.flush().map_err(|e| e.to_string())?;
    }
    for (side, store) in [("source", source), ("destination", target)] {
        let ledger = Ledger::open(store.clone(), LedgerSettings::default())
            .map_err(|e| format!("the {side}: {e}"))?;
        let problems = ledger.verify().map_err(|e| format!("the {side}: {e}"))?;
        if !problems.is_empty() {
            return Err(format!(
                "the {side} does not verify:\n  {}",
                problems.join("\n  ")
            ));
        }
    }
    println!("copied {total} records; both stores verify");
    Ok(())
}
