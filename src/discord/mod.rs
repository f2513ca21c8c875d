//! Everything that knows serenity lives here; the core speaks plain ids.
//!
//! - [`client`]: the serenity `Http` (honouring `discord.api_base_url`), the poise framework
//!   runner with its shutdown signal, and command registration.
//! - [`commands`]: one module per slash command and the list of them all.
//! - [`card`]: the job card (embed, buttons, thread name); [`follow`]: posting it and
//!   making the job's thread; [`buttons`]: "Cancel" and "Run again".
//! - [`reporter`]: [`DiscordReporter`], the job queue's `Reporter` on Discord; [`alerts`]:
//!   its direct messages to the operators when the provider refuses the bot's account.
//!   [`final_message`]: the words and nonce of a job's last message; [`rest`]: the delivery
//!   side's Discord calls and their one retry policy.
//! - [`invocation`]: the parsed invocation (who, where, rights, locale, options, files), the
//!   same from the gateway and from an HTTP POST; [`respond`]: answering it through the
//!   interaction routes. Each command's logic is a function of both; poise's handlers are
//!   thin adapters ([`commands::gateway`]).
//! - [`answer`]: answering within Discord's 3 s (deferring when the work is slow) and the
//!   private words about money whichever way the answer went.
//! - [`errors`]: [`CommandError`] and the one place that turns any command error into the
//!   ephemeral reply a member sees.
//! - [`mentions`]: the allowed-mentions policy used on every message the bot sends.
//! - [`drain`]: turning interactions away once the bot is stopping, and waiting for those
//!   being handled.
//! - [`observe`]: interaction metrics and the gateway's state for the health check.
//! - [`interactions`]: the HTTP transport (`discord.mode = "http"`): `POST /interactions`,
//!   signature and replay checks, and the same logic as the gateway with the initial
//!   response as the HTTP response's body.

pub mod alerts;
pub mod answer;
pub mod buttons;
pub mod card;
pub mod client;
pub mod commands;
pub mod drain;
pub mod errors;
pub mod final_message;
pub mod follow;
pub mod interactions;
pub mod invocation;
pub mod mentions;
pub mod observe;
pub mod reporter;
pub mod respond;
pub mod rest;

use std::sync::Arc;

use crate::config::Config;
use crate::http::Health;
use crate::jobs::Jobs;

pub use client::{
    DiscordError, Registration, build_http, register_commands, run, slash_commands_json,
};
pub use errors::CommandError;
pub use mentions::only_user;
pub use reporter::DiscordReporter;
/// serenity's REST client, as the wiring holds it.
pub use serenity::all::Http;

/// What every command can reach; built once in the app wiring and handed to [`run`].
pub struct Data {
    pub config: Arc<Config>,
    pub jobs: Jobs,
    /// Also remembers where each job's card is (see [`DiscordReporter::track`]).
    pub reporter: Arc<DiscordReporter>,
    /// Gateway state for `/healthz`.
    pub health: Arc<Health>,
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Data")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A poise command of this bot.
pub type Command = poise::Command<Data, CommandError>;
/// The context a command handler gets.
pub type Context<'a> = poise::Context<'a, Data, CommandError>;
