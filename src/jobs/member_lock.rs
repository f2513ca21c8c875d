//! One lock per member, for the checks a submission makes before its reservation (the
//! member's active-job limit and cooldown, read from the scheduler's index): a member's
//! submissions go one at a time, different members' go side by side, so their durable
//! writes can share a flush (group commit) instead of queueing behind one global lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::ids::MemberId;

#[derive(Default)]
pub(super) struct MemberLocks {
    locks: Mutex<HashMap<MemberId, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while a member's submission is checked and reserved; frees its entry when the last
/// holder lets go, so idle members cost nothing.
pub(super) struct MemberGuard<'a> {
    owner: &'a MemberLocks,
    member: MemberId,
    guard: Option<OwnedMutexGuard<()>>,
}

impl MemberLocks {
    pub async fn lock(&self, member: MemberId) -> MemberGuard<'_> {
        let lock = self
            .locks
            .lock()
            .expect("member locks")
            .entry(member)
            .or_default()
            .clone();
        MemberGuard {
            owner: self,
            member,
            guard: Some(lock.lock_owned().await),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.locks.lock().expect("member locks").len()
    }
}

impl Drop for MemberGuard<'_> {
    fn drop(&mut self) {
        let mut locks = self.owner.locks.lock().expect("member locks");
        self.guard.take();
        // Under the map's lock nobody can take a new handle, so a count of one (the map's
        // own) means nobody waits for this member any more.
        if locks
            .get(&self.member)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.member);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_member_waits_for_itself_not_for_others() {
        let locks = Arc::new(MemberLocks::default());
        let first = locks.lock(MemberId(1)).await;
        // Another member goes ahead at once.
        let other = tokio::time::timeout(Duration::from_secs(5), locks.lock(MemberId(2))).await;
        assert!(other.is_ok(), "a second member waited for the first");
        drop(other);
        // The same member waits until the first lets go.
        let waiting = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _again = locks.lock(MemberId(1)).await;
            })
        };
        let mut waiting = waiting;
        let early = tokio::time::timeout(Duration::from_millis(100), &mut waiting).await;
        assert!(early.is_err(), "the same member did not wait");
        drop(first);
        waiting.await.unwrap();
        assert_eq!(locks.len(), 0, "idle members keep an entry");
    }
}
