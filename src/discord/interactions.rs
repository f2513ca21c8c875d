//! The HTTP transport: Discord POSTs each interaction, signed, to `/interactions` on
//! `http.listen` (`discord.mode = "http"`), and the initial response is the HTTP response's
//! body. A thin adapter like the gateway's: it builds the same [`Invocation`] and runs the
//! same logic ([`dispatch`], `/video`, the buttons), whose initial response goes into the
//! body through [`super::respond::initial`]; edits and follow-ups use the webhook routes as over
//! the gateway.
//!
//! Before anything else the request must be signed with the application's key
//! (`discord.public_key`) over `X-Signature-Timestamp` + body, and the timestamp must be
//! within [`MAX_SKEW`] of now (a replayed request is refused): otherwise 401 and nothing
//! happens. Bodies over [`MAX_BODY`] get 413, unreadable ones 400.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use serenity::all::{
    CommandInteraction, ComponentInteraction, Http, Interaction, ModalInteraction,
};
pub use serenity::interactions_endpoint::Verifier;

use super::commands::dispatch::{self, Logic};
use super::commands::{self, make_video, price, video};
use super::drain::{self, InFlight};
use super::errors::cause_chain;
use super::invocation::{Invocation, Invoked};
use super::respond::{InBody, Reply, Responder};
use super::{Command, CommandError, Data};
use crate::ids::MemberId;
use crate::tr;

/// The largest interaction body accepted (Discord's are a few KiB; options and resolved
/// objects stay far below this).
pub const MAX_BODY: usize = 256 * 1024;
/// How far `X-Signature-Timestamp` may be from now, either way: an older request is a
/// replay.
pub const MAX_SKEW: Duration = Duration::from_secs(300);
/// How long after the logic's own deferral moment ([`super::answer::deadline`]) the
/// endpoint waits for an initial response before deferring (privately) by itself, so that
/// even a slow command answers within Discord's 3 s.
const BACKSTOP_AFTER: Duration = Duration::from_millis(700);

/// What the endpoint serves with: the verifier, the same [`Data`] the gateway's commands
/// get, the REST client for edits and follow-ups, and the in-flight count draining waits on.
pub struct Endpoint {
    verifier: Verifier,
    data: Arc<Data>,
    http: Arc<Http>,
    /// The registered commands, for their `guild_only` flags.
    commands: Vec<Command>,
    in_flight: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").finish_non_exhaustive()
    }
}

/// Why the endpoint could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("discord.public_key: {0}")]
pub struct BadKey(String);

/// The verifier of `discord.public_key` (hex).
pub fn verifier(public_key: &str) -> Result<Verifier, BadKey> {
    let key = crate::config::public_key(public_key).map_err(BadKey)?;
    Verifier::try_new(key).map_err(|e| BadKey(e.to_string()))
}

impl Endpoint {
    /// The endpoint checking signatures with `verifier` and running commands with `data`.
    pub fn new(
        verifier: Verifier,
        data: Arc<Data>,
        http: Arc<Http>,
        commands: Vec<Command>,
    ) -> Endpoint {
        Endpoint {
            verifier,
            data,
            http,
            commands,
            in_flight: Arc::default(),
        }
    }

    /// The number of interactions being handled, for draining.
    pub fn in_flight(&self) -> Arc<AtomicUsize> {
        self.in_flight.clone()
    }

    /// `POST /interactions`, with its body limit.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/interactions", post(receive))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self)
    }

    /// Whether the request is Discord's: signed with the application's key, and recent.
    fn authentic(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), &'static str> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(signature), Some(timestamp)) = (
            header("x-signature-ed25519"),
            header("x-signature-timestamp"),
        ) else {
            return Err("no signature headers");
        };
        self.verifier
            .verify(signature, timestamp, body)
            .map_err(|()| "bad signature")?;
        let sent: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| "unreadable timestamp")?;
        let now = crate::clock::now_ms() / 1000;
        if (now - sent).unsigned_abs() > MAX_SKEW.as_secs() {
            return Err("timestamp too old or in the future (a replay?)");
        }
        Ok(())
    }
}

