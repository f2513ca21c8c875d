//! The HTTP client for the provider's two endpoints, `createTask` and `recordInfo`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::error::SeedanceError;
use super::types::{
    CreateTaskRequest, TaskId, TaskInput, TaskRecord, open_envelope, parse_created, parse_record,
};
use crate::config::SeedanceConfig;

/// Sent on every request: fronting CDNs have answered 403 to clients without one.
pub const USER_AGENT: &str = concat!("seedance-bot/", env!("CARGO_PKG_VERSION"));

/// Bodies larger than this are not read: no answer of this API is anywhere near it.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Longest wait a `Retry-After` may ask for; anything longer is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The most idle connections kept open to the provider: as many as the most poll workers
/// (`jobs::scheduler`), so a round of status calls finds the connections the last one left
/// instead of opening new ones (measured: CPU while 10,000 jobs wait, BENCHMARKS).
const IDLE_CONNECTIONS: usize = 128;

/// The Seedance 2.0 reference-to-video API. Cheap to clone (shares one connection pool).
///
/// Its `Debug` shows the base URL and model only; the API key is kept as a sensitive header
/// value and is also scrubbed from any provider text kept in an error.
#[derive(Clone)]
pub struct SeedanceClient {
    http: reqwest::Client,
    create_url: Url,
    record_url: Url,
    model: String,
    auth: HeaderValue,
    api_key: Arc<SecretString>,
}

impl fmt::Debug for SeedanceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedanceClient")
            .field("create_url", &self.create_url.as_str())
            .field("model", &self.model)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl SeedanceClient {
    /// Builds the client: Bearer auth, a real User-Agent, `request_timeout` for each whole
    /// call and a shorter connect timeout. Fails on an empty key or an unusable base URL.
    pub fn new(config: &SeedanceConfig) -> Result<Self, SeedanceError> {
        let key = config.api_key.expose_secret().trim();
        if key.is_empty() {
            return Err(SeedanceError::Config(
                "no API key is set (seedance.api_key or SEEDANCE_API_KEY)".into(),
            ));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
            SeedanceError::Config("the API key contains characters a header cannot carry".into())
        })?;
        auth.set_sensitive(true);

        let base = config.base_url.trim().trim_end_matches('/');
        let endpoint = |path: &str| {
            Url::parse(&format!("{base}{path}"))
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    SeedanceError::Config(format!(
                        "seedance.base_url `{}` is not an http(s) URL",
                        config.base_url
                    ))
                })
        };
        let create_url = endpoint("/api/v1/jobs/createTask")?;
        let record_url = endpoint("/api/v1/jobs/recordInfo")?;

        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            // A burst of createTasks opens many connections at once; keeping them all idle
            // would hold their buffers for nothing. The polls reuse theirs.
            .pool_max_idle_per_host(IDLE_CONNECTIONS)
            .build()
            .map_err(|e| SeedanceError::Config(format!("the HTTP client could not start: {e}")))?;

        Ok(SeedanceClient {
            http,
            create_url,
            record_url,
            model: config.model.trim().to_owned(),
            auth,
            api_key: Arc::new(SecretString::from(key.to_owned())),
        })
    }

    /// The model id sent with every task.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Creates a task. The input is checked first; nothing is sent if it is invalid.
    ///
    /// On an error that is not [`SeedanceError::resubmit_safe`], a task may have been made
    /// anyway: do not blindly create it again.
    #[tracing::instrument(skip_all, fields(model = %self.model))]
    pub async fn create_task(&self, input: &TaskInput) -> Result<TaskId, SeedanceError> {
        input.validate()?;
        let body = CreateTaskRequest {
            model: &self.model,
            input,
        };
        let request = self.http.post(self.create_url.clone()).json(&body);
        let data = self.call(request).await?;
        let task = parse_created(&data)?;
        tracing::info!(task_id = %task, "created a provider task");
        Ok(task)
    }

    /// Reads a task's state and, when finished, its result URLs or failure.
    #[tracing::instrument(skip_all, fields(task_id = %task))]
    pub async fn record_info(&self, task: &TaskId) -> Result<TaskRecord, SeedanceError> {
        let mut url = self.record_url.clone();
        url.query_pairs_mut().append_pair("taskId", &task.0);
        let data = self.call(self.http.get(url)).await?;
        let record = parse_record(&data, task)?;
        tracing::debug!(state = %record.state, "task record");
        Ok(record)
    }

    /// Sends one request and opens the envelope of its answer.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, SeedanceError> {
        let mut response = request
            .header(header::AUTHORIZATION, self.auth.clone())
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(SeedanceError::Malformed(format!(
                    "HTTP {status} with a body over {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(status, bytes = body.len(), "provider answered");
        open_envelope(status, &body, retry_after).map_err(|e| self.scrub(e))
    }

    /// A reqwest failure as an error without a URL (or the key, should one ever be in it).
    fn transport_error(&self, error: reqwest::Error) -> SeedanceError {
        if error.is_timeout() {
            return SeedanceError::Timeout;
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        if text.to_ascii_lowercase().contains("timed out") {
            return SeedanceError::Timeout;
        }
        let text = super::error::clip(&text, 300);
        self.scrub(if error.is_connect() {
            SeedanceError::Unreachable(text)
        } else {
            SeedanceError::Transport(text)
        })
    }

    /// Removes the API key from provider text kept in an error (a provider echoing it back).
    fn scrub(&self, error: SeedanceError) -> SeedanceError {
        let key = self.api_key.expose_secret();
        let clean = |text: String| {
            if key.len() >= 4 && text.contains(key) {
                text.replace(key, "[redacted]")
            } else {
                text
            }
        };
        match error {
            SeedanceError::InvalidRequest { status, message } => SeedanceError::InvalidRequest {
                status,
                message: clean(message),
            },
            SeedanceError::Auth { message } => SeedanceError::Auth {
                message: clean(message),
            },
            SeedanceError::OutOfCredits { message } => SeedanceError::OutOfCredits {
                message: clean(message),
            },
            SeedanceError::NotFound { message } => SeedanceError::NotFound {
                message: clean(message),
            },
            SeedanceError::Busy { message } => SeedanceError::Busy {
                message: clean(message),
            },
            SeedanceError::RateLimited {
                retry_after,
                message,
            } => SeedanceError::RateLimited {
                retry_after,
                message: clean(message),
            },
            SeedanceError::ProviderFault { status, message } => SeedanceError::ProviderFault {
                status,
                message: clean(message),
            },
            SeedanceError::Transport(message) => SeedanceError::Transport(clean(message)),
            SeedanceError::Unreachable(message) => SeedanceError::Unreachable(clean(message)),
            SeedanceError::Malformed(message) => SeedanceError::Malformed(clean(message)),
            other @ (SeedanceError::InvalidInput(_)
            | SeedanceError::Config(_)
            | SeedanceError::Timeout) => other,
        }
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP date (a date in the past means now).
/// Capped at an hour.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("99999", now), Some(MAX_RETRY_AFTER));
    }
}
