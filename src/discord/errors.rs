//! Command errors and the one place that turns them into what a member sees.
//!
//! A member gets a short, plain, ephemeral message; the log gets the whole cause chain.
//! Neither ever contains a secret: the token lives in `Http` and is never formatted, and
//! internal errors are not shown to members at all.

use std::error::Error as StdError;
use std::fmt::Write as _;

use poise::{CreateReply, FrameworkError};

use super::{CommandError as E, Data, mentions};
use crate::i18n::Lang;
use crate::tr;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The member can fix it (bad input, not enough credits, ...): shown as written.
    #[error("{0}")]
    User(String),
    /// A Discord call failed.
    #[error("a Discord request failed")]
    Discord(#[source] Box<serenity::Error>),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(Box<dyn StdError + Send + Sync>),
}

impl From<serenity::Error> for CommandError {
    fn from(e: serenity::Error) -> CommandError {
        CommandError::Discord(Box::new(e))
    }
}

impl CommandError {
    /// An error the member caused and can fix, shown to them as written.
    pub fn user(message: impl Into<String>) -> CommandError {
        CommandError::User(message.into())
    }

    /// The text a member sees for this error. "Nothing was charged" is true for the
    /// unexpected errors: `/video` and "Run again" turn every failure after a hold was
    /// written into words saying the job exists (see `answer`).
    pub fn reply_text(&self, lang: Lang) -> String {
        match self {
            CommandError::User(message) => message.clone(),
            CommandError::Discord(_) | CommandError::Internal(_) => tr!(lang, "error-internal"),
        }
    }
}

/// `error` and each of its sources, joined by ": ", with interaction tokens taken out: an
/// HTTP error's source names the URL it failed on, and the interaction routes carry the
/// interaction's token in their path.
pub fn cause_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    redact_tokens(&text)
}

/// `text` with the token segment of every `/interactions/{id}/{token}` and
/// `/webhooks/{id}/{token}` path replaced by `[redacted]`.
pub fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["/interactions/", "/webhooks/"]
            .iter()
            .filter_map(|m| rest.find(m).map(|at| (at, m.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            return out;
        };
        let (head, tail) = rest.split_at(at + len);
        out.push_str(head);
        let end_of = |s: &str| {
            s.find(|c: char| matches!(c, '/' | '?' | '#' | ')' | '"' | '\'') || c.is_whitespace())
                .unwrap_or(s.len())
        };
        let id_end = end_of(tail);
        out.push_str(&tail[..id_end]);
        rest = &tail[id_end..];
        if let Some(after) = rest.strip_prefix('/') {
            let token_end = end_of(after);
            if token_end > 0 {
                out.push_str("/[redacted]");
                rest = &after[token_end..];
            }
        }
    }
}

