//! Why a ledger call was refused or failed. User-caused refusals (not enough credits, the
//! daily cap) are separate variants from storage trouble; messages are written for a member.

use super::HoldState;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the pool has {available} credits available and this video needs {needed}")]
    InsufficientCredits { available: u64, needed: u64 },
    #[error(
        "you have used {used_today} of your {cap} daily credits and this video needs {needed}; \
         your allowance resets at {}", format_utc(*resets_at)
    )]
    DailyCapReached {
        cap: u64,
        used_today: u64,
        needed: u64,
        /// Unix millis of the next midnight UTC.
        resets_at: i64,
    },
    #[error("the member already has {active} job(s) in progress (the latest is `{latest}`)")]
    TooManyActive { active: usize, latest: String },
    #[error("the member's cooldown in this server ends at {}", format_utc(*ready_at))]
    Cooldown { ready_at: i64 },
    #[error("there is no credit hold for `{0}`")]
    UnknownHold(String),
    #[error("the credit hold `{key}` is already {state}")]
    AlreadyResolved { key: String, state: HoldState },
    #[error("cannot settle {requested} credits on a hold of {held}")]
    SettleExceedsHold { held: u64, requested: u64 },
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    #[error("credit storage failed: {0}")]
    Storage(#[from] crate::store::StorageError),
    #[error("credit records are damaged: {0}")]
    Corrupt(String),
    /// A job change's guard refused (the job is no longer in the state the change needs),
    /// so nothing was written and no money moved.
    #[error("the job changed meanwhile: {0}")]
    JobMoved(String),
}

impl LedgerError {
    /// True for refusals a member caused and can read; false for faults to log and report.
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            LedgerError::Storage(_) | LedgerError::Corrupt(_) | LedgerError::JobMoved(_)
        )
    }
}

/// `2024-05-01 00:00 UTC` for unix millis.
pub fn format_utc(millis: i64) -> String {
    let secs = u64::try_from(millis.div_euclid(1000)).unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let text = humantime::format_rfc3339_seconds(time).to_string();
    // "2024-05-01T00:00:00Z" -> "2024-05-01 00:00 UTC"
    format!("{} {} UTC", &text[..10], &text[11..16])
}

impl From<sled::Error> for LedgerError {
    fn from(e: sled::Error) -> LedgerError {
        LedgerError::Storage(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_a_member_needs_to_know() {
        let e = LedgerError::InsufficientCredits {
            available: 120,
            needed: 400,
        };
        assert_eq!(
            e.to_string(),
            "the pool has 120 credits available and this video needs 400"
        );
        let e = LedgerError::DailyCapReached {
            cap: 1000,
            used_today: 800,
            needed: 400,
            resets_at: 86_400_000,
        };
        assert!(
            e.to_string().contains("resets at 1970-01-02 00:00 UTC"),
            "{e}"
        );
        assert!(e.is_user_error());
    }
}
