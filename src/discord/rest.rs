//! The delivery side's calls to Discord's REST API, each failure read in full (status,
//! Discord's JSON `code`, the wait it asks for), and the one retry policy for them.
//!
//! serenity's own rate limiter honours `Retry-After`, but it is off whenever
//! `discord.api_base_url` is set, and with it off serenity 0.12.5 reads a 429 body (which has
//! no `code`) as "could not decode json", code -1, dropping the body and the headers with the
//! wait. So with the limiter off these calls go out on this module's client, built by
//! serenity's own `Request` (route, token, base URL), and the answer is read here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde::de::DeserializeOwned;
use serenity::all::{
    ApplicationId, ChannelId, CreateAttachment, CreateMessage, CreateThread, EditMessage,
    GuildChannel, Http, HttpError, Message, MessageId,
};
use serenity::http::{LightMethod, Multipart, MultipartUpload, Request, Route};

/// Discord's JSON error codes the delivery side acts on.
pub mod code {
    pub const UNKNOWN_CHANNEL: i64 = 10003;
    pub const UNKNOWN_MESSAGE: i64 = 10008;
    pub const MISSING_ACCESS: i64 = 50001;
    pub const MISSING_PERMISSIONS: i64 = 50013;
    /// "Cannot execute action on this channel type": e.g. a thread from a message in a thread.
    pub const WRONG_CHANNEL_TYPE: i64 = 50024;
    /// "A thread has already been created for this message".
    pub const THREAD_EXISTS: i64 = 160_004;
}

/// The longest wait a retry here sits through; a longer `retry_after` goes back to the
/// caller (the job queue waits for final reports without holding a task).
const MAX_INLINE_WAIT: Duration = Duration::from_secs(10);
/// How long one call may take before it counts as a transport failure.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call to Discord did not succeed. Never carries a URL: webhook routes hold the
/// interaction token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestError {
    /// A 4xx other than 429: the same call gets the same answer.
    #[error("Discord refused the call (HTTP {status}, code {code:?}): {message}")]
    Refused {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    #[error("Discord rate limited the call (HTTP 429, retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    #[error("Discord failed (HTTP {status})")]
    Unavailable { status: u16 },
    #[error("Discord could not be reached: {0}")]
    Transport(String),
    /// The call was answered but the answer could not be read (it may have taken effect).
    #[error("Discord's answer could not be read: {0}")]
    Unreadable(String),
}

impl RestError {
    /// Worth trying again soon: rate limited, Discord's fault, or the network's.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            RestError::RateLimited { .. } | RestError::Unavailable { .. } | RestError::Transport(_)
        )
    }

    /// The wait Discord asked for, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            RestError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Discord's JSON error code, if it sent one.
    pub fn code(&self) -> Option<i64> {
        match self {
            RestError::Refused { code, .. } => *code,
            _ => None,
        }
    }

    /// The thing the call was about is gone (404, Unknown Channel, Unknown Message).
    pub fn is_gone(&self) -> bool {
        matches!(self, RestError::Refused { status: 404, .. })
            || matches!(
                self.code(),
                Some(code::UNKNOWN_CHANNEL | code::UNKNOWN_MESSAGE)
            )
    }

    /// Sending it again can never succeed: Discord refused it (403, 404, Unknown Channel,
    /// Missing Access, Missing Permissions, or any other 4xx but 401). A 401 is the bot's
    /// token, which the operator fixes; after that the same call succeeds.
    pub fn is_permanent(&self) -> bool {
        matches!(self, RestError::Refused { status, .. } if *status != 401)
    }

    fn from_status(
        status: u16,
        code: Option<i64>,
        message: String,
        wait: Option<Duration>,
    ) -> Self {
        match status {
            429 => RestError::RateLimited { retry_after: wait },
            500.. => RestError::Unavailable { status },
            _ => RestError::Refused {
                status,
                code,
                message,
            },
        }
    }

    /// Reads a failed answer: the wait from the body's `retry_after` (float seconds), else
    /// from the `Retry-After` header.
    async fn from_response(response: reqwest::Response) -> RestError {
        let status = response.status().as_u16();
        let header = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(seconds);
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let wait = body
            .get("retry_after")
            .and_then(serde_json::Value::as_f64)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .or(header);
        let code = body.get("code").and_then(serde_json::Value::as_i64);
        let message = body
            .get("message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned();
        RestError::from_status(status, code, message, wait)
    }

    /// A serenity error, as far as serenity kept it (its limiter already waited out 429s).
    pub fn from_serenity(e: serenity::Error) -> RestError {
        match e {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
                // -1 is serenity's "could not decode the error body".
                let code = Some(r.error.code as i64).filter(|c| *c >= 0);
                RestError::from_status(r.status_code.as_u16(), code, r.error.message, None)
            }
            serenity::Error::Http(HttpError::Request(e)) => transport(e),
            other => RestError::Unreadable(other.to_string()),
        }
    }
}

fn transport(e: reqwest::Error) -> RestError {
    RestError::Transport(e.without_url().to_string())
}

/// `Retry-After` as seconds (Discord sends whole or fractional seconds).
fn seconds(v: &str) -> Option<Duration> {
    Duration::try_from_secs_f64(v.trim().parse().ok()?).ok()
}

