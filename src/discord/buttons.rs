//! The job card's buttons: "Cancel" (the owner, while queued or held for approval;
//! refunds), "Approve" and "Reject" (a job held for approval: members with Manage Server or
//! the server's approver role, read from the press; the member who asked may approve their
//! own job only with Manage Server) and "Run again" (anyone, once finished; the clicking
//! member pays, with the same parameters, checked as a fresh `/video` in the channel where
//! the button was pressed).
//!
//! Both answer within Discord's 3 s: their ledger writes race a short budget, and the answer
//! follows a deferral when the disk is slow (see [`super::answer`]).

use serenity::all::Http;

use super::answer::{self, Ack};
use super::card::{self, ButtonAction};
use super::commands::admit;
use super::errors::cause_chain;
use super::invocation::{Invocation, Invoked};
use super::{CommandError, Data};
use crate::i18n::{Lang, words};
use crate::ids::{ChannelId, GuildId, MemberId};
use crate::jobs::{DecideError, InteractionRef, JobId, JobRequest};
use crate::tr;

/// Handles a button press on one of the bot's messages, whichever transport brought it;
/// other components are ignored.
pub async fn handle(http: &Http, data: &Data, inv: &Invocation) {
    let Invoked::Button(custom_id) = &inv.invoked else {
        return;
    };
    let Some(action) = ButtonAction::parse(custom_id) else {
        return;
    };
    let deadline = answer::deadline(inv.id.get());
    let lang = super::commands::lang(inv);
    let member = MemberId(inv.user.get());
    // Buttons spend credits too ("Run again"): they share the members' command rate limit.
    let rate = data
        .jobs
        .guild_settings()
        .command_rate()
        .check(member, inv.id.get());
    let (outcome, ack) = match (rate, action) {
        (Err(limited), _) => (
            Err(super::commands::rate_refusal(lang, &limited)),
            Ack::None,
        ),
        (Ok(()), ButtonAction::Cancel(id)) => {
            // Only the member reads the outcome: a slow refund defers privately.
            answer::race(http, inv, deadline, true, cancel(lang, data, &id, member)).await
        }
        (Ok(()), ButtonAction::Approve(id)) => {
            let work = decide(lang, data, inv, &id, true);
            answer::race(http, inv, deadline, true, work).await
        }
        (Ok(()), ButtonAction::Reject(id)) => {
            let work = decide(lang, data, inv, &id, false);
            answer::race(http, inv, deadline, true, work).await
        }
        (Ok(()), ButtonAction::RunAgain(id)) => {
            match run_again(http, data, inv, &id, deadline).await {
                Ok(()) => return,
                Err(refused) => refused,
            }
        }
    };
    let text = match outcome {
        Ok(text) => text,
        Err(e) => {
            if !matches!(e, CommandError::User(_)) {
                tracing::error!(cause = %cause_chain(&e), "button failed");
            }
            e.reply_text(lang)
        }
    };
    if let Err(e) = answer::private(http, inv, ack, &text).await {
        tracing::warn!(cause = %cause_chain(&e), "could not answer a button press");
    }
}

/// Cancels a queued job for its owner. The reporter then updates the card and posts the
/// refund in the job's thread.
async fn cancel(lang: Lang, data: &Data, id: &JobId, by: MemberId) -> Result<String, CommandError> {
    match data.jobs.cancel(id, by).await {
        Ok(job) => Ok(tr!(lang, "cancelled", amount = lang.num(job.cost))),
        Err(e) => Err(CommandError::User(tr!(
            lang,
            "cancel-refused",
            why = words::cancel(lang, &e)
        ))),
    }
}

