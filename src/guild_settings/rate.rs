//! A per-member command rate limit: a small token bucket per member, kept in memory.
//!
//! Each member may use `burst` commands at once; tokens come back at `burst` per `window`.
//! A restart forgets the buckets, which only ever lets a member do more, never less.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::ids::MemberId;

/// How many buckets may exist before idle (full) ones are dropped.
const PRUNE_AT: usize = 10_000;

/// A member used commands faster than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "you are using commands too fast (at most {burst} every {window_secs} s): wait {wait_secs} s and try again"
)]
pub struct RateLimited {
    pub burst: u32,
    pub window_secs: u64,
    pub wait_secs: u64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    /// The last request counted and its outcome: asking again for it costs nothing.
    last: Option<(u64, Result<(), RateLimited>)>,
}

/// The buckets of every member.
pub struct CommandRate {
    burst: u32,
    window: Duration,
    buckets: Mutex<HashMap<MemberId, Bucket>>,
}

impl CommandRate {
    /// `burst` commands per `window` for each member; a `burst` of 0 turns the limit off.
    pub fn new(burst: u32, window: Duration) -> CommandRate {
        CommandRate {
            burst,
            window,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `member`'s request `request` (e.g. an interaction id), or says how
    /// long to wait. Asking again about the same request gives the same answer for free
    /// (a framework may check a subcommand and each of its parents).
    pub fn check(&self, member: MemberId, request: u64) -> Result<(), RateLimited> {
        if self.burst == 0 || self.window.is_zero() {
            return Ok(());
        }
        let burst = f64::from(self.burst);
        let per_sec = burst / self.window.as_secs_f64();
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate buckets");
        if buckets.len() >= PRUNE_AT {
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < burst);
        }
        let bucket = buckets.entry(member).or_insert(Bucket {
            tokens: burst,
            at: now,
            last: None,
        });
        if let Some((last, outcome)) = bucket.last
            && last == request
        {
            return outcome;
        }
        let refilled = bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_sec;
        bucket.tokens = refilled.min(burst);
        bucket.at = now;
        let outcome = if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_sec;
            Err(RateLimited {
                burst: self.burst,
                window_secs: self.window.as_secs().max(1),
                wait_secs: wait.ceil().max(1.0) as u64,
            })
        };
        bucket.last = Some((request, outcome));
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_member_gets_burst_commands_then_waits_for_a_refill() {
        let rate = CommandRate::new(5, Duration::from_secs(10));
        let (a, b) = (MemberId(1), MemberId(2));
        for i in 0..5 {
            rate.check(a, i).unwrap();
            rate.check(a, i).unwrap();
        }
        let e = rate.check(a, 5).unwrap_err();
        assert_eq!(e.wait_secs, 2);
        rate.check(b, 6).unwrap();
        tokio::time::advance(Duration::from_secs(2)).await;
        rate.check(a, 7).unwrap();
        assert!(rate.check(a, 8).is_err());
    }
}
