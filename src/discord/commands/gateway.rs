//! The gateway adapter: a poise handler builds the [`Invocation`] from its interaction,
//! hands it to the command's logic and shows what the logic returns. The HTTP endpoint is
//! the other adapter over the same logic.

use std::sync::atomic::Ordering;

use super::dispatch;
use crate::discord::invocation::Invocation;
use crate::discord::respond::{Reply, Responder};
use crate::discord::{CommandError, Context};

/// A poise handler of a command that returns what to show: builds the invocation, runs the
/// logic it names ([`dispatch`]) and shows the reply. poise's parsed copies of the options
/// only register them: the logic reads the invocation, as it will over HTTP.
pub async fn run(ctx: Context<'_>) -> Result<(), CommandError> {
    let inv = invocation(ctx)?;
    let Some(answers) = dispatch::answers_of(&inv) else {
        return Err(CommandError::Internal(
            format!("no logic for the command {:?}", inv.invoked).into(),
        ));
    };
    let reply = dispatch::reply(answers, &inv, ctx.data()).await?;
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
