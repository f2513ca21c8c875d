//! Answering an interaction within Discord's 3 s whatever the disk or the queue do, and
//! telling the member the truth about money whichever way the answer went.
//!
//! The slow part of a command (the durable admit: a ledger transaction and an fsync) is
//! raced against a short budget: when it ends in time the answer is sent directly (the card,
//! or a private refusal); when it does not, the interaction is deferred (type 5) and the
//! answer follows by editing the deferred response. Discord makes the first follow-up after
//! a defer take the defer's visibility, so a private answer after a public defer deletes the
//! deferred response first.

use std::future::Future;
use std::time::Duration;

use serenity::all::{
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    EditInteractionResponse, Http, builder::Builder,
};
use tokio::time::Instant;

use super::errors::cause_chain;
use super::follow;
use super::invocation::Invocation;
use super::{CommandError, Data, card, mentions};
use crate::i18n::Lang;
use crate::ids::MemberId;
use crate::jobs::{JobId, SubmitError, Submitted};
use crate::tr;

/// How long after Discord made an interaction the bot waits for the work before deferring:
/// well inside the 3 s, leaving room for the gateway's delay and the defer's own trip.
const BUDGET_FROM_CREATION: Duration = Duration::from_millis(2000);
/// How long after the handler started it waits at most, whatever the clocks say.
const BUDGET_FROM_START: Duration = Duration::from_millis(1500);

/// Discord's epoch (2015-01-01) in unix millis: snowflakes count from it.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Where the interaction's answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Nothing sent yet: the answer is the initial response.
    None,
    /// Deferred publicly (the loading message everyone sees): the answer edits it.
    DeferredPublic,
    /// Deferred privately: whatever follows is seen by the member only.
    DeferredPrivate,
}

/// When to stop waiting for the work of interaction `id`, taken at the start of its handler.
pub fn deadline(id: u64) -> Instant {
    let created = (id >> 22) + DISCORD_EPOCH_MS;
    let now = u64::try_from(crate::clock::now_ms()).unwrap_or(0);
    let left = Duration::from_millis(
        (created + BUDGET_FROM_CREATION.as_millis() as u64).saturating_sub(now),
    );
    Instant::now() + left.min(BUDGET_FROM_START)
}

/// When to stop waiting for an admission: at `deadline` (see [`deadline`]), or at once
/// while other commands are being admitted in this process. The answer comes first: under
/// a burst this one's durable write would wait behind theirs, so the member sees the
/// deferral now and the card when it is written.
pub fn admission_deadline(data: &Data, deadline: Instant) -> Instant {
    if data.jobs.admitting() > 0 {
        Instant::now()
    } else {
        deadline
    }
}

/// Runs `work`; if it has not ended by `deadline`, defers the interaction (privately when
/// `private`) and keeps waiting. The work is never cut short: it may hold money.
pub async fn race<T>(
    http: &Http,
    inv: &Invocation,
    deadline: Instant,
    private: bool,
    work: impl Future<Output = T>,
) -> (T, Ack) {
    tokio::pin!(work);
    tokio::select! {
        // Work that ends at its first step is answered directly, even past the deadline.
        biased;
        out = &mut work => return (out, Ack::None),
        () = tokio::time::sleep_until(deadline) => {}
    }
    let defer = async {
        let defer = CreateInteractionResponse::Defer(
            CreateInteractionResponseMessage::new().ephemeral(private),
        );
        match super::respond::initial(http, inv.id, &inv.token, defer).await {
            Ok(()) if private => Ack::DeferredPrivate,
            Ok(()) => Ack::DeferredPublic,
            Err(e) => {
                // The answer is then tried as an initial response; its failure is handled
                // there.
                tracing::warn!(cause = %cause_chain(&e), "could not defer an interaction");
                Ack::None
            }
        }
    };
    // The work goes on while the deferral is on its way.
    let (out, ack) = tokio::join!(work, defer);
    (out, ack)
}

