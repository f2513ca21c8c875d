//! A sliding-window call budget: at most `limit` calls in any `window`, plus a pause the
//! provider can impose with Retry-After. Time is tokio's, so tests can pause it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct CallBudget {
    limit: usize,
    window: Duration,
    /// Times of the calls still inside the window, oldest first.
    recent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl CallBudget {
    pub fn new(limit: u32, window: Duration) -> CallBudget {
        CallBudget {
            limit: limit.max(1) as usize,
            window,
            recent: VecDeque::new(),
            paused_until: None,
        }
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
        let by_window = if self.recent.len() < self.limit {
            now
        } else {
            self.recent[self.recent.len() - self.limit] + self.window
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
