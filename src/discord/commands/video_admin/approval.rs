//! Holding costly videos for approval: `approval` (the price above which a job waits)
//! and `approver` (the role that may decide, besides Manage Server).

use serenity::all::Role;

use super::change::change;
use crate::discord::commands::{gateway, lang, required};
use crate::discord::invocation::{Invocation, OptionValue};
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::tr;

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