/// Shows the card of an accepted job, then its thread. When the card cannot be shown, the
/// member is told privately that the job exists and is paid for. Returns whether the card
/// was shown.
pub async fn card(http: &Http, data: &Data, inv: &Invocation, job: &Submitted, ack: Ack) -> bool {
    let shown = match ack {
        Ack::None | Ack::DeferredPrivate => follow::present(http, data, inv, job).await,
        Ack::DeferredPublic => {
            let position = job.position.map(|p| (p, job.eta));
            let lang = public_lang(data, inv);
            let edit = EditInteractionResponse::new()
                .embed(card::embed(lang, &job.job, position))
                .components(card::components(lang, &job.job))
                .allowed_mentions(mentions::only_user(MemberId(inv.user.get())));
            let edited = super::respond::once_discord_has_it(|| {
                edit.clone().execute(http, inv.token.expose())
            })
            .await;
            match edited {
                Ok(message) => {
                    follow::follow_card(data, inv, job, message.id).await;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    };
    let Err(e) = shown else { return true };
    tracing::warn!(job_id = %job.job.id, cause = %cause_chain(&e), "accepted a job but could not show its card");
    let lang = super::commands::lang(inv);
    let text = accepted_unseen(lang, &job.job.id, job.job.cost);
    let told = match private(http, inv, ack, &text).await {
        // The card's own response may have reached Discord before a later step failed: then
        // only a follow-up can still say it, and privately (nothing is loading).
        Err(e) if ack == Ack::None => private_followup(http, inv, &text)
            .await
            .map_err(|e2| format!("{}; then {}", cause_chain(&e), cause_chain(&e2))),
        told => told.map_err(|e| cause_chain(&e)),
    };
    if let Err(cause) = told {
        tracing::warn!(job_id = %job.job.id, %cause, "could not tell the member their job was accepted");
    }
    false
}

/// The language of the public messages of the server `inv` was used in.
pub fn public_lang(data: &Data, inv: &Invocation) -> Lang {
    let Some(guild) = inv.guild else {
        return super::commands::lang(inv);
    };
    let settings = data
        .jobs
        .guild_settings()
        .get(crate::ids::GuildId(guild.get()))
        .unwrap_or_default();
    crate::i18n::server_lang(&settings, inv.guild_locale.as_deref())
}

/// What a member reads when their job was accepted but its card could not be shown.
pub fn accepted_unseen(lang: Lang, id: &JobId, cost: u64) -> String {
    tr!(lang, "accepted-unseen", id = id, cost = lang.num(cost))
}

/// A private answer, however the interaction stands: the initial response, or after a
/// public defer, the deferred response deleted and a private follow-up.
pub async fn private(
    http: &Http,
    inv: &Invocation,
    ack: Ack,
    text: &str,
) -> Result<(), serenity::Error> {
    match ack {
        Ack::None => follow::answer_privately(http, inv, text).await,
        Ack::DeferredPrivate => {
            let edit = EditInteractionResponse::new()
                .content(card::clip(text, 2000))
                .allowed_mentions(mentions::nobody());
            super::respond::once_discord_has_it(|| edit.clone().execute(http, inv.token.expose()))
                .await
                .map(drop)
        }
        Ack::DeferredPublic => {
            withdraw(http, inv).await?;
            private_followup(http, inv, text).await
        }
    }
}

/// Deletes a publicly deferred response, so the follow-up that comes next is not bound to
/// its visibility.
pub async fn withdraw(http: &Http, inv: &Invocation) -> Result<(), serenity::Error> {
    super::respond::once_discord_has_it(|| {
        http.delete_original_interaction_response(inv.token.expose())
    })
    .await
}

async fn private_followup(
    http: &Http,
    inv: &Invocation,
    text: &str,
) -> Result<(), serenity::Error> {
    CreateInteractionResponseFollowup::new()
        .content(card::clip(text, 2000))
        .ephemeral(true)
        .allowed_mentions(mentions::nobody())
        .execute(http, (None, inv.token.expose()))
        .await
        .map(drop)
}

/// The error a member reads when a submission failed. "Nothing was charged" is said only
/// when the ledger holds nothing for this request: a failure after the hold was written
/// (its flush, say) tells the member the job exists instead.
pub fn submit_failed(lang: Lang, data: &Data, key: &str, e: SubmitError) -> CommandError {
    if !matches!(e, SubmitError::Internal(_)) {
        return super::commands::refusal(lang, e);
    }
    match data.jobs.ledger().hold(key) {
        Ok(None) => super::commands::refusal(lang, e),
        Ok(Some(hold)) => {
            tracing::error!(key, cause = %e, "a job's hold was written but its submission failed");
            CommandError::User(tr!(
                lang,
                "error-after-recorded",
                key = key,
                amount = lang.num(hold.amount)
            ))
        }
        Err(read) => {
            tracing::error!(key, cause = %e, read = %read, "submission failed and its hold could not be read");
            CommandError::User(tr!(lang, "error-unchecked"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_made_ms_ago(ms: u64) -> u64 {
        let now = crate::clock::now_ms() as u64;
        (now - ms - DISCORD_EPOCH_MS) << 22
    }

    #[test]
    fn the_budget_counts_from_when_discord_made_the_interaction() {
        let start = Instant::now();
        // Delivered late: no time left, defer at once.
        assert!(deadline(id_made_ms_ago(5_000)) <= Instant::now());
        // Delivered at once: the handler's own budget, never more.
        let fresh = deadline(id_made_ms_ago(0));
        assert!(
            fresh > start + Duration::from_millis(1_000),
            "{:?}",
            fresh - start
        );
        assert!(fresh <= Instant::now() + BUDGET_FROM_START);
    }
}
