//! `/video-admin`: a server's settings for `/video` (where, who, how large, defaults,
//! cooldown, web search, content filter, the language of public messages, the price above
//! which a job waits for approval and the role that may give it). Manage Server only: Discord's `default_member_permissions`
//! hides it, and every subcommand checks the permission again, since a server can override
//! the default.

use serenity::all::{ChannelId as DiscordChannel, Role};

use super::video::{RatioChoice, ResolutionChoice};
use super::{gateway, guild_of, lang, required};
use crate::config::Config;
use crate::discord::card::clip;
use crate::discord::invocation::{Invocation, OptionValue};
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::guild_settings::{ContentFilter, ServerSettings, policy};
use crate::i18n::Lang;
use crate::ids::{ChannelId, GuildId};
use crate::tr;
use crate::video::Resolution;

/// The language of the server's public messages, as offered to admins.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum LanguageChoice {
    #[name = "English"]
    English,
    #[name = "简体中文"]
    SimplifiedChinese,
}

impl From<LanguageChoice> for Lang {
    fn from(c: LanguageChoice) -> Lang {
        match c {
            LanguageChoice::English => Lang::English,
            LanguageChoice::SimplifiedChinese => Lang::SimplifiedChinese,
        }
    }
}

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
        "content_filter",
        "language",
        "allow_role",
        "disallow_role",
        "any_role",
        "approval",
        "approver"
    ),
    subcommand_required
)]
pub async fn video_admin(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// The server, when the member may manage it.
fn managed_guild(inv: &Invocation) -> Result<GuildId, CommandError> {
    let guild = guild_of(inv)?;
    if !inv.can_manage() {
        return Err(CommandError::User(tr!(lang(inv), "admin-not-manager")));
    }
    Ok(guild)
}

async fn change(
    inv: &Invocation,
    data: &Data,
    what: impl Fn(&mut ServerSettings) + Send + Sync + 'static,
    done: String,
) -> Result<Reply, CommandError> {
    let guild = managed_guild(inv)?;
    let settings = data
        .jobs
        .guild_settings()
        .update(guild, what)
        .await
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    tracing::info!(
        guild = guild.0,
        member = inv.user.get(),
        change = %done,
        "server settings changed by an admin"
    );
    Ok(private(format!(
        "{done}\n\n{}",
        describe(
            lang(inv),
            &settings,
            inv.guild_locale.as_deref(),
            &data.config
        )
    )))
}

fn private(text: String) -> Reply {
    Reply::private(clip(&text, 2000))
}

/// Every setting, in words (in `lang`, the admin's language).
fn describe(lang: Lang, s: &ServerSettings, guild_locale: Option<&str>, config: &Config) -> String {
    let video = &config.video;
    let channels = if s.allowed_channels.is_empty() {
        tr!(lang, "admin-everywhere")
    } else {
        policy::channel_list(&s.allowed_channels)
    };
    let or_none = |v: Option<String>| v.unwrap_or_else(|| tr!(lang, "admin-no-limit"));
    let language = match s.language {
        Some(l) => l.native_name().to_owned(),
        None => tr!(
            lang,
            "admin-language-auto",
            language = crate::i18n::server_lang(s, guild_locale).native_name()
        ),
    };
    let lines = [
        tr!(lang, "admin-show-channels", channels = channels),
        tr!(
            lang,
            "admin-show-roles",
            roles = if s.allowed_roles.is_empty() {
                tr!(lang, "admin-everyone")
            } else {
                policy::role_list(&s.allowed_roles)
            }
        ),
        tr!(
            lang,
            "admin-show-largest",
            resolution = or_none(s.max_resolution.map(|r| r.to_string())),
            duration = or_none(s.max_duration.map(|d| lang.secs(d)))
        ),
        tr!(
            lang,
            "admin-show-defaults",
            resolution = s.default_resolution.unwrap_or(video.default_resolution),
            ratio = s.default_ratio.unwrap_or(video.default_ratio),
            duration = lang.secs(s.default_duration.unwrap_or(video.default_duration))
        ),
        tr!(
            lang,
            "admin-show-cooldown",
            value = if s.cooldown_secs == 0 {
                tr!(lang, "word-none")
            } else {
                lang.secs(s.cooldown_secs)
            }
        ),
        tr!(
            lang,
            "admin-show-web-search",
            value = if s.web_search_allowed {
                tr!(lang, "admin-allowed")
            } else {
                tr!(lang, "admin-not-allowed")
            }
        ),
        tr!(
            lang,
            "admin-show-filter",
            value = match s.content_filter {
                ContentFilter::Always => tr!(lang, "admin-filter-always"),
                ContentFilter::OffInAgeRestricted => tr!(lang, "admin-filter-off-age-restricted"),
            }
        ),
        tr!(lang, "admin-show-language", value = language),
        tr!(
            lang,
            "admin-show-approval",
            value = if s.approval_above == 0 {
                tr!(lang, "admin-approval-off")
            } else {
                tr!(
                    lang,
                    "admin-approval-above",
                    amount = lang.num(s.approval_above)
                )
            },
            approvers = match s.approver_role {
                Some(role) => tr!(lang, "admin-approvers-role", role = format!("<@&{role}>")),
                None => tr!(lang, "admin-approvers-managers"),
            }
        ),
    ];
    lines.join("\n")
}

/// Show this server's /video settings
#[poise::command(slash_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), CommandError> {
    gateway::run(ctx).await
}

