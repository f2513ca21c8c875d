//! The slash commands, one module each, and [`all`], the one list of them.
//!
//! - [`video`]: `/video`, the product; [`references`] reads its files and links.
//! - [`credits`]: `/credits balance|history|grant|cap`.
//! - [`jobs`]: `/jobs`, a member's recent jobs.
//! - [`make_video`]: "Make a video", the message context-menu command: the message's files
//!   and a form with the prompt, then the `/video` way.
//! - [`video_admin`]: `/video-admin`, a server's settings for `/video` (Manage Server).
//! - [`dispatch`]: from an invocation's command path to its logic, for both transports.
//! - [`gateway`]: the poise adapter: a handler builds the invocation, runs the command's
//!   logic and shows what it returns.
//! - [`price`]: the price before spending (`duration` suggestions, the default video).
//! - [`place`]: where a command was used (channel, thread parent, age restriction).
//! - [`localize`]: every command's, option's and choice's names and descriptions in the
//!   other languages, and the list registered with Discord.
//! - [`admit`]: the checks of where and with which links a video is asked, shared by
//!   `/video` and "Run again".

pub mod admit;
pub mod credits;
pub mod dispatch;
pub mod gateway;
pub mod jobs;
pub mod localize;
pub mod make_video;
pub mod place;
pub mod price;
pub mod references;
pub mod video;
pub mod video_admin;

use std::sync::atomic::{AtomicU32, Ordering};

use serenity::all::{
    AutocompleteChoice, CommandOptionType, CreateAutocompleteResponse, CreateCommandOption,
};

use super::invocation::Invocation;
use super::{Command, CommandError, Context};
use crate::config::Config;
use crate::i18n::{Lang, words};
use crate::jobs::SubmitError;
use crate::tr;

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
            p.autocomplete_callback = Some(duration_autocomplete);
        }
    }
    let mut commands = vec![
        video,
        video_admin::video_admin(),
        credits::credits(),
        jobs::jobs(),
        make_video::make_video(),
    ];
    localize::localize(&mut commands);
    commands
}

fn duration_option(option: CreateCommandOption) -> CreateCommandOption {
    option
        .kind(CommandOptionType::Integer)
        .min_int_value(u64::from(MIN_DURATION.load(Ordering::Relaxed)))
        .max_int_value(u64::from(MAX_DURATION.load(Ordering::Relaxed)))
}

/// `/video`'s `duration` suggestions (each length with its price and what the pool has left),
/// for poise's autocomplete; the logic is [`price::duration_choices`].
fn duration_autocomplete<'a>(
    ctx: poise::ApplicationContext<'a, super::Data, CommandError>,
    partial: &'a str,
) -> futures::future::BoxFuture<'a, CreateAutocompleteResponse> {
    Box::pin(async move {
        let inv = Invocation::from(ctx.interaction);
        let choices = match price::duration_choices(&inv, ctx.data(), partial) {
            Ok(choices) => choices,
            Err(e) => {
                tracing::warn!(cause = %super::errors::cause_chain(&e), "no duration suggestions");
                Vec::new()
            }
        };
        CreateAutocompleteResponse::new().set_choices(
            choices
                .into_iter()
                .map(|(label, seconds)| AutocompleteChoice::new(label, seconds))
                .collect(),
        )
    })
}

/// The language of a member's private answers: their Discord client's.
pub fn lang(inv: &Invocation) -> Lang {
    Lang::of_locale(&inv.locale)
}

/// The refusal a member reads, in `lang`, when a submission was turned down (nothing was
/// charged).
pub fn refusal(lang: Lang, e: SubmitError) -> CommandError {
    let text = match &e {
        SubmitError::Invalid(why) => {
            tr!(lang, "refusal-invalid", why = words::invalid(lang, why))
        }
        SubmitError::NotAllowed(why) => {
            tr!(
                lang,
                "refusal-not-allowed",
                why = words::settings(lang, why)
            )
        }
        SubmitError::TooManyActive { active, latest } => {
            tr!(
                lang,
                "refusal-too-many-active",
                active = active,
                latest = latest
            )
        }
        SubmitError::Credits(why) => {
            tr!(lang, "refusal-credits", why = words::ledger(lang, why))
        }
        SubmitError::NoPrice(what) => tr!(lang, "refusal-no-price", what = what),
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
        .ok_or_else(|| CommandError::User(tr!(lang(inv), "error-server-only")))
}

/// A required option's value; Discord always sends one, so a missing one means the
/// registered command differs from the code.
pub fn required<T>(inv: &Invocation, value: Option<T>, name: &str) -> Result<T, CommandError> {
    value.ok_or_else(|| {
        tracing::error!(
            option = name,
            "a required option is missing: the registered command differs from the code"
        );
        CommandError::User(tr!(lang(inv), "error-out-of-date"))
    })
}

/// A ledger failure: the member's mistake shown in `lang`, anything else as an internal
/// error.
pub fn ledger_error(lang: Lang, e: crate::credits::LedgerError) -> CommandError {
    if e.is_user_error() {
        CommandError::User(words::ledger(lang, &e))
    } else {
        CommandError::Internal(Box::new(e))
    }
}

/// The per-member command rate limit as poise's command check: `Ok(true)` lets the command
/// run; a refusal says how long to wait, privately.
pub fn rate_check(ctx: Context<'_>) -> Result<bool, CommandError> {
    // Suggestions while typing are not commands: they spend no token.
    if let Context::Application(actx) = ctx
        && actx.interaction_type == poise::CommandInteractionType::Autocomplete
    {
        return Ok(true);
    }
    let member = crate::ids::MemberId(ctx.author().id.get());
    let lang = Lang::of_locale(ctx.locale().unwrap_or("en-US"));
    rate_limit(
        ctx.data(),
        member,
        ctx.id(),
        &ctx.command().qualified_name,
        lang,
    )
    .map(|()| true)
}

/// The per-member command rate limit for interaction `id`, whichever transport brought it
/// (`what` names the command in the log).
pub fn rate_limit(
    data: &super::Data,
    member: crate::ids::MemberId,
    id: u64,
    what: &str,
    lang: Lang,
) -> Result<(), CommandError> {
    match data.jobs.guild_settings().command_rate().check(member, id) {
        Ok(()) => Ok(()),
        Err(limited) => {
            tracing::info!(member = member.0, command = %what, "command rate-limited");
            Err(rate_refusal(lang, &limited))
        }
    }
}

/// What a member reads when the command rate limit stops them (commands and buttons alike).
pub fn rate_refusal(lang: Lang, limited: &crate::guild_settings::RateLimited) -> CommandError {
    CommandError::User(tr!(
        lang,
        "refusal-rate",
        why = words::rate_limited(lang, limited)
    ))
}
