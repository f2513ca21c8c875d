//! What can go wrong talking to the provider, how to classify it, and what to do about it.

use std::time::Duration;

/// Longest provider text kept in an error, in characters.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// One error type for every client call. Each variant knows whether a retry can help
/// ([`retryable`](Self::retryable)), how long to wait first ([`retry_after`](Self::retry_after)),
/// and what an operator should do ([`advice`](Self::advice)).
///
/// Provider text kept in a variant is cut to a few hundred characters, has control
/// characters replaced and never contains the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedanceError {
    /// Refused before anything was sent (e.g. a prompt over 20000 characters).
    #[error("the request is invalid: {0}")]
    InvalidInput(String),
    /// The client cannot be built from the configuration (no key, bad base URL).
    #[error("the Seedance client is misconfigured: {0}")]
    Config(String),
    /// 400 / 422, including "prompt contains prohibited content". Not retryable.
    #[error("the provider refused the request ({status}: {message})")]
    InvalidRequest { status: u16, message: String },
    /// 401 (and 403): the key is missing, wrong or revoked.
    #[error("the API key was rejected ({message})")]
    Auth { message: String },
    /// 402: the provider account has no credits left.
    #[error("the provider account is out of credits ({message})")]
    OutOfCredits { message: String },
    /// 404: no such task. A task just created can be unknown for a short while: callers decide.
    #[error("the provider does not know this task ({message})")]
    NotFound { message: String },
    /// 409: too many active tasks on the account (or a conflict). Retryable.
    #[error("the provider account has too many active tasks ({message})")]
    Busy { message: String },
    /// 429: the request was dropped, not queued. Retryable after `retry_after` when given.
    #[error("the provider rate-limited the request ({message})")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// 5xx and 455. Retryable, except 501 (generation failed) and 505 (feature disabled),
    /// which would only fail the same way again.
    #[error("the provider failed ({status}: {message})")]
    ProviderFault { status: u16, message: String },
    /// No connection could be made (refused, no route, TLS handshake failed): the request
    /// never reached the provider. Retryable, and safe to resend. Never holds a URL.
    #[error("could not connect to the provider ({0})")]
    Unreachable(String),
    /// The connection broke during the call. Retryable. Never holds a URL.
    #[error("could not reach the provider ({0})")]
    Transport(String),
    /// No complete answer within `seedance.request_timeout`. Retryable.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The answer could not be understood (bad JSON, missing `data`, unknown code).
    #[error("the provider's answer was not understood ({0})")]
    Malformed(String),
}

impl SeedanceError {
    /// Whether the same call may succeed if made again later.
    ///
    /// For `createTask`, a retryable error does not prove that no task was made: see
    /// [`resubmit_safe`](Self::resubmit_safe).
    pub fn retryable(&self) -> bool {
        match self {
            SeedanceError::Busy { .. }
            | SeedanceError::RateLimited { .. }
            | SeedanceError::Transport(_)
            | SeedanceError::Unreachable(_)
            | SeedanceError::Timeout => true,
            SeedanceError::ProviderFault { status, .. } => !matches!(status, 501 | 505),
            _ => false,
        }
    }

    /// Whether the provider certainly made no task, so `createTask` may be sent again
    /// without risk of paying twice: the request was refused outright (429, 409, 455) or
    /// never left (no connection). A timeout, a broken connection or a 500 leaves it unknown.
    pub fn resubmit_safe(&self) -> bool {
        match self {
            SeedanceError::Busy { .. }
            | SeedanceError::RateLimited { .. }
            | SeedanceError::Unreachable(_) => true,
            SeedanceError::ProviderFault { status, .. } => *status == 455,
            _ => false,
        }
    }

    /// The provider's requested wait, from a `Retry-After` header on a 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SeedanceError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What an operator should do, as a short imperative phrase.
    pub fn advice(&self) -> &'static str {
        match self {
            SeedanceError::InvalidInput(_) => "fix the request and try again",
            SeedanceError::Config(_) => {
                "check seedance.api_key (or SEEDANCE_API_KEY) and seedance.base_url"
            }
            SeedanceError::InvalidRequest { .. } => {
                "change the prompt, references or options and try again"
            }
            SeedanceError::Auth { .. } => "check SEEDANCE_API_KEY",
            SeedanceError::OutOfCredits { .. } => "top up the provider account, then try again",
            SeedanceError::NotFound { .. } => {
                "check the task id; a task just created can be unknown for a few seconds"
            }
            SeedanceError::Busy { .. } => "wait for running tasks to finish, then try again",
            SeedanceError::RateLimited { .. } => "slow down and try again shortly",
            SeedanceError::ProviderFault { status: 455, .. } => {
                "the provider is under maintenance: try again later"
            }
            SeedanceError::ProviderFault { status: 501, .. } => {
                "the generation failed: try again, perhaps with a different prompt"
            }
            SeedanceError::ProviderFault { status: 505, .. } => {
                "the feature is disabled by the provider: turn that option off"
            }
            SeedanceError::ProviderFault { .. } => "the provider has a problem: try again later",
            SeedanceError::Transport(_) | SeedanceError::Unreachable(_) => {
                "check the network and seedance.base_url, then try again"
            }
            SeedanceError::Timeout => "try again later, or raise seedance.request_timeout",
            SeedanceError::Malformed(_) => {
                "try again later; if it persists, the provider's API may have changed"
            }
        }
    }

    /// The error for a provider status `code` (from the body envelope or, failing that, the
    /// HTTP status) that is not a success.
    pub(crate) fn from_code(code: u16, message: String, retry_after: Option<Duration>) -> Self {
        match code {
            400 | 422 => SeedanceError::InvalidRequest {
                status: code,
                message,
            },
            401 | 403 => SeedanceError::Auth { message },
            402 => SeedanceError::OutOfCredits { message },
            404 => SeedanceError::NotFound { message },
            409 => SeedanceError::Busy { message },
            429 => SeedanceError::RateLimited {
                retry_after,
                message,
            },
            // 408 Request Timeout is the server's own timeout: as retryable as ours.
            408 => SeedanceError::Timeout,
            455 | 500..=599 => SeedanceError::ProviderFault {
                status: code,
                message,
            },
            // Any other 4xx: the request itself is at fault.
            405..=499 => SeedanceError::InvalidRequest {
                status: code,
                message,
            },
            _ => SeedanceError::Malformed(format!("unexpected status code {code}: {message}")),
        }
    }
}

/// Provider text made safe to keep: control characters become spaces, runs of whitespace
/// collapse, and it is cut to `max_chars` characters (on a char boundary, with `…`).
pub(crate) fn clip(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if chars == max_chars {
            out.push('…');
            return out;
        }
        last_space = c == ' ';
        out.push(c);
        chars += 1;
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_on_char_boundaries_and_flattens_lines() {
        assert_eq!(clip("a\nb\t\tc", 10), "a b c");
        assert_eq!(clip("ééééé", 3), "ééé…");
        assert_eq!(clip("", 3), "");
        assert_eq!(clip("  x  ", 3), "x");
    }

    #[test]
    fn retryability_follows_the_documented_codes() {
        let e = |code| SeedanceError::from_code(code, String::new(), None);
        for code in [409, 429, 455, 500, 502, 503] {
            assert!(e(code).retryable(), "{code}");
        }
        for code in [400, 401, 402, 404, 422, 501, 505] {
            assert!(!e(code).retryable(), "{code}");
        }
        assert!(e(455).resubmit_safe());
        assert!(!e(500).resubmit_safe());
        assert!(matches!(e(302), SeedanceError::Malformed(_)));
    }
}
