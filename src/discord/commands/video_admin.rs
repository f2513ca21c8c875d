//! `/video-admin`: a server's settings for `/video` (where, how large, defaults, cooldown,
//! web search, content filter). Manage Server only: Discord's `default_member_permissions`
//! hides it, and every subcommand checks the permission again, since a server can override
//! the default.

use poise::CreateReply;
use serenity::all::ChannelId as DiscordChannel;

use super::video::{RatioChoice, ResolutionChoice};
use super::{guild_of, place};
use crate::discord::card::clip;
use crate::discord::{CommandError, Context};
use crate::guild_settings::{ContentFilter, ServerSettings, policy};
use crate::ids::{ChannelId, GuildId};
use crate::video::Resolution;

/// The content filter policy, as offered to admins.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum FilterChoice {
    #[name = "always on"]
    Always,
    #[name = "off in age-restricted channels"]
    OffInAgeRestricted,
}

/// Server settings for /video; Manage Server only
#[poise::command(
    slash_command,
    guild_only,
    rename = "video-admin",
    default_member_permissions = "MANAGE_GUILD",
    subcommands(
        "show",
        "allow_channel",
        "disallow_channel",
        "any_channel",
        "limits",
        "defaults",
        "cooldown",
        "web_search",
        "content_filter"
    ),
    subcommand_required
)]
pub async fn video_admin(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// The server, when the member may manage it.
fn managed_guild(ctx: Context<'_>) -> Result<GuildId, CommandError> {
    let inv = super::gateway::invocation(ctx)?;
    let guild = guild_of(&inv)?;
    if !inv.can_manage() {
        return Err(CommandError::user(
            "You need the Manage Server permission to change how `/video` works here.",
        ));
    }
    Ok(guild)
}

async fn change(
    ctx: Context<'_>,
    what: impl Fn(&mut ServerSettings),
    done: &str,
) -> Result<(), CommandError> {
    let guild = managed_guild(ctx)?;
    let settings = ctx
        .data()
        .jobs
        .guild_settings()
        .update(guild, what)
        .await
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    tracing::info!(
        guild = guild.0,
        member = ctx.author().id.get(),
        change = done,
        "server settings changed by an admin"
    );
    private(ctx, format!("{done}\n\n{}", describe(&settings, ctx))).await
}

async fn private(ctx: Context<'_>, text: String) -> Result<(), CommandError> {
    ctx.send(
        CreateReply::default()
            .content(clip(&text, 2000))
            .ephemeral(true),
    )
    .await?;
    Ok(())
}

/// Every setting, in words.
fn describe(s: &ServerSettings, ctx: Context<'_>) -> String {
    let video = &ctx.data().config.video;
    let channels = if s.allowed_channels.is_empty() {
        "everywhere".to_owned()
    } else {
        policy::channel_list(&s.allowed_channels)
    };
    let or_none = |v: Option<String>| v.unwrap_or_else(|| "no limit".into());
    format!(
        "**Channels**: {channels}\n**Largest video**: {}, {}\n**Defaults**: {}, {}, {} s\n**Cooldown per member**: {}\n**Web search**: {}\n**Content filter**: {}",
        or_none(s.max_resolution.map(|r| r.to_string())),
        or_none(s.max_duration.map(|d| format!("{d} s"))),
        s.default_resolution.unwrap_or(video.default_resolution),
        s.default_ratio.unwrap_or(video.default_ratio),
        s.default_duration.unwrap_or(video.default_duration),
        if s.cooldown_secs == 0 {
            "none".to_owned()
        } else {
            format!("{} s", s.cooldown_secs)
        },
        if s.web_search_allowed {
            "allowed"
        } else {
            "not allowed"
        },
        match s.content_filter {
            ContentFilter::Always => "always on",
            ContentFilter::OffInAgeRestricted => "off in age-restricted channels",
        }
    )
}

/// Show this server's /video settings
#[poise::command(slash_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = managed_guild(ctx)?;
    let settings = ctx
        .data()
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    private(ctx, describe(&settings, ctx)).await
}

/// The channel named, or the one the command was used in.
fn channel_or_here(ctx: Context<'_>, channel: Option<DiscordChannel>) -> ChannelId {
    match (channel, ctx) {
        (Some(c), _) => ChannelId(c.get()),
        (None, Context::Application(a)) => place::of(a.interaction).channel,
        (None, _) => ChannelId(ctx.channel_id().get()),
    }
}

/// Allow /video in a channel (once any is allowed, only those)
#[poise::command(slash_command, guild_only, rename = "allow-channel")]
pub async fn allow_channel(
    ctx: Context<'_>,
    #[description = "The channel (default: this one)"] channel: Option<DiscordChannel>,
) -> Result<(), CommandError> {
    let id = channel_or_here(ctx, channel);
    let done = format!("`/video` is now allowed in <#{id}>.");
    change(
        ctx,
        move |s| {
            if !s.allowed_channels.contains(&id) {
                s.allowed_channels.push(id);
            }
        },
        &done,
    )
    .await
}

