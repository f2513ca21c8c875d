//! The job card's buttons: "Cancel" (the owner, while queued; refunds) and "Run again"
//! (anyone, once finished; the clicking member pays, with the same parameters).

use serenity::all::{ComponentInteraction, Context as SerenityContext};

use super::card::ButtonAction;
use super::commands::refusal;
use super::follow::{self, Invocation};
use super::{CommandError, Data};
use crate::ids::{ChannelId, GuildId, MemberId};
use crate::jobs::{JobId, JobRequest};

/// Handles a button press on one of the bot's messages; other components are ignored.
pub async fn handle(ctx: &SerenityContext, data: &Data, press: &ComponentInteraction) {
    let Some(action) = ButtonAction::parse(&press.data.custom_id) else {
        return;
    };
    let inv = Invocation::from(press);
    let http = ctx.http.as_ref();
    let member = MemberId(press.user.id.get());
    // Buttons spend credits too ("Run again"): they share the members' command rate limit.
    let rate = data
        .jobs
        .guild_settings()
        .command_rate()
        .check(member, press.id.get());
    let outcome = match (rate, action) {
        (Err(limited), _) => Err(super::commands::rate_refusal(&limited)),
        (Ok(()), action) => match action {
            ButtonAction::Cancel(id) => cancel(data, &id, member).await,
            ButtonAction::RunAgain(id) => match run_again(data, press, &id) {
                Ok(request) => match data.jobs.submit(request).await {
                    Ok(submitted) => {
                        if let Err(e) = follow::present(http, data, &inv, &submitted).await {
                            tracing::warn!(cause = %super::errors::cause_chain(&e), "could not post the card of a repeated job");
                        }
                        return;
                    }
                    Err(e) => Err(refusal(e)),
                },
                Err(e) => Err(e),
            },
        },
    };
    let text = match outcome {
        Ok(text) => text,
        Err(e) => {
            if !matches!(e, CommandError::User(_)) {
                tracing::error!(cause = %super::errors::cause_chain(&e), "button failed");
            }
            e.reply_text()
        }
    };
    if let Err(e) = follow::answer_privately(http, &inv, &text).await {
        tracing::warn!(error = %e, "could not answer a button press");
    }
}

/// Cancels a queued job for its owner. The reporter then updates the card and posts the
/// refund in the job's thread.
async fn cancel(data: &Data, id: &JobId, by: MemberId) -> Result<String, CommandError> {
    match data.jobs.cancel(id, by).await {
        Ok(job) => Ok(format!(
            "Cancelled: {} credits went back to the pool.",
            job.cost
        )),
        Err(e) => Err(CommandError::User(format!("I can't cancel that: {e}."))),
    }
}

/// The request of job `id` again, for the member who pressed, keyed by this press.
fn run_again(
    data: &Data,
    press: &ComponentInteraction,
    id: &JobId,
) -> Result<JobRequest, CommandError> {
    let Some(guild) = press.guild_id else {
        return Err(CommandError::user("This works in a server only."));
    };
    let Some(original) = data.jobs.get(id) else {
        return Err(CommandError::user(
            "I no longer know that job; use `/video` instead.",
        ));
    };
    Ok(JobRequest {
        key: press.id.to_string(),
        guild: GuildId(guild.get()),
        member: MemberId(press.user.id.get()),
        channel: ChannelId(press.channel_id.get()),
        ..original.request
    })
}
