//! `/video-admin show`, and the words for every setting that end each answer of
//! `/video-admin`.

use super::change::managed_guild;
use crate::config::Config;
use crate::discord::card::clip;
use crate::discord::commands::{gateway, lang};
use crate::discord::invocation::Invocation;
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::guild_settings::{ContentFilter, ServerSettings, policy};
use crate::i18n::Lang;
use crate::tr;

pub(super) fn private(text: String) -> Reply {
    Reply::private(clip(&text, 2000))
}

/// Every setting, in words (in `lang`, the admin's language).
pub(super) fn describe(
    lang: Lang,
    s: &ServerSettings,
    guild_locale: Option<&str>,
    config: &Config,
) -> String {
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
