//! Where and by whom `/video` may be used: `allow-channel`, `disallow-channel`,
//! `any-channel`, `allow-role`, `disallow-role`, `any-role`.

use serenity::all::{ChannelId as DiscordChannel, Role};

use super::change::change;
use crate::discord::commands::{gateway, lang, required};
use crate::discord::invocation::{Invocation, OptionValue};
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::ids::ChannelId;
use crate::tr;

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
