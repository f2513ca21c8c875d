//! A sliding-window call budget: at most `limit` calls in any `window`, plus a pause the
//! provider can impose with Retry-After. Time is tokio's, so tests can pause it.
//!
//! A call may be reserved some time before it is sent (a createTask waits for its job's
//! `submitting` write first). A reservation holds its place until the call is sent, and the
//! window counts the call from the moment it is sent: so the budget holds where the provider
//! counts, at the calls' arrival, however long the writes before them take.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct CallBudget {
    limit: usize,
    window: Duration,
    /// Times of the calls still inside the window, oldest first.
    recent: VecDeque<Instant>,
    /// Calls reserved and not yet sent (or given up).
    reserved: usize,
    paused_until: Option<Instant>,
}

impl CallBudget {
    pub fn new(limit: u32, window: Duration) -> CallBudget {
        CallBudget {
            limit: limit.max(1) as usize,
            window,
            recent: VecDeque::new(),
            reserved: 0,
            paused_until: None,
        }
    }

    /// Reserves one call if the budget allows one now; the caller then says
    /// [`CallBudget::sent`] or [`CallBudget::unreserve`].
    pub fn try_reserve(&mut self, now: Instant) -> bool {
        if self.next_free(now) > now {
            return false;
        }
        self.reserved += 1;
        true
    }

    /// A reserved call went out now.
    pub fn sent(&mut self, now: Instant) {
        self.reserved = self.reserved.saturating_sub(1);
        self.recent.push_back(now);
    }

    /// A reserved call will not be sent: its place is free again.
    pub fn unreserve(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }

    /// Counts the whole budget as spent at `at`: no call before `at + window`. For a process
    /// taking over from another one, whose recent calls it cannot see.
    pub fn fill(&mut self, at: Instant) {
        self.recent.clear();
        self.recent.extend(std::iter::repeat_n(at, self.limit));
    }

    /// Takes one call from the budget if it allows one now.
    pub fn try_take(&mut self, now: Instant) -> bool {
        if self.next_free(now) > now {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    /// The earliest moment a call is allowed (now, if it is allowed now).
    pub fn next_free(&mut self, now: Instant) -> Instant {
        while let Some(&oldest) = self.recent.front() {
            if now.duration_since(oldest) >= self.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        // Free once enough of the sent calls left the window; while reservations alone fill
        // it, only a send can change that, so look again a window later at the latest.
        let used = self.recent.len() + self.reserved;
        let by_window = if used < self.limit {
            now
        } else {
            match self.recent.get(used - self.limit) {
                Some(&oldest) => oldest + self.window,
                None => now + self.window,
            }
        };
        match self.paused_until {
            Some(until) if until > by_window => until,
            _ => by_window,
        }
    }

    /// Stops all calls until `until` (a 429 with Retry-After).
    pub fn pause_until(&mut self, until: Instant) {
        if self.paused_until.is_none_or(|p| p < until) {
            self.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_limit_in_any_window() {
        let mut budget = CallBudget::new(3, Duration::from_secs(1));
        let start = Instant::now();
        let mut taken = Vec::new();
        // Try every 10 ms for 5 s.
        for _ in 0..500 {
            let now = Instant::now();
            if budget.try_take(now) {
                taken.push(now);
            }
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        for (i, t) in taken.iter().enumerate() {
            let in_window = taken[i..]
                .iter()
                .filter(|u| u.duration_since(*t) < Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 3,
                "{in_window} calls within a second starting at {:?}",
                t.duration_since(start)
            );
        }
        // And the budget is used, not starved: 3 per second over 5 s.
        assert_eq!(taken.len(), 15);
    }

    /// Reserved calls sent late, out of order and some given up: the sends never exceed the
    /// limit in any window, counted when they go out.
    #[tokio::test(start_paused = true)]
    async fn reservations_count_until_sent_and_the_window_from_the_send() {
        let window = Duration::from_secs(1);
        let mut budget = CallBudget::new(2, window);
        let t0 = Instant::now();
        assert!(budget.try_reserve(t0));
        assert!(budget.try_reserve(t0));
        // Both places are held while neither call is out.
        assert!(!budget.try_reserve(t0));
        tokio::time::advance(Duration::from_millis(900)).await;
        let a = Instant::now();
        budget.sent(a);
        // A window after the reservations, one call is still on its way: one place only.
        tokio::time::advance(Duration::from_millis(200)).await;
        assert!(!budget.try_reserve(Instant::now()));
        budget.sent(Instant::now());
        assert!(!budget.try_reserve(Instant::now()));
        // Free once the first send leaves the window, counted from the send, not the
        // reservation.
        assert_eq!(budget.next_free(Instant::now()), a + window);
        tokio::time::advance(a + window - Instant::now()).await;
        assert!(budget.try_reserve(Instant::now()));
        // A reservation given up frees its place at once.
        assert!(!budget.try_reserve(Instant::now()));
        budget.unreserve();
        assert!(budget.try_reserve(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_filled_budget_waits_a_whole_window_from_then() {
        let mut budget = CallBudget::new(5, Duration::from_secs(10));
        let now = Instant::now();
        tokio::time::advance(Duration::from_secs(4)).await;
        budget.fill(now);
        assert!(!budget.try_take(Instant::now()));
        assert_eq!(
            budget.next_free(Instant::now()),
            now + Duration::from_secs(10)
        );
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(budget.try_take(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pause_holds_every_call() {
        let mut budget = CallBudget::new(10, Duration::from_secs(1));
        let now = Instant::now();
        budget.pause_until(now + Duration::from_secs(5));
        assert!(!budget.try_take(now));
        assert_eq!(budget.next_free(now), now + Duration::from_secs(5));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(budget.try_take(Instant::now()));
    }
}
