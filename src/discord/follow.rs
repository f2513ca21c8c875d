//! After a job is accepted: the public job card as the interaction's response, then the
//! thread that follows the job, then where both are is stored with the job.

use serenity::all::{
    AutoArchiveDuration, ChannelId, CreateInteractionResponse, CreateInteractionResponseMessage,
    CreateThread, Http, MessageId, Permissions,
};

use super::invocation::Invocation;
use super::respond;
use super::rest::{Rest, RestError, code, retrying};
use super::{Data, card, mentions};
use crate::ids::{self, MemberId};
use crate::jobs::{ReplyTarget, Submitted};

/// An ephemeral answer to an interaction: only the member sees it, nobody is pinged.
pub async fn answer_privately(
    http: &Http,
    inv: &Invocation,
    text: &str,
) -> Result<(), serenity::Error> {
    let message = CreateInteractionResponseMessage::new()
        .content(card::clip(text, 2000))
        .ephemeral(true)
        .allowed_mentions(mentions::nobody());
    let response = CreateInteractionResponse::Message(message);
    respond::initial(http, inv.id, &inv.token, response).await
}

/// Posts the card of an accepted job as the response to `inv`, makes or picks its thread and
/// stores where both are. The response itself is the only step that must succeed: without a
/// thread the job is followed in the channel.
pub async fn present(
    http: &Http,
    data: &Data,
    inv: &Invocation,
    submitted: &Submitted,
) -> Result<(), serenity::Error> {
    let job = &submitted.job;
    // Reports meanwhile wait for this card instead of looking for it elsewhere.
    let _presenting = data.reporter.presenting(&job.id);
    show(http, data, inv, submitted).await
}

async fn show(
    http: &Http,
    data: &Data,
    inv: &Invocation,
    submitted: &Submitted,
) -> Result<(), serenity::Error> {
    let job = &submitted.job;
    let position = submitted.position.map(|p| (p, submitted.eta));
    let lang = super::answer::public_lang(data, inv);
    let response = CreateInteractionResponseMessage::new()
        .embed(card::embed(lang, job, position))
        .components(card::components(lang, job))
        .allowed_mentions(mentions::only_user(MemberId(inv.user.get())));
    respond::initial(
        http,
        inv.id,
        &inv.token,
        CreateInteractionResponse::Message(response),
    )
    .await?;
    let message = respond::original(http, &inv.token).await?;
    follow_card(data, inv, submitted, message.id).await;
    Ok(())
}

/// After the card of an accepted job is shown as `message` (by [`present`], or by editing a
/// deferred response): makes or picks its thread and stores where both are.
pub async fn follow_card(data: &Data, inv: &Invocation, submitted: &Submitted, message: MessageId) {
    let job = &submitted.job;
    let thread = if inv.in_thread {
        Some(inv.channel)
    } else {
        make_thread(data.reporter.rest(), inv, message, &job.request.prompt).await
    };
    let target = ReplyTarget {
        channel: Some(ids::ChannelId(inv.channel.get())),
        message: Some(message.get()),
        thread: thread.map(|t| ids::ChannelId(t.get())),
        attachment_size_limit: Some(inv.attachment_size_limit),
    };
    data.reporter
        .track(&data.jobs, &job.id, target.clone())
        .await;
    // Draw the card again when it says more now: no thread, or the job moved on meanwhile.
    let current = data.jobs.get(&job.id).unwrap_or_else(|| job.clone());
    if (thread.is_none() || current.state != job.state)
        && let Err(e) = data.reporter.refresh_card(&current, &target).await
    {
        tracing::warn!(job_id = %job.id, error = %e, "could not update the job card");
    }
}

/// A public thread from the card, when the bot may make one there.
async fn make_thread(
    rest: &Rest,
    inv: &Invocation,
    message: MessageId,
    prompt: &str,
) -> Option<ChannelId> {
    let allowed = inv
        .app_permissions
        .is_none_or(|p| p.contains(Permissions::CREATE_PUBLIC_THREADS));
    if !allowed {
        tracing::info!(channel = %inv.channel, "no permission to create threads here; following the job in the channel");
        return None;
    }
    match start_thread(rest, inv.channel, message, prompt).await {
        Ok(thread) => Some(thread),
        Err(e) => {
            tracing::warn!(channel = %inv.channel, error = %e, "could not create a thread; following the job in the channel");
            None
        }
    }
}

/// Starts the job's public thread from its card, retried under the one policy (a 429 waits
/// as long as Discord asks). When the card has a thread already (a retry whose first answer
/// was lost, or a report that found the card first) that thread is the job's: a thread's id
/// is its starter message's id.
pub async fn start_thread(
    rest: &Rest,
    channel: ChannelId,
    card_message: MessageId,
    prompt: &str,
) -> Result<ChannelId, RestError> {
    let builder = CreateThread::new(card::thread_name(prompt))
        .auto_archive_duration(AutoArchiveDuration::OneDay);
    let made = retrying("thread creation", || {
        rest.create_thread(channel, card_message, &builder)
    })
    .await;
    match made {
        Ok(thread) => Ok(thread.id),
        Err(e) if e.code() == Some(code::THREAD_EXISTS) => Ok(ChannelId::new(card_message.get())),
        Err(e) => Err(e),
    }
}
