//! The one wall clock: unix milliseconds, read in one place so every part of the bot
//! agrees on "now", and a [`Clock`] handle that tests replace to move time themselves.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in unix milliseconds. The bot uses [`system`]; tests pass their own.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Now, in unix milliseconds. A system clock set before 1970 reads as 0 rather than
/// failing: nothing the bot stores is older than its first start.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The system clock as a [`Clock`].
pub fn system() -> Clock {
    Arc::new(now_ms)
}