/// poise's `on_error`: logs the cause and answers the member ephemerally when there is a
/// command to answer.
pub async fn on_error(error: FrameworkError<'_, Data, E>) {
    let lang = error
        .ctx()
        .and_then(|ctx| ctx.locale())
        .map_or(Lang::English, Lang::of_locale);
    let (ctx, text) = match error {
        FrameworkError::Command { error, ctx, .. } => {
            let outcome = if matches!(error, E::User(_)) {
                "refused"
            } else {
                "error"
            };
            super::observe::interaction(&ctx.command().qualified_name, outcome, ctx.id());
            if let E::User(_) = error {
                tracing::info!(command = %ctx.command().qualified_name, reason = %error, "command refused");
            } else {
                tracing::error!(command = %ctx.command().qualified_name, cause = %cause_chain(&error), "command failed");
            }
            (ctx, error.reply_text(lang))
        }
        FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            let text = match error {
                Some(error) => {
                    tracing::warn!(cause = %cause_chain(&error), "command check failed");
                    error.reply_text(lang)
                }
                None => tr!(lang, "error-not-here"),
            };
            (ctx, text)
        }
        FrameworkError::CommandPanic { ctx, .. } => {
            tracing::error!(command = %ctx.command().qualified_name, "command panicked");
            // A panic may come after a job was accepted: say nothing about money but where
            // to look.
            (ctx, tr!(lang, "error-panic"))
        }
        FrameworkError::ArgumentParse {
            error, input, ctx, ..
        } => {
            tracing::info!(cause = %error, ?input, "could not read a command option");
            (ctx, tr!(lang, "error-bad-option"))
        }
        FrameworkError::CommandStructureMismatch {
            description, ctx, ..
        } => {
            tracing::error!(%description, "command registered with Discord differs from the code");
            (ctx.into(), tr!(lang, "error-out-of-date"))
        }
        FrameworkError::MissingUserPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            let text = match missing_permissions {
                Some(p) => tr!(lang, "error-member-permission", permission = p),
                None => tr!(lang, "error-member-permissions"),
            };
            (ctx, text)
        }
        FrameworkError::MissingBotPermissions {
            missing_permissions,
            ctx,
            ..
        } => (
            ctx,
            tr!(
                lang,
                "error-bot-permission",
                permission = missing_permissions
            ),
        ),
        FrameworkError::NotAnOwner { ctx, .. } => (ctx, tr!(lang, "error-not-owner")),
        FrameworkError::GuildOnly { ctx, .. } => (ctx, tr!(lang, "error-guild-only")),
        FrameworkError::DmOnly { ctx, .. } => (ctx, tr!(lang, "error-dm-only")),
        FrameworkError::CooldownHit {
            remaining_cooldown,
            ctx,
            ..
        } => (
            ctx,
            tr!(
                lang,
                "error-cooldown",
                secs = remaining_cooldown.as_secs().max(1)
            ),
        ),
        FrameworkError::Setup { error, .. } => {
            tracing::error!(cause = %cause_chain(&error), "bot setup failed");
            return;
        }
        FrameworkError::EventHandler { error, event, .. } => {
            tracing::error!(cause = %cause_chain(&error), event = event.snake_case_name(), "event handler failed");
            return;
        }
        other => {
            tracing::warn!(error = %other, "framework error");
            return;
        }
    };
    let reply = CreateReply::default()
        .content(text)
        .ephemeral(true)
        .allowed_mentions(mentions::nobody());
    if let Err(e) = ctx.send(reply).await {
        tracing::warn!(cause = %cause_chain(&e), "could not send the error reply");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_tokens_are_taken_out_of_paths() {
        let text = "error sending request for url (http://127.0.0.1:9/api/v10/interactions/12/aW50ZXJhY3Rpb24.tok-en_1/callback): x; /webhooks/34/SECRET?wait=true and /webhooks/34/messages";
        let out = redact_tokens(text);
        assert!(
            !out.contains("aW50ZXJhY3Rpb24.tok-en_1") && !out.contains("SECRET"),
            "{out}"
        );
        assert!(
            out.contains("/interactions/12/[redacted]/callback)"),
            "{out}"
        );
        assert!(out.contains("/webhooks/34/[redacted]?wait=true"), "{out}");
    }

    /// A real failed request (nothing listens on the port) names its URL in its source; the
    /// cause chain a log line gets must not carry the token in it.
    #[tokio::test]
    async fn a_failed_interaction_request_logs_no_token() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let token = "interaction-token-NEVER-LOGGED";
        let url = format!("http://127.0.0.1:{port}/api/v10/webhooks/1/{token}/messages/@original");
        let failed = reqwest::Client::new().get(&url).send().await.unwrap_err();
        assert!(
            format!("{failed}").contains(token),
            "the raw error names the URL"
        );
        let e = E::from(serenity::Error::Http(serenity::all::HttpError::Request(
            failed,
        )));
        let logged = cause_chain(&e);
        assert!(!logged.contains(token), "{logged}");
        assert!(logged.contains("[redacted]"), "{logged}");
    }
}
