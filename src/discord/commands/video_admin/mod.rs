//! `/video-admin`: a server's settings for `/video` (where, who, how large, defaults,
//! cooldown, web search, content filter, the language of public messages, the price above
//! which a job waits for approval and the role that may give it). Manage Server only: Discord's `default_member_permissions`
//! hides it, and every subcommand checks the permission again, since a server can override
//! the default.
//!
//! Here the command tree; `change.rs` checks the permission and applies one change;
//! `show.rs` the settings in words (`show`, and the end of every answer); the subcommands
//! by concept: `access.rs` (channels and roles), `requests.rs` (limits, defaults,
//! cooldown, web search, content filter), `language.rs`, `approval.rs` (threshold and
//! approver role).

use crate::discord::{CommandError, Context};

mod access;
mod approval;
mod change;
mod language;
mod requests;
mod show;

pub use access::{
    allow, allow_a_role, allow_any, allow_any_role, allow_channel, allow_role, any_channel,
    any_role, disallow, disallow_a_role, disallow_channel, disallow_role,
};
pub use approval::{approval, approver, set_approval, set_approver};
pub use language::{LanguageChoice, language, set_language};
pub use requests::{
    FilterChoice, content_filter, cooldown, defaults, limits, set_content_filter, set_cooldown,
    set_defaults, set_limits, set_web_search, web_search,
};
pub use show::{show, show_settings};

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
