//! Claims on final reports, when several processes share the store (PostgreSQL): one live
//! process at a time delivers a job's final report, and a report left behind by a process
//! that died is taken over once its claim has run out.
//!
//! A claim is the store's lease named `report:<job id>` (table `seedance_leases`, timed by
//! the database's clock), owned by this process under the same name as the scheduler lease
//! and living as long (`2 × (seedance.request_timeout + 1 s)`):
//!
//! - a process takes the claim **before** it tries to end a job (every ending: a poll's
//!   answer, a deadline, a member's Cancel, an admin's Reject, an approval's expiry), so a
//!   job is never ended without its report claimed while the ending process lives;
//! - every try of a report starts by taking (or renewing) the claim and reading the job
//!   again under it; the claim is renewed every quarter of its life while the report is in
//!   flight or waiting for its next try, and given up once the report is recorded delivered
//!   or failed for good (or turns out not to be owed);
//! - a try that cannot take the claim (another live process holds it) sends nothing: it
//!   checks again once that claim could have run out (or at the report's next try, if that
//!   is later), and stops watching once the store has the report delivered or failed;
//! - the holder of the scheduler lease takes over what was left behind: claims that ran
//!   out (read from the lease table every quarter of a claim's life: only the reports in
//!   flight are there, never a scan of the jobs), jobs its live-set sync sees end in another
//!   process (checked once that process's claim could have run out), and at a takeover every
//!   ended job whose report is owed (`recover`).
//!
//! With the guarded write that records a delivery, each report is sent by one process at a
//! time. A process that stalls longer than its claim's life (its renewals failing) may find
//! another one sending the same report: the message's nonce (`enforce_nonce`) makes that a
//! single message on Discord. On sled one process holds every claim and nothing here touches
//! the store.

use std::collections::HashSet;

use tokio::time::Instant;

use super::Jobs;
use crate::jobs::model::JobId;

/// Claims' names in the lease table: this prefix and the job's id.
const PREFIX: &str = "report:";

fn lease_name(id: &JobId) -> String {
    format!("{PREFIX}{}", id.0)
}

impl Jobs {
    /// Takes or renews the claim on `id`'s final report; whether this process holds it now.
    /// A store that cannot answer leaves the report to a later try.
    pub(super) async fn claim_report(&self, id: &JobId) -> bool {
        let fleet = &self.inner.fleet;
        if !fleet.is_shared() {
            return true;
        }
        let store = self.inner.ledger.store();
        match store
            .lease(&lease_name(id), fleet.owner(), fleet.ttl())
            .await
        {
            Ok(held) => {
                let mut claims = fleet.claims.lock().expect("claims lock");
                if held {
                    claims.insert(id.clone());
                } else {
                    claims.remove(id);
                }
                held
            }
            Err(e) => {
                tracing::error!(job_id = %id, error = %e, "could not claim a final report; it is tried again later");
                false
            }
        }
    }

    /// Gives up the claim on `id`'s report, if this process holds it.
    pub(super) async fn release_report(&self, id: &JobId) {
        let fleet = &self.inner.fleet;
        if !fleet.claims.lock().expect("claims lock").remove(id) {
            return;
        }
        let store = self.inner.ledger.store();
        if let Err(e) = store.release(&lease_name(id), fleet.owner()).await {
            // It runs out, and the scheduler's holder finds the report recorded.
            tracing::warn!(job_id = %id, error = %e, "could not give up the claim on a final report; it runs out");
        }
    }

    /// Stops renewing the claim on `id`'s report without giving it up: it runs out and the
    /// scheduler's holder takes the report over (used when its outcome could not be
    /// recorded, so that a process whose store answers again records it).
    pub(super) fn abandon_claim(&self, id: &JobId) {
        let fleet = &self.inner.fleet;
        fleet.claims.lock().expect("claims lock").remove(id);
    }

    /// Renews every claim this process holds, in one statement.
    pub(super) async fn keep_claims(&self) {
        let fleet = &self.inner.fleet;
        let ids: Vec<JobId> = fleet
            .claims
            .lock()
            .expect("claims lock")
            .iter()
            .cloned()
            .collect();
        if ids.is_empty() {
            return;
        }
        let names: Vec<String> = ids.iter().map(lease_name).collect();
        let store = self.inner.ledger.store();
        match store.renew_leases(names, fleet.owner(), fleet.ttl()).await {
            Ok(renewed) => {
                let renewed: HashSet<String> = renewed.into_iter().collect();
                for id in ids.iter().filter(|id| !renewed.contains(&lease_name(id))) {
                    // Its next try finds the claim taken and leaves the report to its holder.
                    tracing::warn!(job_id = %id, "the claim on a final report ran out and passed to another process");
                }
            }
            Err(e) => tracing::error!(error = %e, "could not renew the claims on final reports"),
        }
    }

    /// The scheduler's holder: takes over the reports whose claims ran out (their process
    /// died or stopped) and tries them now.
    pub(super) async fn adopt_left_reports(&self) {
        let store = self.inner.ledger.store();
        let names = match store.expired_leases(PREFIX).await {
            Ok(names) => names,
            Err(e) => {
                tracing::error!(error = %e, "could not read the claims on final reports");
                return;
            }
        };
        for name in names {
            let Some(id) = name.strip_prefix(PREFIX).map(|id| JobId(id.to_owned())) else {
                continue;
            };
            if self.claim_report(&id).await {
                tracing::info!(job_id = %id, "took over a final report whose claim ran out");
                self.deliver_at(id, Instant::now());
            }
        }
    }
}
