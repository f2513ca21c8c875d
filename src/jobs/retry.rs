//! The one retry policy for the job queue: when a failed createTask is sent again and when
//! it stops, and when an undelivered final report is tried again. Delays come from
//! `backon`'s exponential backoff with jitter; the decisions are plain functions the
//! scheduler (and the CLI's `generate`) call.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::seedance::SeedanceError;

/// The longest wait between two tries of a final report.
const MAX_DELIVERY_DELAY: Duration = Duration::from_secs(300);
/// The longest wait a member's job makes before its next createTask.
const MAX_CREATE_DELAY: Duration = Duration::from_secs(30);

/// What to do after a createTask failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateRetry {
    /// Send it again after `after`. `unknown`: this failure may have made a task upstream
    /// (it counts against the bound). `pause_all`: the provider throttled the whole
    /// account, so every job waits, not just this one.
    Again {
        after: Duration,
        unknown: bool,
        pause_all: bool,
    },
    /// Stop: the job fails and its credits go back. `pause_all` as above.
    GiveUp { unknown: bool, pause_all: bool },
}

/// The retry policy, from the configuration.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The first wait; later ones double (with jitter) up to their maximum.
    pub initial: Duration,
    /// Tries of createTask whose outcome is unknown, in all (`jobs.create_attempts`).
    pub create_attempts: u32,
}

impl RetryPolicy {
    /// Decides after createTask failed with `error`, when `unknown_before` earlier tries of
    /// this job already ended with an unknown outcome.
    pub fn after_create_error(&self, error: &SeedanceError, unknown_before: u32) -> CreateRetry {
        let pause_all = matches!(
            error,
            SeedanceError::RateLimited { .. }
                | SeedanceError::Auth { .. }
                | SeedanceError::OutOfCredits { .. }
        );
        if !error.retryable() {
            return CreateRetry::GiveUp {
                unknown: false,
                pause_all,
            };
        }
        let unknown = !error.resubmit_safe();
        let tries = unknown_before + u32::from(unknown);
        if unknown && tries >= self.create_attempts {
            return CreateRetry::GiveUp { unknown, pause_all };
        }
        let backoff = self.delay(tries.saturating_sub(1), MAX_CREATE_DELAY);
        CreateRetry::Again {
            after: error
                .retry_after()
                .map_or(backoff, |asked| asked.max(backoff)),
            unknown,
            pause_all,
        }
    }

    /// The wait before try `attempts + 1` of a final report, never shorter than the
    /// receiver asked for.
    pub fn delivery_delay(&self, attempts: u32, asked: Option<Duration>) -> Duration {
        let backoff = self.delay(attempts.saturating_sub(1), MAX_DELIVERY_DELAY);
        asked.map_or(backoff, |asked| asked.max(backoff))
    }

    /// The `n`th wait (0-based) of an exponential backoff from `initial` up to `max`.
    fn delay(&self, n: u32, max: Duration) -> Duration {
        let initial = self.initial.min(max);
        ExponentialBuilder::default()
            .with_min_delay(initial)
            .with_max_delay(max)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(n as usize)
            .unwrap_or(max)
            .min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial: Duration::from_secs(1),
            create_attempts: 3,
        }
    }

    fn fault() -> SeedanceError {
        SeedanceError::ProviderFault {
            status: 500,
            message: "boom".into(),
        }
    }

    #[test]
    fn an_unknown_outcome_is_tried_at_most_create_attempts_times() {
        let p = policy();
        assert!(matches!(
            p.after_create_error(&fault(), 0),
            CreateRetry::Again { unknown: true, .. }
        ));
        assert!(matches!(
            p.after_create_error(&fault(), 1),
            CreateRetry::Again { unknown: true, .. }
        ));
        assert_eq!(
            p.after_create_error(&fault(), 2),
            CreateRetry::GiveUp {
                unknown: true,
                pause_all: false
            }
        );
        assert!(matches!(
            p.after_create_error(&SeedanceError::Timeout, 2),
            CreateRetry::GiveUp { .. }
        ));
    }

    #[test]
    fn a_refusal_that_proves_no_task_is_retried_and_honours_retry_after() {
        let p = policy();
        let limited = SeedanceError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
            message: "slow down".into(),
        };
        match p.after_create_error(&limited, 2) {
            CreateRetry::Again {
                after,
                unknown,
                pause_all,
            } => {
                assert!(after >= Duration::from_secs(7));
                assert!(!unknown);
                assert!(pause_all, "a 429 throttles the whole account");
            }
            other => panic!("{other:?}"),
        }
        let busy = SeedanceError::Busy {
            message: "too many".into(),
        };
        assert!(matches!(
            p.after_create_error(&busy, 2),
            CreateRetry::Again {
                unknown: false,
                pause_all: false,
                ..
            }
        ));
        let refused = SeedanceError::Unreachable("connection refused".into());
        assert!(matches!(
            p.after_create_error(&refused, 5),
            CreateRetry::Again { unknown: false, .. }
        ));
    }

    #[test]
    fn a_refusal_of_the_request_or_account_stops_at_once() {
        let p = policy();
        let invalid = SeedanceError::InvalidRequest {
            status: 422,
            message: "prohibited".into(),
        };
        assert_eq!(
            p.after_create_error(&invalid, 0),
            CreateRetry::GiveUp {
                unknown: false,
                pause_all: false
            }
        );
        let broke = SeedanceError::OutOfCredits {
            message: "top up".into(),
        };
        assert_eq!(
            p.after_create_error(&broke, 0),
            CreateRetry::GiveUp {
                unknown: false,
                pause_all: true
            }
        );
    }

    #[test]
    fn delays_grow_within_their_bounds() {
        let p = policy();
        let first = p.delivery_delay(1, None);
        assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
        let late = p.delivery_delay(30, None);
        assert!(late <= MAX_DELIVERY_DELAY);
        assert!(late >= Duration::from_secs(150));
        assert_eq!(
            p.delivery_delay(1, Some(Duration::from_secs(40))),
            Duration::from_secs(40)
        );
    }
}
