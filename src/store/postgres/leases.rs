//! The named leases (`seedance_leases`): the scheduler lease and the claims on final
//! reports, each held by one owner until it runs out, timed by the database's clock.

use super::PgStore;
use crate::store::StorageError;

/// The database's clock in unix millis: every lease is timed by it, so the processes'
/// own clocks never have to agree.
const DB_NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

impl PgStore {
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
}