/// `/video-admin show`.
pub async fn show_settings(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = managed_guild(inv)?;
    let settings = data
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    Ok(private(describe(
        lang(inv),
        &settings,
        inv.guild_locale.as_deref(),
        &data.config,
    )))
}

/// The channel named in the `channel` option, or the one the command was used in.
fn channel_or_here(inv: &Invocation) -> ChannelId {
    inv.options
        .channel("channel")
        .map_or(inv.place.channel, |c| ChannelId(c.get()))
}

/// Allow /video in a channel (once any is allowed, only those)
#[poise::command(slash_command, guild_only, rename = "allow-channel")]
pub async fn allow_channel(
    ctx: Context<'_>,
    #[description = "The channel (default: this one)"] channel: Option<DiscordChannel>,
) -> Result<(), CommandError> {
    let _ = channel;
    gateway::run(ctx).await
}

/// `/video-admin allow-channel [channel]`.
pub async fn allow(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let id = channel_or_here(inv);
    let done = tr!(
        lang(inv),
        "admin-channel-allowed",
        channel = format!("<#{id}>")
    );
    change(
        inv,
        data,
        move |s| {
            if !s.allowed_channels.contains(&id) {
                s.allowed_channels.push(id);
            }
        },
        done,
    )
    .await
}

/// Stop allowing /video in a channel
#[poise::command(slash_command, guild_only, rename = "disallow-channel")]
pub async fn disallow_channel(
    ctx: Context<'_>,
    #[description = "The channel (default: this one)"] channel: Option<DiscordChannel>,
) -> Result<(), CommandError> {
    let _ = channel;
    gateway::run(ctx).await
}

/// `/video-admin disallow-channel [channel]`.
pub async fn disallow(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let id = channel_or_here(inv);
    let done = tr!(
        lang(inv),
        "admin-channel-disallowed",
        channel = format!("<#{id}>")
    );
    change(
        inv,
        data,
        move |s| s.allowed_channels.retain(|c| *c != id),
        done,
    )
    .await
}

/// Allow /video in every channel again
#[poise::command(slash_command, guild_only, rename = "any-channel")]
pub async fn any_channel(ctx: Context<'_>) -> Result<(), CommandError> {
    gateway::run(ctx).await
}

