//! Everything that knows serenity lives here; the core speaks plain ids.
//!
//! - [`client`]: the serenity `Http` (honouring `discord.api_base_url`), the poise framework
//!   runner with its shutdown signal, and command registration.
//! - [`errors`]: [`CommandError`] and the one place that turns any command error into the
//!   ephemeral reply a member sees.
//! - [`mentions`]: the allowed-mentions policy used on every message the bot sends.

pub mod client;
pub mod errors;
pub mod mentions;

use std::sync::Arc;

use crate::config::Config;

pub use client::{
    DiscordError, Registration, build_http, register_commands, run, slash_commands_json,
};
pub use errors::CommandError;
pub use mentions::only_user;

/// What every command can reach. Other parts of the bot add their services here (the
/// ledger, the job queue); it is built once in the app wiring and handed to [`run`].
#[derive(Debug)]
pub struct Data {
    pub config: Arc<Config>,
}

/// A poise command of this bot.
pub type Command = poise::Command<Data, CommandError>;
/// The context a command handler gets.
pub type Context<'a> = poise::Context<'a, Data, CommandError>;
