//! `/credits`: the server's pool as members see it (`balance`, `history`) and as operators
//! and admins change it (`grant`, `cap`, and for operators `link`/`unlink` to share a pool
//! between servers). Every answer is private to the member.

use poise::CreateReply;
use serenity::all::User;

use super::{can_manage, guild_of, ledger_error};
use crate::credits::{Actor, EntryKind, JournalEntry, format_utc};
use crate::discord::card::clip;
use crate::discord::{CommandError, Context};
use crate::ids::{GuildId, MemberId};

/// How many journal rows `history` shows.
const HISTORY_ROWS: usize = 15;

/// The server's credits: balance, history, grants and daily caps
#[poise::command(
    slash_command,
    guild_only,
    subcommands("balance", "history", "grant", "cap", "link", "unlink"),
    subcommand_required
)]
pub async fn credits(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
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

/// The pool's credits, your usage today and your active jobs
#[poise::command(slash_command, guild_only)]
pub async fn balance(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild_of(ctx)?;
    let member = MemberId(ctx.author().id.get());
    let data = ctx.data();
    let ledger = data.jobs.ledger();
    let b = ledger.balance(guild).map_err(ledger_error)?;
    let usage = ledger.member_usage(guild, member).map_err(ledger_error)?;
    let active: Vec<_> = data
        .jobs
        .active_for(member)
        .into_iter()
        .filter(|j| j.request.guild == guild)
        .collect();
    let cap = match usage.cap {
        Some(cap) => format!(
            "{} of your {cap} daily credits (resets {})",
            usage.used_today,
            format_utc(usage.resets_at)
        ),
        None => format!("{} credits (no daily cap)", usage.used_today),
    };
    let prices = data.config.credits.describe_prices();
    let jobs = if active.is_empty() {
        "none".to_owned()
    } else {
        active
            .iter()
            .map(|j| format!("`{}` {} ({} credits)", j.id, j.state.label(), j.cost))
            .collect::<Vec<_>>()
            .join(", ")
    };
    private(
        ctx,
        format!(
            "**Pool**: {} credits available, {} held for videos in progress.\n**You today**: {cap}.\n**Your active jobs**: {jobs}.\n**Price per second**: {}.",
            b.available,
            b.pending,
            prices.join(", ")
        ),
    )
    .await
}

/// The pool's journal: your entries, or everyone's with Manage Server
#[poise::command(slash_command, guild_only)]
pub async fn history(
    ctx: Context<'_>,
    #[description = "Only this member's entries (Manage Server needed for others)"] user: Option<
        User,
    >,
) -> Result<(), CommandError> {
    let guild = guild_of(ctx)?;
    let me = ctx.author().id;
    let manager = can_manage(ctx);
    let member = match &user {
        Some(u) if u.id != me && !manager => {
            return Err(CommandError::user(
                "You need the Manage Server permission to see another member's history.",
            ));
        }
        Some(u) => Some(MemberId(u.id.get())),
        None if manager => None,
        None => Some(MemberId(me.get())),
    };
    let rows = ctx
        .data()
        .jobs
        .ledger()
        .history(guild, member, HISTORY_ROWS)
        .map_err(ledger_error)?;
    if rows.is_empty() {
        return private(ctx, "No entries yet.".into()).await;
    }
    let lines: Vec<String> = rows.iter().map(row).collect();
    private(ctx, lines.join("\n")).await
}

fn row(e: &JournalEntry) -> String {
    let what = match e.kind {
        EntryKind::Grant => format!("granted {:+}", e.amount),
        EntryKind::Reserve => format!("held {}", e.amount),
        EntryKind::Settle => format!("spent {}", e.amount),
        EntryKind::Void => format!("refunded {}", e.amount),
        EntryKind::DefaultCap => format!("default daily cap set to {}", e.amount),
        EntryKind::MemberCap => format!("member daily cap set to {}", e.amount),
        other => other.to_string(),
    };
    let who = e.member.map(|m| format!(" <@{m}>")).unwrap_or_default();
    format!(
        "`{}` {what}{who}: {} ({} available)",
        format_utc(e.at),
        clip(&e.reason, 80),
        e.available_after
    )
}

/// Add credits to the pool (negative to remove); bot operators only
#[poise::command(slash_command, guild_only)]
pub async fn grant(
    ctx: Context<'_>,
    #[description = "Credits to add; negative to take back"] amount: i64,
    #[description = "Why (kept in the journal)"]
    #[max_length = 200]
    reason: String,
) -> Result<(), CommandError> {
    let guild = guild_of(ctx)?;
    let me = operator(ctx, "grant credits")?;
    let data = ctx.data();
    let balance = data
        .jobs
        .ledger()
        .grant(guild, amount, Actor::Operator(me), &reason)
        .await
        .map_err(ledger_error)?;
    private(
        ctx,
        format!(
            "Granted {amount:+} credits. The pool now has {} available.",
            balance.available
        ),
    )
    .await
}

/// Set the daily credit cap: the server's default, or one member's; Manage Server only
///
/// `default_member_permissions` only gates a top-level command, and `/credits balance` is
/// for everyone: the member's Manage Server permission is checked here instead.
#[poise::command(slash_command, guild_only)]
pub async fn cap(
    ctx: Context<'_>,
    #[description = "Credits per member per day; 0 for no cap"] amount: i64,
    #[description = "Only this member"] user: Option<User>,
) -> Result<(), CommandError> {
    let guild = guild_of(ctx)?;
    if !can_manage(ctx) {
        return Err(CommandError::user(
            "You need the Manage Server permission to set caps.",
        ));
    }
    let amount = u64::try_from(amount)
        .map_err(|_| CommandError::user("A cap cannot be negative; use 0 for no cap."))?;
    let actor = Actor::Member(MemberId(ctx.author().id.get()));
    let ledger = ctx.data().jobs.ledger();
    let text = match user {
        Some(u) => {
            ledger
                .set_member_cap(guild, MemberId(u.id.get()), Some(amount), actor)
                .await
                .map_err(ledger_error)?;
            format!(
                "<@{}> may now spend {} credits a day.",
                u.id,
                cap_words(amount)
            )
        }
        None => {
            ledger
                .set_default_cap(guild, amount, actor)
                .await
                .map_err(ledger_error)?;
            format!(
                "Members may now spend {} credits a day by default.",
                cap_words(amount)
            )
        }
    };
    private(ctx, text).await
}

fn cap_words(amount: u64) -> String {
    if amount == 0 {
        "any number of".into()
    } else {
        format!("up to {amount}")
    }
}

/// The member, when they are one of the bot's operators (`discord.owner_ids`).
fn operator(ctx: Context<'_>, to: &str) -> Result<MemberId, CommandError> {
    let me = ctx.author().id.get();
    if ctx.data().config.discord.owner_ids.contains(&me) {
        Ok(MemberId(me))
    } else {
        Err(CommandError::User(format!(
            "Only the bot's operators can {to}."
        )))
    }
}

/// Make this server spend from another server's pool; bot operators only
#[poise::command(slash_command, guild_only)]
pub async fn link(
    ctx: Context<'_>,
    #[description = "The id of the server whose pool this one should share"]
    #[max_length = 20]
    server: String,
) -> Result<(), CommandError> {
    let guild = guild_of(ctx)?;
    let me = operator(ctx, "link pools")?;
    let with = server
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|id| *id != 0)
        .map(GuildId)
        .ok_or_else(|| {
            CommandError::user(
                "`server` must be a server id (a number; right-click the server with Developer Mode on and copy its id).",
            )
        })?;
    if with == guild {
        return Err(CommandError::user(
            "That is this server: to go back to its own pool, use `/credits unlink`.",
        ));
    }
    let ledger = ctx.data().jobs.ledger();
    let pool = ledger
        .link(guild, with, Actor::Operator(me))
        .await
        .map_err(ledger_error)?;
    let b = ledger.balance(guild).map_err(ledger_error)?;
    private(
        ctx,
        format!(
            "This server now spends from pool {pool} (shared with server {with}), which has {} credits available.",
            b.available
        ),
    )
    .await
}

/// Make this server spend from its own pool again; bot operators only
#[poise::command(slash_command, guild_only)]
pub async fn unlink(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild_of(ctx)?;
    let me = operator(ctx, "unlink pools")?;
    let ledger = ctx.data().jobs.ledger();
    let pool = ledger
        .unlink(guild, Actor::Operator(me))
        .await
        .map_err(ledger_error)?;
    let b = ledger.balance(guild).map_err(ledger_error)?;
    private(
        ctx,
        format!(
            "This server spends from its own pool {pool} again, which has {} credits available.",
            b.available
        ),
    )
    .await
}