/// `/video-admin any-channel`.
pub async fn allow_any(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    change(
        inv,
        data,
        |s| s.allowed_channels.clear(),
        tr!(lang(inv), "admin-any-channel"),
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

/// The language of the server's public messages (job cards, threads)
#[poise::command(slash_command, guild_only)]
pub async fn language(
    ctx: Context<'_>,
    #[description = "English or Simplified Chinese"] language: LanguageChoice,
) -> Result<(), CommandError> {
    let _ = language;
    gateway::run(ctx).await
}

/// `/video-admin language language`.
pub async fn set_language(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let chosen: Lang = required(
        inv,
        inv.options.choice::<LanguageChoice>("language"),
        "language",
    )?
    .into();
    let done = tr!(
        lang(inv),
        "admin-language-set",
        language = chosen.native_name()
    );
    change(inv, data, move |s| s.language = Some(chosen), done).await
}

/// The role named in the `role` option.
fn role_option(inv: &Invocation) -> Result<u64, CommandError> {
    let role = match inv.options.get("role") {
        Some(OptionValue::Role(r)) => Some(r.get()),
        _ => None,
    };
    required(inv, role, "role")
}

/// Let members with a role use /video (once any role is allowed, only those)
#[poise::command(slash_command, guild_only, rename = "allow-role")]
pub async fn allow_role(
    ctx: Context<'_>,
    #[description = "The role"] role: Role,
) -> Result<(), CommandError> {
    let _ = role;
    gateway::run(ctx).await
}

/// `/video-admin allow-role role`.
pub async fn allow_a_role(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let role = role_option(inv)?;
    let done = tr!(
        lang(inv),
        "admin-role-allowed",
        role = format!("<@&{role}>")
    );
    change(
        inv,
        data,
        move |s| {
            if !s.allowed_roles.contains(&role) {
                s.allowed_roles.push(role);
            }
        },
        done,
    )
    .await
}

/// Stop letting members with a role use /video
#[poise::command(slash_command, guild_only, rename = "disallow-role")]
pub async fn disallow_role(
    ctx: Context<'_>,
    #[description = "The role"] role: Role,
) -> Result<(), CommandError> {
    let _ = role;
    gateway::run(ctx).await
}

/// `/video-admin disallow-role role`.
pub async fn disallow_a_role(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let role = role_option(inv)?;
    let done = tr!(
        lang(inv),
        "admin-role-disallowed",
        role = format!("<@&{role}>")
    );
    change(
        inv,
        data,
        move |s| s.allowed_roles.retain(|r| *r != role),
        done,
    )
    .await
}

/// Let every member use /video again, whatever their roles
#[poise::command(slash_command, guild_only, rename = "any-role")]
pub async fn any_role(ctx: Context<'_>) -> Result<(), CommandError> {
    gateway::run(ctx).await
}

/// `/video-admin any-role`.
pub async fn allow_any_role(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    change(
        inv,
        data,
        |s| s.allowed_roles.clear(),
        tr!(lang(inv), "admin-any-role"),
    )
    .await
}

/// Hold videos costing more than a price until an admin approves them
#[poise::command(slash_command, guild_only)]
pub async fn approval(
    ctx: Context<'_>,
    #[description = "Credits; a video costing more waits for approval (0: never)"]
    #[min = 0]
    #[max = 1_000_000_000_000_i64]
    above: i64,
) -> Result<(), CommandError> {
    let _ = above;
    gateway::run(ctx).await
}

/// `/video-admin approval above`.
pub async fn set_approval(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let lang = lang(inv);
    let above = required(inv, inv.options.integer("above"), "above")?;
    let above = u64::try_from(above)
        .ok()
        .filter(|a| *a <= crate::credits::MAX_AMOUNT)
        .ok_or_else(|| CommandError::User(tr!(lang, "admin-approval-range")))?;
    let done = if above == 0 {
        tr!(lang, "admin-approval-set-off")
    } else {
        tr!(lang, "admin-approval-set", amount = lang.num(above))
    };
    change(inv, data, move |s| s.approval_above = above, done).await
}

/// Who may approve held videos, besides Manage Server (no role: Manage Server only)
#[poise::command(slash_command, guild_only)]
pub async fn approver(
    ctx: Context<'_>,
    #[description = "The role (leave out to let only Manage Server decide)"] role: Option<Role>,
) -> Result<(), CommandError> {
    let _ = role;
    gateway::run(ctx).await
}

/// `/video-admin approver [role]`: without a role, only Manage Server decides.
pub async fn set_approver(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let role = match inv.options.get("role") {
        Some(OptionValue::Role(r)) => Some(r.get()),
        _ => None,
    };
    let done = match role {
        Some(role) => tr!(
            lang(inv),
            "admin-approver-set",
            role = format!("<@&{role}>")
        ),
        None => tr!(lang(inv), "admin-approver-cleared"),
    };
    change(inv, data, move |s| s.approver_role = role, done).await
}