async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(why) = endpoint.authentic(&headers, &body) {
        tracing::info!(why, "refused an interaction request");
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(interaction) => interaction,
        Err(e) => {
            tracing::info!(error = %e, "could not read an interaction request");
            return (StatusCode::BAD_REQUEST, "malformed interaction").into_response();
        }
    };
    match interaction {
        Interaction::Ping(_) => axum::Json(json!({ "type": 1 })).into_response(),
        Interaction::Command(command) => endpoint.command(command).await,
        Interaction::Component(press) => endpoint.press(press).await,
        Interaction::Modal(form) => endpoint.form(form).await,
        Interaction::Autocomplete(asked) => endpoint.suggest(&asked),
        other => {
            tracing::info!(kind = ?other.kind(), "an interaction of a kind this bot does not use");
            (StatusCode::BAD_REQUEST, "unsupported interaction type").into_response()
        }
    }
}

impl Endpoint {
    async fn command(self: Arc<Self>, command: CommandInteraction) -> Response {
        let inv = Invocation::from(&command);
        let name = command.data.name.clone();
        let endpoint = self.clone();
        self.handle(inv, name, move |inv| async move {
            endpoint.run_command(inv).await
        })
        .await
    }

    /// A submitted form ("Make a video"): it goes the `/video` way.
    async fn form(self: Arc<Self>, form: ModalInteraction) -> Response {
        let inv = Invocation::from(&form);
        let endpoint = self.clone();
        self.handle(inv, "form".to_owned(), move |inv| async move {
            make_video::submitted(&endpoint.http, &endpoint.data, &inv).await;
        })
        .await
    }