/// Approves (`approve`) or rejects job `id` for the member who pressed, when they may
/// decide: Manage Server, or the server's approver role (the roles and permissions the press
/// carries); approving one's own job takes Manage Server. The card then shows the outcome
/// (the reporter redraws it; a rejection also tells the member in the job's thread).
async fn decide(
    lang: Lang,
    data: &Data,
    inv: &Invocation,
    id: &JobId,
    approve: bool,
) -> Result<String, CommandError> {
    let user = |text: String| Err(CommandError::User(text));
    let job = match (data.jobs.get(id), inv.guild) {
        (Some(job), Some(guild)) if job.request.guild.0 == guild.get() => job,
        _ => return user(tr!(lang, "approval-unknown")),
    };
    let server = data
        .jobs
        .guild_settings()
        .get(job.request.guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    let manager = inv.can_manage();
    let approver = server
        .approver_role
        .is_some_and(|role| inv.roles.iter().any(|r| r.get() == role));
    if !manager && !approver {
        return user(match server.approver_role {
            Some(role) => tr!(
                lang,
                "approval-not-allowed-role",
                role = format!("<@&{role}>")
            ),
            None => tr!(lang, "approval-not-allowed"),
        });
    }
    let by = MemberId(inv.user.get());
    if approve && job.request.member == by && !manager {
        return user(tr!(lang, "approval-own-job"));
    }
    let decided = if approve {
        data.jobs.approve(id, by).await
    } else {
        data.jobs.reject(id, by).await
    };
    let cost = lang.num(job.cost);
    match decided {
        Ok(_) if approve => Ok(tr!(lang, "approval-approved", cost = cost)),
        Ok(_) => Ok(tr!(lang, "approval-rejected", amount = cost)),
        Err(DecideError::Unknown) => user(tr!(lang, "approval-unknown")),
        Err(DecideError::NotAwaiting(_)) => {
            let state = data.jobs.get(id).map_or_else(
                || tr!(lang, "word-none"),
                |j| card::state_label(lang, &j.state),
            );
            user(tr!(lang, "approval-decided", state = state))
        }
        Err(e @ DecideError::Internal(_)) => Err(CommandError::Internal(Box::new(e))),
    }
}

/// Job `id` again for the member who pressed, keyed by this press, after the checks a fresh
/// `/video` makes here. `Ok` once the card (or the word that the job exists) was shown; a
/// refusal comes back with how the interaction stands, for the private answer.
async fn run_again(
    http: &Http,
    data: &Data,
    inv: &Invocation,
    id: &JobId,
    deadline: tokio::time::Instant,
) -> Result<(), (Result<String, CommandError>, Ack)> {
    let refuse = |e: CommandError| (Err(e), Ack::None);
    let deadline = answer::admission_deadline(data, deadline);
    // Counted until its job is admitted (or refused), not while its card is shown.
    let admitting = data.jobs.admission();
    let lang = super::commands::lang(inv);
    let Some(guild) = inv.guild else {
        return Err(refuse(CommandError::User(tr!(lang, "error-server-only"))));
    };
    let guild = GuildId(guild.get());
    let Some(original) = data.jobs.get(id) else {
        return Err(refuse(CommandError::User(tr!(lang, "run-again-unknown"))));
    };
    let server = data
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| refuse(CommandError::Internal(Box::new(e))))?;
    let place = inv.place;
    admit::check(lang, &server, inv, &original.request.references).map_err(refuse)?;
    let mut request = JobRequest {
        key: inv.id.to_string(),
        guild,
        member: MemberId(inv.user.get()),
        channel: ChannelId(inv.channel.get()),
        // The cap follows the roles the member holds now, not the first asker's.
        roles: inv.roles.iter().map(|r| r.get()).collect(),
        interaction: Some(InteractionRef {
            application_id: inv.application_id.get(),
            token: inv.token.expose().to_owned(),
        }),
        ..original.request
    };
    let key = request.key.clone();
    let (submitted, ack) = answer::race(http, inv, deadline, false, async {
        request.nsfw_checker = admit::content_filter(http, &server, &place).await;
        let submitted = data.jobs.submit(request).await;
        drop(admitting);
        submitted
    })
    .await;
    match submitted {
        Ok(submitted) => {
            answer::card(http, data, inv, &submitted, ack).await;
            Ok(())
        }
        Err(e) => Err((Err(answer::submit_failed(lang, data, &key, e)), ack)),
    }
}