/// Stop allowing /video in a channel
#[poise::command(slash_command, guild_only, rename = "disallow-channel")]
pub async fn disallow_channel(
    ctx: Context<'_>,
    #[description = "The channel (default: this one)"] channel: Option<DiscordChannel>,
) -> Result<(), CommandError> {
    let id = channel_or_here(ctx, channel);
    let done = format!("<#{id}> is no longer on the list of allowed channels.");
    change(ctx, move |s| s.allowed_channels.retain(|c| *c != id), &done).await
}

/// Allow /video in every channel again
#[poise::command(slash_command, guild_only, rename = "any-channel")]
pub async fn any_channel(ctx: Context<'_>) -> Result<(), CommandError> {
    change(
        ctx,
        |s| s.allowed_channels.clear(),
        "`/video` is now allowed in every channel.",
    )
    .await
}

/// The largest video members may ask for
#[poise::command(slash_command, guild_only)]
pub async fn limits(
    ctx: Context<'_>,
    #[description = "Highest resolution (1080p: no limit)"] max_resolution: Option<
        ResolutionChoice,
    >,
    #[description = "Longest video in seconds (0: no limit)"]
    #[min = 0]
    #[max = 3600]
    max_duration: Option<i64>,
) -> Result<(), CommandError> {
    let resolution = max_resolution
        .map(Resolution::from)
        .map(|r| (r < Resolution::P1080).then_some(r));
    let duration = max_duration.map(|d| u32::try_from(d).ok().filter(|d| *d > 0));
    change(
        ctx,
        move |s| {
            if let Some(r) = resolution {
                s.max_resolution = r;
            }
            if let Some(d) = duration {
                s.max_duration = d;
            }
        },
        "Limits updated.",
    )
    .await
}

/// What /video uses when a member leaves an option out
#[poise::command(slash_command, guild_only)]
pub async fn defaults(
    ctx: Context<'_>,
    #[description = "Default resolution"] resolution: Option<ResolutionChoice>,
    #[description = "Default aspect ratio"] ratio: Option<RatioChoice>,
    #[description = "Default length in seconds (0: the bot's default)"]
    #[min = 0]
    #[max = 3600]
    duration: Option<i64>,
) -> Result<(), CommandError> {
    let video = &ctx.data().config.video;
    if let Some(d) = duration
        && d != 0
        && !(i64::from(video.min_duration)..=i64::from(video.max_duration)).contains(&d)
    {
        return Err(CommandError::User(format!(
            "A default duration must be between {} and {} seconds (or 0 for the bot's default).",
            video.min_duration, video.max_duration
        )));
    }
    let duration = duration.map(|d| u32::try_from(d).ok().filter(|d| *d > 0));
    change(
        ctx,
        move |s| {
            if let Some(r) = resolution {
                s.default_resolution = Some(r.into());
            }
            if let Some(r) = ratio {
                s.default_ratio = Some(r.into());
            }
            if let Some(d) = duration {
                s.default_duration = d;
            }
        },
        "Defaults updated.",
    )
    .await
}

/// Time each member must wait between starting two videos
#[poise::command(slash_command, guild_only)]
pub async fn cooldown(
    ctx: Context<'_>,
    #[description = "Seconds between a member's videos (0: none)"]
    #[min = 0]
    #[max = 86400]
    seconds: i64,
) -> Result<(), CommandError> {
    let seconds = u64::try_from(seconds)
        .map_err(|_| CommandError::user("A cooldown cannot be negative; use 0 for none."))?;
    let done = format!("Members now wait {seconds} s between videos.");
    change(ctx, move |s| s.cooldown_secs = seconds, &done).await
}

/// Whether members may let the model search the web
#[poise::command(slash_command, guild_only, rename = "web-search")]
pub async fn web_search(
    ctx: Context<'_>,
    #[description = "Allow the web_search option"] allowed: bool,
) -> Result<(), CommandError> {
    let done = if allowed {
        "Members may now use `web_search`."
    } else {
        "Members may no longer use `web_search`."
    };
    change(ctx, move |s| s.web_search_allowed = allowed, done).await
}

/// When the provider's content filter may be off
#[poise::command(slash_command, guild_only, rename = "content-filter")]
pub async fn content_filter(
    ctx: Context<'_>,
    #[description = "The filter is always on, or off in age-restricted channels only"]
    policy: FilterChoice,
) -> Result<(), CommandError> {
    let (filter, done) = match policy {
        FilterChoice::Always => (
            ContentFilter::Always,
            "The content filter is now always on.",
        ),
        FilterChoice::OffInAgeRestricted => (
            ContentFilter::OffInAgeRestricted,
            "The content filter is now off for videos made in age-restricted channels, and on everywhere else.",
        ),
    };
    change(ctx, move |s| s.content_filter = filter, done).await
}
