//! What a `/video` may ask for and how often: `limits`, `defaults`, `cooldown`,
//! `web-search`, `content-filter`.

use super::change::change;
use crate::discord::commands::video::{RatioChoice, ResolutionChoice};
use crate::discord::commands::{gateway, lang, required};
use crate::discord::invocation::Invocation;
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::guild_settings::ContentFilter;
use crate::tr;
use crate::video::Resolution;

/// The content filter policy, as offered to admins.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum FilterChoice {
    #[name = "always on"]
    Always,
    #[name = "off in age-restricted channels"]
    OffInAgeRestricted,
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
    let _ = (max_resolution, max_duration);
    gateway::run(ctx).await
}

/// `/video-admin limits [max_resolution] [max_duration]`.
pub async fn set_limits(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let max_resolution = inv.options.choice::<ResolutionChoice>("max_resolution");
    let max_duration = inv.options.integer("max_duration");
    let resolution = max_resolution
        .map(Resolution::from)
        .map(|r| (r < Resolution::P1080).then_some(r));
    let duration = max_duration.map(|d| u32::try_from(d).ok().filter(|d| *d > 0));
    change(
        inv,
        data,
        move |s| {
            if let Some(r) = resolution {
                s.max_resolution = r;
            }
            if let Some(d) = duration {
                s.max_duration = d;
            }
        },
        tr!(lang(inv), "admin-limits-updated"),
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
    let _ = (resolution, ratio, duration);
    gateway::run(ctx).await
}

/// `/video-admin defaults [resolution] [ratio] [duration]`.
pub async fn set_defaults(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let resolution = inv.options.choice::<ResolutionChoice>("resolution");
    let ratio = inv.options.choice::<RatioChoice>("ratio");
    let duration = inv.options.integer("duration");
    let video = &data.config.video;
    if let Some(d) = duration
        && d != 0
        && !(i64::from(video.min_duration)..=i64::from(video.max_duration)).contains(&d)
    {
        return Err(CommandError::User(tr!(
            lang(inv),
            "admin-default-duration-range",
            min = video.min_duration,
            max = video.max_duration
        )));
    }
    let duration = duration.map(|d| u32::try_from(d).ok().filter(|d| *d > 0));
    change(
        inv,
        data,
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
        tr!(lang(inv), "admin-defaults-updated"),
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
    let _ = seconds;
    gateway::run(ctx).await
}

/// `/video-admin cooldown seconds`.
pub async fn set_cooldown(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let lang = lang(inv);
    let seconds = u64::try_from(required(inv, inv.options.integer("seconds"), "seconds")?)
        .map_err(|_| CommandError::User(tr!(lang, "admin-cooldown-negative")))?;
    let done = tr!(lang, "admin-cooldown-set", wait = lang.secs(seconds));
    change(inv, data, move |s| s.cooldown_secs = seconds, done).await
}

/// Whether members may let the model search the web
#[poise::command(slash_command, guild_only, rename = "web-search")]
pub async fn web_search(
    ctx: Context<'_>,
    #[description = "Allow the web_search option"] allowed: bool,
) -> Result<(), CommandError> {
    let _ = allowed;
    gateway::run(ctx).await
}

/// `/video-admin web-search allowed`.
pub async fn set_web_search(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let allowed = required(inv, inv.options.boolean("allowed"), "allowed")?;
    let done = if allowed {
        tr!(lang(inv), "admin-web-search-on")
    } else {
        tr!(lang(inv), "admin-web-search-off")
    };
    change(inv, data, move |s| s.web_search_allowed = allowed, done).await
}

/// When the provider's content filter may be off
#[poise::command(slash_command, guild_only, rename = "content-filter")]
pub async fn content_filter(
    ctx: Context<'_>,
    #[description = "The filter is always on, or off in age-restricted channels only"]
    policy: FilterChoice,
) -> Result<(), CommandError> {
    let _ = policy;
    gateway::run(ctx).await
}

/// `/video-admin content-filter policy`.
pub async fn set_content_filter(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let policy = required(inv, inv.options.choice::<FilterChoice>("policy"), "policy")?;
    let (filter, done) = match policy {
        FilterChoice::Always => (ContentFilter::Always, tr!(lang(inv), "admin-filter-on")),
        FilterChoice::OffInAgeRestricted => (
            ContentFilter::OffInAgeRestricted,
            tr!(lang(inv), "admin-filter-off"),
        ),
    };
    change(inv, data, move |s| s.content_filter = filter, done).await
}