/// Runs `call` under the one retry policy: retryable failures are tried again with
/// exponential backoff from 0.5 s (at most 4 more tries), never sooner than Discord's
/// `retry_after`; a wait longer than [`MAX_INLINE_WAIT`] is left to the caller.
pub async fn retrying<T, F, Fut>(what: &'static str, call: F) -> Result<T, RestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RestError>>,
{
    let policy = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(8))
        .with_max_times(4)
        .with_jitter();
    call.retry(policy)
        .sleep(tokio::time::sleep)
        .when(RestError::is_retryable)
        .adjust(|e: &RestError, next| match (e.retry_after(), next) {
            (Some(wait), Some(_)) if wait > MAX_INLINE_WAIT => None,
            (Some(wait), Some(backoff)) => Some(wait.max(backoff)),
            (_, next) => next,
        })
        .notify(|e, wait| tracing::info!(call = what, error = %e, ?wait, "Discord call failed; trying again"))
        .await
}

/// The Discord calls of the delivery side, one attempt each.
pub struct Rest {
    http: Arc<Http>,
    client: reqwest::Client,
}

impl Rest {
    pub fn new(http: Arc<Http>) -> Rest {
        Rest {
            http,
            client: reqwest::Client::builder()
                .timeout(CALL_TIMEOUT)
                .build()
                .unwrap_or_default(),
        }
    }

    /// Posts a message, with one file when given.
    pub async fn send_message(
        &self,
        channel: ChannelId,
        message: CreateMessage,
        file: Option<CreateAttachment>,
    ) -> Result<Message, RestError> {
        let route = Route::ChannelMessages {
            channel_id: channel,
        };
        let request = Request::new(route, LightMethod::Post);
        let request = match file {
            None => request.body(Some(json(&message)?)),
            Some(file) => {
                // The file's metadata rides in the JSON (placeholder id 0), its bytes in part 0.
                let payload = serde_json::to_string(&message.add_file(file.clone()))
                    .map_err(|e| RestError::Unreadable(e.to_string()))?;
                request.multipart(Some(Multipart {
                    upload: MultipartUpload::Attachments(vec![file]),
                    fields: Vec::new(),
                    payload_json: Some(payload),
                }))
            }
        };
        self.call(request, true).await
    }

    pub async fn edit_message(
        &self,
        channel: ChannelId,
        message: MessageId,
        edit: &EditMessage,
    ) -> Result<Message, RestError> {
        let route = Route::ChannelMessage {
            channel_id: channel,
            message_id: message,
        };
        let request = Request::new(route, LightMethod::Patch).body(Some(json(edit)?));
        self.call(request, true).await
    }

    pub async fn create_thread(
        &self,
        channel: ChannelId,
        message: MessageId,
        thread: &CreateThread<'_>,
    ) -> Result<GuildChannel, RestError> {
        let route = Route::ChannelMessageThreads {
            channel_id: channel,
            message_id: message,
        };
        let request = Request::new(route, LightMethod::Post).body(Some(json(thread)?));
        self.call(request, true).await
    }

    /// The interaction's original response (the job card), while its token lives.
    pub async fn original_response(
        &self,
        application_id: u64,
        token: &str,
    ) -> Result<Message, RestError> {
        let route = Route::WebhookOriginalInteractionResponse {
            application_id: ApplicationId::new(application_id.max(1)),
            token,
        };
        // Never through serenity's limiter: its request span would record the route, token
        // included.
        self.call(Request::new(route, LightMethod::Get), false)
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: Request<'_>,
        via_limiter: bool,
    ) -> Result<T, RestError> {
        let response = if via_limiter && self.http.ratelimiter.is_some() {
            self.http
                .request(request)
                .await
                .map_err(RestError::from_serenity)?
        } else {
            let built = request
                .build(&self.client, self.http.token(), self.http.proxy.as_deref())
                .map_err(RestError::from_serenity)?
                .build()
                .map_err(transport)?;
            let response = self.client.execute(built).await.map_err(transport)?;
            if !response.status().is_success() {
                return Err(RestError::from_response(response).await);
            }
            response
        };
        let bytes = response.bytes().await.map_err(transport)?;
        serde_json::from_slice(&bytes).map_err(|e| RestError::Unreadable(e.to_string()))
    }
}

fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, RestError> {
    serde_json::to_vec(value).map_err(|e| RestError::Unreadable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refusals_but_401_are_permanent() {
        let refused = |status, code| RestError::from_status(status, code, String::new(), None);
        assert!(refused(404, Some(code::UNKNOWN_CHANNEL)).is_permanent());
        assert!(refused(403, Some(code::MISSING_ACCESS)).is_permanent());
        assert!(refused(403, Some(code::MISSING_PERMISSIONS)).is_permanent());
        assert!(!refused(401, Some(0)).is_permanent());
        assert!(!refused(429, None).is_permanent());
        assert!(refused(429, None).is_retryable());
        assert!(refused(502, None).is_retryable());
        assert!(refused(404, Some(code::UNKNOWN_MESSAGE)).is_gone());
    }

    #[test]
    fn retry_after_reads_whole_and_fractional_seconds() {
        assert_eq!(seconds("2"), Some(Duration::from_secs(2)));
        assert_eq!(seconds("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(seconds("soon"), None);
    }
}
