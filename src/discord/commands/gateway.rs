//! The gateway adapter: a poise handler builds the [`Invocation`] from its interaction,
//! hands it to the command's logic and shows what the logic returns. The HTTP endpoint is
//! the other adapter over the same logic.

use std::sync::atomic::Ordering;

use crate::discord::invocation::Invocation;
use crate::discord::respond::{Reply, Responder};
use crate::discord::{CommandError, Context, Data};

/// Runs a command's `logic` for a poise handler and shows what it returns. poise's parsed
/// copies of the options only register them: the logic reads the invocation, as it does
/// over HTTP.
pub async fn run(
    ctx: Context<'_>,
    logic: impl AsyncFnOnce(&Invocation, &Data) -> Result<Reply, CommandError>,
) -> Result<(), CommandError> {
    let inv = invocation(ctx)?;
    let reply = logic(&inv, ctx.data()).await?;
    show(ctx, &inv, reply).await
}

/// The invocation behind a poise context (this bot has slash commands only).
pub fn invocation(ctx: Context<'_>) -> Result<Invocation, CommandError> {
    match ctx {
        Context::Application(actx) => Ok(Invocation::from(actx.interaction)),
        Context::Prefix(_) => Err(CommandError::user("This is a slash command.")),
    }
}

/// Shows `reply` as the interaction's response, and tells poise so: its own replies (the
/// error reply) are follow-ups from then on.
pub async fn show(ctx: Context<'_>, inv: &Invocation, reply: Reply) -> Result<(), CommandError> {
    let http = ctx.serenity_context().http.as_ref();
    Responder::new(http, inv).answer(&reply).await?;
    if let Context::Application(actx) = ctx {
        actx.has_sent_initial_response.store(true, Ordering::SeqCst);
    }
    Ok(())
}
