//! Reading jobs: one by id, a server's newest, a member's active ones, and a waiting job's
//! place in the queue.

use std::time::Duration;

use super::{JobId, JobRecord, Jobs};
use crate::ids::{GuildId, MemberId};

impl Jobs {
    /// A stored job by id.
    pub fn get(&self, id: &JobId) -> Option<JobRecord> {
        self.inner
            .ledger
            .jobs_tree()
            .get(id.0.as_bytes())
            .ok()
            .flatten()
            .and_then(|bytes| JobRecord::from_bytes(&bytes).ok())
    }

    /// The newest jobs of a server, optionally of one member, newest first.
    pub fn recent(&self, guild: GuildId, member: Option<MemberId>, limit: usize) -> Vec<JobRecord> {
        match self.inner.ledger.recent_jobs(guild, member, None, limit) {
            Ok(ids) => ids
                .into_iter()
                .filter_map(|j| self.get(&JobId(j.id)))
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, guild = %guild, "the recent jobs index could not be read");
                Vec::new()
            }
        }
    }

    /// Active (queued or running) jobs of a member, in any server.
    pub fn active_for(&self, member: MemberId) -> Vec<JobRecord> {
        // From the store, not this process's scheduler: on a shared store another process
        // may run the member's jobs.
        let ids = match self.inner.ledger.active_jobs(member) {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(error = %e, "could not read a member's live jobs");
                return Vec::new();
            }
        };
        ids.into_iter()
            .filter_map(|id| self.get(&JobId(id)))
            .filter(|j| !j.state.is_terminal())
            .collect()
    }

    /// Place in the local queue (1 = next) and the estimated wait, if the job is waiting.
    pub fn queue_position(&self, id: &JobId) -> Option<(usize, Duration)> {
        let sched = self.inner.sched.lock().expect("scheduler lock");
        let position = sched.queue.position(id)?;
        Some((
            position,
            sched.estimate_wait(position, self.inner.settings.max_running),
        ))
    }
}
