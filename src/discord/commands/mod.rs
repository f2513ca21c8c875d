//! The slash commands, one module each, and [`all`], the one list of them.
//!
//! - [`video`]: `/video`, the product; [`references`] reads its files and links.
//! - [`credits`]: `/credits balance|history|grant|cap`.
//! - [`jobs`]: `/jobs`, a member's recent jobs.
//! - [`video_admin`]: `/video-admin`, a server's settings for `/video` (Manage Server).
//! - [`dispatch`]: from an invocation's command path to its logic, for both transports.
//! - [`gateway`]: the poise adapter: a handler builds the invocation, runs the command's
//!   logic and shows what it returns.
//! - [`place`]: where a command was used (channel, thread parent, age restriction).
//! - [`admit`]: the checks of where and with which links a video is asked, shared by
//!   `/video` and "Run again".

pub mod admit;
pub mod credits;
pub mod dispatch;
pub mod gateway;
pub mod jobs;
pub mod place;
pub mod references;
pub mod video;
pub mod video_admin;

use std::sync::atomic::{AtomicU32, Ordering};

use serenity::all::{CommandOptionType, CreateCommandOption};

use super::invocation::Invocation;
use super::{Command, CommandError, Context};
use crate::config::Config;
use crate::jobs::SubmitError;

/// The duration range shown to Discord. poise takes a plain `fn` to shape an option, so the
/// configured range is read from here; [`all`] sets it.
static MIN_DURATION: AtomicU32 = AtomicU32::new(4);
static MAX_DURATION: AtomicU32 = AtomicU32::new(15);

/// Every command of the bot, with `/video`'s duration range from `config`.
pub fn all(config: &Config) -> Vec<Command> {
    MIN_DURATION.store(config.video.min_duration, Ordering::Relaxed);
    MAX_DURATION.store(config.video.max_duration, Ordering::Relaxed);
    let mut video = video::video();
    for p in &mut video.parameters {
        if p.name == "duration" {
            p.type_setter = Some(duration_option);
        }
    }
    vec![
        video,
        video_admin::video_admin(),
        credits::credits(),
        jobs::jobs(),
    ]
}

fn duration_option(option: CreateCommandOption) -> CreateCommandOption {
    option
        .kind(CommandOptionType::Integer)
        .min_int_value(u64::from(MIN_DURATION.load(Ordering::Relaxed)))
        .max_int_value(u64::from(MAX_DURATION.load(Ordering::Relaxed)))
}

/// The refusal a member reads when a submission was turned down (nothing was charged).
pub fn refusal(e: SubmitError) -> CommandError {
    let text = match &e {
        SubmitError::Invalid(why) => {
            format!("I can't make this video: {why}. Nothing was charged.")
        }
        SubmitError::NotAllowed(why) => {
            format!("{}. Nothing was charged.", capitalize(&why.to_string()))
        }
        SubmitError::TooManyActive { .. } => {
            format!("{}. Nothing was charged.", capitalize(&e.to_string()))
        }
        SubmitError::Credits(why) => format!(
            "Not enough credits: {why}. Nothing was charged; try a shorter or lower-resolution video, or ask a server admin for more credits."
        ),
        SubmitError::NoPrice(_) => format!("{}.", capitalize(&e.to_string())),
        SubmitError::Internal(_) => return CommandError::Internal(Box::new(e)),
    };
    CommandError::User(text)
}

pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The server a command was used in, or the reply for a DM.
pub fn guild_of(inv: &Invocation) -> Result<crate::ids::GuildId, CommandError> {
    inv.guild
        .map(|g| crate::ids::GuildId(g.get()))
        .ok_or_else(|| {
            CommandError::user("This works in a server only: each server has its own credit pool.")
        })
}

/// A required option's value; Discord always sends one, so a missing one means the
/// registered command differs from the code.
pub fn required<T>(value: Option<T>, name: &str) -> Result<T, CommandError> {
    value.ok_or_else(|| {
        tracing::error!(
            option = name,
            "a required option is missing: the registered command differs from the code"
        );
        CommandError::user(
            "This command is out of date; an operator needs to re-register the commands.",
        )
    })
}

/// A ledger failure: the member's mistake shown as is, anything else as an internal error.
pub fn ledger_error(e: crate::credits::LedgerError) -> CommandError {
    if e.is_user_error() {
        CommandError::User(capitalize(&e.to_string()))
    } else {
        CommandError::Internal(Box::new(e))
    }
}

/// The per-member command rate limit as poise's command check: `Ok(true)` lets the command
/// run; a refusal says how long to wait, privately.
pub fn rate_check(ctx: Context<'_>) -> Result<bool, CommandError> {
    let member = crate::ids::MemberId(ctx.author().id.get());
    rate_limit(ctx.data(), member, ctx.id(), &ctx.command().qualified_name).map(|()| true)
}

/// The per-member command rate limit for interaction `id`, whichever transport brought it
/// (`what` names the command in the log).
pub fn rate_limit(
    data: &super::Data,
    member: crate::ids::MemberId,
    id: u64,
    what: &str,
) -> Result<(), CommandError> {
    match data.jobs.guild_settings().command_rate().check(member, id) {
        Ok(()) => Ok(()),
        Err(limited) => {
            tracing::info!(member = member.0, command = %what, "command rate-limited");
            Err(rate_refusal(&limited))
        }
    }
}

/// What a member reads when the command rate limit stops them (commands and buttons alike).
pub fn rate_refusal(limited: &crate::guild_settings::RateLimited) -> CommandError {
    CommandError::User(format!(
        "{}. Nothing was charged.",
        capitalize(&limited.to_string())
    ))
}
