//! `/credits`: the server's pool as members see it (`balance`, `history`) and as operators
//! and admins change it (`grant`, `cap`, and for operators `link`/`unlink` to share a pool
//! between servers). Every answer is private to the member.

use serenity::all::User;

use super::{gateway, guild_of, ledger_error, required};
use crate::credits::{Actor, EntryKind, JournalEntry, format_utc};
use crate::discord::card::clip;
use crate::discord::invocation::Invocation;
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
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

fn private(text: String) -> Result<Reply, CommandError> {
    Ok(Reply::private(clip(&text, 2000)))
}

/// The pool's credits, your usage today and your active jobs
#[poise::command(slash_command, guild_only)]
pub async fn balance(ctx: Context<'_>) -> Result<(), CommandError> {
    gateway::run(ctx).await
}

/// `/credits balance`.
pub async fn show_balance(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    let member = MemberId(inv.user.get());
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
    private(format!(
        "**Pool**: {} credits available, {} held for videos in progress.\n**You today**: {cap}.\n**Your active jobs**: {jobs}.\n**Price per second**: {}.",
        b.available,
        b.pending,
        prices.join(", ")
    ))
}

/// The pool's journal: your entries, or everyone's with Manage Server
#[poise::command(slash_command, guild_only)]
pub async fn history(
    ctx: Context<'_>,
    #[description = "Only this member's entries (Manage Server needed for others)"] user: Option<
        User,
    >,
) -> Result<(), CommandError> {
    let _ = user;
    gateway::run(ctx).await
}

/// `/credits history [user]`.
pub async fn show_history(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    let me = inv.user;
    let manager = inv.can_manage();
    let member = match inv.options.user("user") {
        Some(u) if u != me && !manager => {
            return Err(CommandError::user(
                "You need the Manage Server permission to see another member's history.",
            ));
        }
        Some(u) => Some(MemberId(u.get())),
        None if manager => None,
        None => Some(MemberId(me.get())),
    };
    let rows = data
        .jobs
        .ledger()
        .history(guild, member, HISTORY_ROWS)
        .map_err(ledger_error)?;
    if rows.is_empty() {
        return private("No entries yet.".into());
    }
    let lines: Vec<String> = rows.iter().map(row).collect();
    private(lines.join("\n"))
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
    let _ = (amount, reason);
    gateway::run(ctx).await
}

/// `/credits grant amount reason`.
pub async fn do_grant(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    let me = operator(inv, data, "grant credits")?;
    let amount = required(inv.options.integer("amount"), "amount")?;
    let reason = required(inv.options.string("reason"), "reason")?;
    let balance = data
        .jobs
        .ledger()
        .grant(guild, amount, Actor::Operator(me), reason)
        .await
        .map_err(ledger_error)?;
    private(format!(
        "Granted {amount:+} credits. The pool now has {} available.",
        balance.available
    ))
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
    let _ = (amount, user);
    gateway::run(ctx).await
}

/// `/credits cap amount [user]`.
pub async fn set_cap(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    if !inv.can_manage() {
        return Err(CommandError::user(
            "You need the Manage Server permission to set caps.",
        ));
    }
    let amount = u64::try_from(required(inv.options.integer("amount"), "amount")?)
        .map_err(|_| CommandError::user("A cap cannot be negative; use 0 for no cap."))?;
    let actor = Actor::Member(MemberId(inv.user.get()));
    let ledger = data.jobs.ledger();
    let text = match inv.options.user("user") {
        Some(u) => {
            ledger
                .set_member_cap(guild, MemberId(u.get()), Some(amount), actor)
                .await
                .map_err(ledger_error)?;
            format!("<@{u}> may now spend {} credits a day.", cap_words(amount))
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
    private(text)
}

fn cap_words(amount: u64) -> String {
    if amount == 0 {
        "any number of".into()
    } else {
        format!("up to {amount}")
    }
}

/// The member, when they are one of the bot's operators (`discord.owner_ids`).
fn operator(inv: &Invocation, data: &Data, to: &str) -> Result<MemberId, CommandError> {
    let me = inv.user.get();
    if data.config.discord.owner_ids.contains(&me) {
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
    let _ = server;
    gateway::run(ctx).await
}

/// `/credits link server`.
pub async fn link_pool(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    let me = operator(inv, data, "link pools")?;
    let with = required(inv.options.string("server"), "server")?
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
    let ledger = data.jobs.ledger();
    let pool = ledger
        .link(guild, with, Actor::Operator(me))
        .await
        .map_err(ledger_error)?;
    let b = ledger.balance(guild).map_err(ledger_error)?;
    private(format!(
        "This server now spends from pool {pool} (shared with server {with}), which has {} credits available.",
        b.available
    ))
}

/// Make this server spend from its own pool again; bot operators only
#[poise::command(slash_command, guild_only)]
pub async fn unlink(ctx: Context<'_>) -> Result<(), CommandError> {
    gateway::run(ctx).await
}

/// `/credits unlink`.
pub async fn unlink_pool(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    let me = operator(inv, data, "unlink pools")?;
    let ledger = data.jobs.ledger();
    let pool = ledger
        .unlink(guild, Actor::Operator(me))
        .await
        .map_err(ledger_error)?;
    let b = ledger.balance(guild).map_err(ledger_error)?;
    private(format!(
        "This server spends from its own pool {pool} again, which has {} credits available.",
        b.available
    ))
}
