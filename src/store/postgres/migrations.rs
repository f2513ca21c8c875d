//! The schema: the migrations embedded in the build, run at open (and by `seedance-bot
//! migrate`) under an advisory lock so processes starting together migrate once.

use postgres::{Client, NoTls};

use super::PgStore;
use crate::store::StorageError;

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

impl PgStore {
    /// Brings the database's tables up to this build's schema (also `seedance-bot migrate`).
    pub fn migrate(&self) -> Result<(), StorageError> {
        self.migrate_with(true)
    }

    pub(super) fn migrate_with(&self, create: bool) -> Result<(), StorageError> {
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
