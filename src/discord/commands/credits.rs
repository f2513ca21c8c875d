//! `/credits`: the server's pool as members see it (`balance`, `history`) and as operators
//! and admins change it (`grant`, `cap`, and for operators `link`/`unlink` to share a pool
//! between servers). Every answer is private to the member.

use serenity::all::{Role, User};

use super::{gateway, guild_of, lang, ledger_error, required};
use crate::credits::{Actor, CapSource, EntryKind, JournalEntry};
use crate::discord::card::clip;
use crate::discord::invocation::Invocation;
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::i18n::Lang;
use crate::ids::{GuildId, MemberId};
use crate::tr;

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
    let lang = lang(inv);
    let member = MemberId(inv.user.get());
    let roles: Vec<u64> = inv.roles.iter().map(|r| r.get()).collect();
    let ledger = data.jobs.ledger();
    let b = ledger.balance(guild).map_err(|e| ledger_error(lang, e))?;
    let usage = ledger
        .member_usage(guild, member, &roles)
        .map_err(|e| ledger_error(lang, e))?;
    let server = data
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    let active: Vec<_> = data
        .jobs
        .active_for(member)
        .into_iter()
        .filter(|j| j.request.guild == guild)
        .collect();
    let cap = match usage.cap {
        Some(cap) => tr!(
            lang,
            "balance-capped",
            used = lang.num(usage.used_today),
            cap = lang.num(cap),
            resets = lang.time(usage.resets_at)
        ),
        None => tr!(lang, "balance-uncapped", used = lang.num(usage.used_today)),
    };
    let prices = describe_prices(lang, &data.config.credits);
    let jobs = if active.is_empty() {
        tr!(lang, "word-none")
    } else {
        active
            .iter()
            .map(|j| {
                tr!(
                    lang,
                    "balance-job",
                    id = j.id,
                    state = crate::discord::card::state_label(lang, &j.state),
                    cost = lang.num(j.cost)
                )
            })
            .collect::<Vec<_>>()
            .join(tr!(lang, "list-separator").as_str())
    };
    let lines = [
        tr!(
            lang,
            "balance-pool",
            available = lang.num(b.available),
            held = lang.num(b.pending)
        ),
        tr!(
            lang,
            "balance-today",
            today = cap,
            source = match usage.source {
                CapSource::Member => tr!(lang, "balance-cap-member"),
                CapSource::Role(role) =>
                    tr!(lang, "balance-cap-role", role = format!("<@&{role}>")),
                CapSource::Default => tr!(lang, "balance-cap-default"),
            }
        ),
        tr!(lang, "balance-jobs", jobs = jobs),
        tr!(lang, "balance-prices", prices = prices),
        super::price::default_video_line(
            lang,
            data,
            &server,
            b.available,
            usage.cap.map(|cap| cap.saturating_sub(usage.used_today)),
        ),
    ];
    private(lines.join("\n"))
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
    let lang = lang(inv);
    let me = inv.user;
    let manager = inv.can_manage();
    let member = match inv.options.user("user") {
        Some(u) if u != me && !manager => {
            return Err(CommandError::User(tr!(lang, "history-not-manager")));
        }
        Some(u) => Some(MemberId(u.get())),
        None if manager => None,
        None => Some(MemberId(me.get())),
    };
    let rows = data
        .jobs
        .ledger()
        .history(guild, member, HISTORY_ROWS)
        .map_err(|e| ledger_error(lang, e))?;
    if rows.is_empty() {
        return private(tr!(lang, "history-empty"));
    }
    let lines: Vec<String> = rows.iter().map(|e| row(lang, e)).collect();
    private(lines.join("\n"))
}