    /// Suggestions for the option being typed (`/video`'s `duration`, with prices): reads
    /// only, answered at once.
    fn suggest(&self, asked: &CommandInteraction) -> Response {
        let inv = Invocation::from(asked);
        let partial = asked
            .data
            .autocomplete()
            .map(|option| option.value.to_owned())
            .unwrap_or_default();
        let choices = if asked.data.name == "video" {
            match price::duration_choices(&inv, &self.data, &partial) {
                Ok(choices) => choices,
                Err(e) => {
                    tracing::warn!(cause = %cause_chain(&e), "no duration suggestions");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let choices: Vec<Value> = choices
            .into_iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        axum::Json(json!({ "type": 8, "data": { "choices": choices } })).into_response()
    }

    async fn press(self: Arc<Self>, press: ComponentInteraction) -> Response {
        let inv = Invocation::from(&press);
        let endpoint = self.clone();
        self.handle(inv, "button".to_owned(), move |inv| async move {
            super::buttons::handle(&endpoint.http, &endpoint.data, &inv).await;
        })
        .await
    }

    /// Turns the interaction away while draining; otherwise runs `work` in its own task with
    /// its initial response going into this HTTP response, and waits for that response
    /// (deferring privately by itself when the work is late).
    async fn handle<W, F>(self: Arc<Self>, inv: Invocation, name: String, work: W) -> Response
    where
        W: FnOnce(Invocation) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let in_flight = InFlight::enter(&self.in_flight);
        // The webhook routes (edits, follow-ups) need the application's id.
        self.http.set_application_id(inv.application_id);
        if self.data.health.draining() {
            super::observe::interaction(&name, "restarting", inv.id.get());
            tracing::info!(command = %name, user = inv.user.get(), "turned away: restarting");
            return body(&drain::restarting(
                super::commands::lang(&inv),
                inv.user.get(),
            ));
        }
        let backstop = super::answer::deadline(inv.id.get()) + BACKSTOP_AFTER;
        let (slot, mut answered) = InBody::new();
        let work = work(inv);
        tokio::spawn(slot.clone().scope(async move {
            let _in_flight = in_flight;
            work.await;
        }));
        let json = match tokio::time::timeout_at(backstop, &mut answered).await {
            Ok(answer) => answer.ok(),
            Err(_late) if slot.defer_unanswered() => {
                tracing::info!(command = %name, "no answer in time: deferred");
                Some(json!({ "type": 5, "data": { "flags": 64 } }))
            }
            Err(_late) => answered.await.ok(),
        };
        match json {
            Some(json) => axum::Json(json).into_response(),
            None => {
                // The logic ended (or failed) without answering, as it may for a component
                // that is not the bot's: over the gateway that interaction is left unanswered.
                tracing::warn!(command = %name, "an interaction was handled without an answer");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }

    /// A slash command: the checks the gateway's framework makes (server only, the member's
    /// rate limit), then its logic, then its answer or the refusal.
    async fn run_command(&self, inv: Invocation) {
        let Invoked::Command(path) = &inv.invoked else {
            return;
        };
        let qualified = path.join(" ");
        let responder = Responder::new(&self.http, &inv);
        let Some(logic) = dispatch::logic(path) else {
            tracing::error!(command = %qualified, "a command the bot does not have: the registered commands differ from the code");
            let text = tr!(commands::lang(&inv), "error-out-of-date");
            refuse(&responder, &qualified, &inv, text).await;
            return;
        };
        if inv.guild.is_none() && self.guild_only(path) {
            let text = tr!(commands::lang(&inv), "error-guild-only");
            refuse(&responder, &qualified, &inv, text).await;
            return;
        }
        let member = MemberId(inv.user.get());
        let lang = commands::lang(&inv);
        if let Err(refused) =
            commands::rate_limit(&self.data, member, inv.id.get(), &qualified, lang)
        {
            if let Err(e) = responder
                .answer(&Reply::private(refused.reply_text(lang)))
                .await
            {
                tracing::warn!(cause = %cause_chain(&e), "could not answer a rate-limited command");
            }
            return;
        }
        let (result, answered) = match logic {
            Logic::Video => video::make(&inv, &self.data, &responder).await,
            Logic::MakeVideo => match make_video::open(&inv, &self.data) {
                Ok(form) => {
                    let modal = serenity::all::CreateInteractionResponse::Modal(form);
                    match super::respond::initial(&self.http, inv.id, &inv.token, modal).await {
                        Ok(()) => (Ok(()), true),
                        Err(e) => (Err(e.into()), false),
                    }
                }
                Err(e) => (Err(e), false),
            },
            Logic::Reply(answers) => match dispatch::reply(answers, &inv, &self.data).await {
                Ok(reply) => match responder.answer(&reply).await {
                    Ok(()) => (Ok(()), true),
                    Err(e) => (Err(e.into()), false),
                },
                Err(e) => (Err(e), false),
            },
        };
        show(&responder, &qualified, &inv, result, answered).await;
    }

    /// Whether the command (or its parent) may be used in servers only.
    fn guild_only(&self, path: &[String]) -> bool {
        let Some(top) = self
            .commands
            .iter()
            .find(|c| path.first() == Some(&c.name.to_string()))
        else {
            return false;
        };
        top.guild_only
            || path.get(1).is_some_and(|sub| {
                top.subcommands
                    .iter()
                    .any(|c| c.name == sub.as_str() && c.guild_only)
            })
    }
}

/// Refuses a command before its logic runs: counted, logged and told privately.
async fn refuse(responder: &Responder<'_>, qualified: &str, inv: &Invocation, text: String) {
    show(
        responder,
        qualified,
        inv,
        Err(CommandError::user(text)),
        false,
    )
    .await;
}

/// Counts the outcome and, for an error, tells the member privately: a follow-up when the
/// interaction was answered already (the gateway's error handler does the same).
async fn show(
    responder: &Responder<'_>,
    qualified: &str,
    inv: &Invocation,
    result: Result<(), CommandError>,
    answered: bool,
) {
    let error = match result {
        Ok(()) => {
            super::observe::interaction(qualified, "ok", inv.id.get());
            return;
        }
        Err(error) => error,
    };
    if let CommandError::User(_) = error {
        super::observe::interaction(qualified, "refused", inv.id.get());
        tracing::info!(command = %qualified, reason = %error, "command refused");
    } else {
        super::observe::interaction(qualified, "error", inv.id.get());
        tracing::error!(command = %qualified, cause = %cause_chain(&error), "command failed");
    }
    let reply = Reply::private(error.reply_text(commands::lang(inv)));
    let told = if answered {
        responder.follow_up(&reply).await
    } else {
        responder.answer(&reply).await
    };
    if let Err(e) = told {
        tracing::warn!(command = %qualified, cause = %cause_chain(&e), "could not tell the member");
    }
}

fn body(response: &serenity::all::CreateInteractionResponse) -> Response {
    axum::Json(serde_json::to_value(response).unwrap_or(Value::Null)).into_response()
}