fn row(lang: Lang, e: &JournalEntry) -> String {
    let amount = lang.num(e.amount.unsigned_abs());
    let what = match e.kind {
        EntryKind::Grant if e.amount < 0 => tr!(lang, "history-removed", amount = amount),
        EntryKind::Grant => tr!(lang, "history-granted", amount = amount),
        EntryKind::Reserve => tr!(lang, "history-held", amount = amount),
        EntryKind::Settle => tr!(lang, "history-spent", amount = amount),
        EntryKind::Void => tr!(lang, "history-refunded", amount = amount),
        EntryKind::DefaultCap => tr!(lang, "history-default-cap", amount = amount),
        EntryKind::MemberCap => tr!(lang, "history-member-cap", amount = amount),
        EntryKind::RoleCap => tr!(lang, "history-role-cap", amount = amount),
        EntryKind::Approved | EntryKind::Rejected => {
            let by = match e.actor {
                Actor::Member(m) | Actor::Operator(m) => format!("<@{m}>"),
                other => other.to_string(),
            };
            if e.kind == EntryKind::Approved {
                tr!(lang, "history-approved", by = by)
            } else {
                tr!(lang, "history-rejected", by = by)
            }
        }
        EntryKind::ApprovalExpired => tr!(lang, "history-approval-expired"),
        other => other.to_string(),
    };
    let who = e.member.map(|m| format!(" <@{m}>")).unwrap_or_default();
    tr!(
        lang,
        "history-row",
        at = lang.time(e.at),
        what = what,
        who = who,
        reason = clip(&e.reason, 80),
        available = lang.num(e.available_after)
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
    let lang = lang(inv);
    let me = operator(inv, data, Operation::Grant)?;
    let amount = required(inv, inv.options.integer("amount"), "amount")?;
    let reason = required(inv, inv.options.string("reason"), "reason")?;
    let balance = data
        .jobs
        .ledger()
        .grant(guild, amount, Actor::Operator(me), reason)
        .await
        .map_err(|e| ledger_error(lang, e))?;
    let sign = if amount < 0 { "-" } else { "+" };
    private(tr!(
        lang,
        "granted",
        amount = format!("{sign}{}", lang.num(amount.unsigned_abs())),
        available = lang.num(balance.available)
    ))
}

/// Set the daily credit cap: the server's default, one member's or a role's; Manage Server only
///
/// `default_member_permissions` only gates a top-level command, and `/credits balance` is
/// for everyone: the member's Manage Server permission is checked here instead.
#[poise::command(slash_command, guild_only)]
pub async fn cap(
    ctx: Context<'_>,
    #[description = "Credits per member per day; 0 for no cap"] amount: i64,
    #[description = "Only this member"] user: Option<User>,
    #[description = "Only members holding this role"] role: Option<Role>,
) -> Result<(), CommandError> {
    let _ = (amount, user, role);
    gateway::run(ctx).await
}

/// `/credits cap amount [user] [role]`.
pub async fn set_cap(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    let lang = lang(inv);
    if !inv.can_manage() {
        return Err(CommandError::User(tr!(lang, "cap-not-manager")));
    }
    let amount = u64::try_from(required(inv, inv.options.integer("amount"), "amount")?)
        .map_err(|_| CommandError::User(tr!(lang, "cap-negative")))?;
    let actor = Actor::Member(MemberId(inv.user.get()));
    let ledger = data.jobs.ledger();
    let role = match inv.options.get("role") {
        Some(crate::discord::invocation::OptionValue::Role(r)) => Some(r.get()),
        _ => None,
    };
    let text = match (inv.options.user("user"), role) {
        (Some(_), Some(_)) => return Err(CommandError::User(tr!(lang, "cap-user-and-role"))),
        (None, Some(role)) => {
            ledger
                .set_role_cap(guild, role, Some(amount), actor)
                .await
                .map_err(|e| ledger_error(lang, e))?;
            tr!(
                lang,
                "cap-role",
                role = format!("<@&{role}>"),
                amount = cap_words(lang, amount)
            )
        }
        (Some(u), None) => {
            ledger
                .set_member_cap(guild, MemberId(u.get()), Some(amount), actor)
                .await
                .map_err(|e| ledger_error(lang, e))?;
            tr!(
                lang,
                "cap-member",
                who = format!("<@{u}>"),
                amount = cap_words(lang, amount)
            )
        }
        (None, None) => {
            ledger
                .set_default_cap(guild, amount, actor)
                .await
                .map_err(|e| ledger_error(lang, e))?;
            tr!(lang, "cap-default", amount = cap_words(lang, amount))
        }
    };
    private(text)
}

fn cap_words(lang: Lang, amount: u64) -> String {
    if amount == 0 {
        tr!(lang, "cap-any")
    } else {
        tr!(lang, "cap-up-to", amount = lang.num(amount))
    }
}

/// The member, when they are one of the bot's operators (`discord.owner_ids`).
fn operator(inv: &Invocation, data: &Data, to: Operation) -> Result<MemberId, CommandError> {
    let me = inv.user.get();
    if data.config.discord.owner_ids.contains(&me) {
        return Ok(MemberId(me));
    }
    let lang = lang(inv);
    Err(CommandError::User(match to {
        Operation::Grant => tr!(lang, "operators-grant"),
        Operation::Link => tr!(lang, "operators-link"),
        Operation::Unlink => tr!(lang, "operators-unlink"),
    }))
}

/// What only the bot's operators may do.
#[derive(Debug, Clone, Copy)]
enum Operation {
    Grant,
    Link,
    Unlink,
}

/// The price per second of each resolution, with what audio adds: `720p: 80/s (+80/s with
/// audio)`, in `lang`.
pub fn describe_prices(lang: Lang, credits: &crate::config::CreditsConfig) -> String {
    credits
        .price_per_second
        .iter()
        .map(|(r, p)| match credits.audio_price_per_second.get(r) {
            Some(&a) if a > 0 => tr!(
                lang,
                "price-with-audio",
                resolution = r,
                price = lang.num(*p),
                audio = lang.num(a)
            ),
            _ => tr!(lang, "price", resolution = r, price = lang.num(*p)),
        })
        .collect::<Vec<_>>()
        .join(tr!(lang, "list-separator").as_str())
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
    let lang = lang(inv);
    let me = operator(inv, data, Operation::Link)?;
    let with = required(inv, inv.options.string("server"), "server")?
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|id| *id != 0)
        .map(GuildId)
        .ok_or_else(|| CommandError::User(tr!(lang, "link-bad-server")))?;
    if with == guild {
        return Err(CommandError::User(tr!(lang, "link-self")));
    }
    let ledger = data.jobs.ledger();
    let pool = ledger
        .link(guild, with, Actor::Operator(me))
        .await
        .map_err(|e| ledger_error(lang, e))?;
    let b = ledger.balance(guild).map_err(|e| ledger_error(lang, e))?;
    private(tr!(
        lang,
        "linked",
        pool = pool,
        with = with,
        available = lang.num(b.available)
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
    let lang = lang(inv);
    let me = operator(inv, data, Operation::Unlink)?;
    let ledger = data.jobs.ledger();
    let pool = ledger
        .unlink(guild, Actor::Operator(me))
        .await
        .map_err(|e| ledger_error(lang, e))?;
    let b = ledger.balance(guild).map_err(|e| ledger_error(lang, e))?;
    private(tr!(
        lang,
        "unlinked",
        pool = pool,
        available = lang.num(b.available)
    ))
}
