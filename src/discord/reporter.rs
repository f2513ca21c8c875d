//! `DiscordReporter`: the job queue's [`Reporter`] on Discord. It keeps the job card current
//! (edited through the channel message API: the interaction token dies after 15 minutes) and
//! posts the final message in the job's thread, pinging only the member. Every call goes
//! through [`rest`](super::rest) and its one retry policy; a failure comes back as a
//! transient or a permanent [`ReportError`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serenity::all::{
    ChannelId, CreateAttachment, CreateMessage, EditMessage, Http, Message, MessageFlags,
    MessageId, Nonce,
};

use super::final_message::{download, file_name, final_text, nonce};
use super::rest::{Rest, RestError, retrying};
use super::{card, follow, mentions};
use crate::config::DiscordConfig;
use crate::ids;
use crate::jobs::{JobEvent, JobId, JobRecord, JobState, Jobs, ReplyTarget, ReportError, Reporter};

/// How long an interaction's token (and so its original response) can be used.
const INTERACTION_TTL_MS: i64 = 15 * 60_000;
/// A card is posted within this long of its job, or never (Discord's 3 s to answer, with
/// room; a card being posted right now is marked as such). Until then a final report waits
/// for it; after that a card whose id was never stored is looked up once through the
/// interaction, else the job is followed in the channel the command was used in.
const CARD_POSTED_WITHIN_MS: i64 = 10_000;
/// The longest a re-hosting download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// Reports jobs on Discord. Shared between the job queue and the commands.
pub struct DiscordReporter {
    rest: Rest,
    rehost: bool,
    download: reqwest::Client,
    /// Where each job is shown, as the commands recorded it. The stored record is the truth
    /// across restarts; this copy covers the moment between posting the card and the store
    /// having it (the scheduler may write an older copy of the record meanwhile).
    targets: Mutex<HashMap<JobId, ReplyTarget>>,
    /// Jobs whose card is being posted right now: their reports wait for it rather than
    /// look for the card elsewhere.
    presenting: Mutex<HashSet<JobId>>,
    /// Jobs whose interaction was found to have no card: not looked up again.
    no_card: Mutex<HashSet<JobId>>,
    /// Per job, the order of card edits (see [`CardTurn`]).
    cards: Mutex<HashMap<JobId, Arc<CardTurn>>>,
    /// The queue, to repair a stored reply target and read queue positions. Set by the app
    /// after `Jobs::start` and cleared at shutdown (the queue holds this reporter).
    jobs: Mutex<Option<Jobs>>,
    alerts: super::alerts::OperatorAlerts,
}

/// While alive, reports of the job wait for its card (see [`DiscordReporter::presenting`]).
pub struct Presenting<'a> {
    reporter: &'a DiscordReporter,
    id: JobId,
}

impl Drop for Presenting<'_> {
    fn drop(&mut self) {
        if let Ok(mut presenting) = self.reporter.presenting.lock() {
            presenting.remove(&self.id);
        }
    }
}

/// One job's card edits, one at a time and the latest wins: each edit takes a generation
/// number when asked for, and an edit that a newer one has overtaken is dropped, never sent
/// after it.
#[derive(Default)]
struct CardTurn {
    latest: AtomicU64,
    turn: tokio::sync::Mutex<()>,
}

impl DiscordReporter {
    pub fn new(http: Arc<Http>, config: &DiscordConfig) -> DiscordReporter {
        DiscordReporter {
            alerts: super::alerts::OperatorAlerts::new(http.clone(), &config.owner_ids),
            rest: Rest::new(http),
            rehost: config.rehost_results,
            download: reqwest::Client::builder()
                .timeout(DOWNLOAD_TIMEOUT)
                .build()
                .unwrap_or_default(),
            targets: Mutex::new(HashMap::new()),
            presenting: Mutex::new(HashSet::new()),
            no_card: Mutex::new(HashSet::new()),
            cards: Mutex::new(HashMap::new()),
            jobs: Mutex::new(None),
        }
    }

    /// Gives the reporter the queue it reports for.
    pub fn attach(&self, jobs: Jobs) {
        *self.jobs.lock().expect("reporter lock") = Some(jobs);
    }

    /// Drops the reporter's handle on the queue, so both can be freed.
    pub fn detach(&self) {
        self.jobs.lock().expect("reporter lock").take();
    }

    fn jobs(&self) -> Option<Jobs> {
        self.jobs.lock().expect("reporter lock").clone()
    }

    /// The Discord calls this reporter makes, for the rest of the delivery side.
    pub fn rest(&self) -> &Rest {
        &self.rest
    }

    /// Marks the card of job `id` as being posted until the guard is dropped (also when the
    /// posting is cancelled half way).
    pub fn presenting(&self, id: &JobId) -> Presenting<'_> {
        self.presenting
            .lock()
            .expect("reporter lock")
            .insert(id.clone());
        Presenting {
            reporter: self,
            id: id.clone(),
        }
    }

    fn is_presenting(&self, id: &JobId) -> bool {
        self.presenting.lock().expect("reporter lock").contains(id)
    }

    /// Records where a job is shown and stores it with the job.
    pub async fn track(&self, jobs: &Jobs, id: &JobId, target: ReplyTarget) {
        self.targets
            .lock()
            .expect("reporter lock")
            .insert(id.clone(), target.clone());
        if let Err(e) = jobs.set_reply_target(id, target).await {
            tracing::warn!(job_id = %id, error = %e, "could not store where the job is shown");
        }
    }

    /// Where `job` is shown: the stored target, the one the commands recorded since, or the
    /// card found again through the interaction (see [`Self::find_card`]).
    async fn target_of(&self, job: &JobRecord) -> Result<Option<ReplyTarget>, ReportError> {
        let remembered = self
            .targets
            .lock()
            .expect("reporter lock")
            .get(&job.id)
            .cloned();
        match remembered {
            Some(target) if target != job.reply => {
                // The scheduler wrote a copy of the record from before the card was posted:
                // store the target again so a restart still finds the card.
                if let Some(jobs) = self.jobs()
                    && let Err(e) = jobs.set_reply_target(&job.id, target.clone()).await
                {
                    tracing::warn!(job_id = %job.id, error = %e, "could not store the reply target again");
                }
                Ok(Some(target))
            }
            Some(target) => Ok(Some(target)),
            None if job.reply.message.is_some() => Ok(Some(job.reply.clone())),
            None => self.find_card(job).await,
        }
    }

    /// After a crash between posting the card and storing its id: the card is the
    /// interaction's original response, which can be fetched while the token lives (15
    /// minutes). Stores where it is and continues in its thread (made now if missing).
    async fn find_card(&self, job: &JobRecord) -> Result<Option<ReplyTarget>, ReportError> {
        let Some(interaction) = &job.request.interaction else {
            return Ok(None);
        };
        let age = age_ms(job);
        if !(CARD_POSTED_WITHIN_MS..INTERACTION_TTL_MS).contains(&age)
            || self.is_presenting(&job.id)
            || self
                .no_card
                .lock()
                .expect("reporter lock")
                .contains(&job.id)
        {
            return Ok(None);
        }
        let found = retrying("fetch the job card", || {
            self.rest
                .original_response(interaction.application_id, &interaction.token)
        })
        .await;
        // Only a public message with an embed is a card: a private error reply or a
        // deferral that was never followed up is not, and will not become one.
        let is_card = |m: &Message| {
            !m.embeds.is_empty() && !m.flags.is_some_and(|f| f.contains(MessageFlags::EPHEMERAL))
        };
        let card = match found {
            Ok(card) if is_card(&card) => card,
            Ok(_) => {
                tracing::info!(job_id = %job.id, "the interaction's answer is not a job card");
                self.no_card
                    .lock()
                    .expect("reporter lock")
                    .insert(job.id.clone());
                return Ok(None);
            }
            Err(e) if e.is_permanent() => {
                tracing::info!(job_id = %job.id, error = %e, "the interaction has no card to find");
                self.no_card
                    .lock()
                    .expect("reporter lock")
                    .insert(job.id.clone());
                return Ok(None);
            }
            Err(e) => return Err(report_error("the job card could not be looked up", e)),
        };
        let thread = match &card.thread {
            Some(thread) => Some(thread.id),
            None => {
                match follow::start_thread(
                    &self.rest,
                    card.channel_id,
                    card.id,
                    &job.request.prompt,
                )
                .await
                {
                    Ok(thread) => Some(thread),
                    Err(e) if e.code() == Some(super::rest::code::WRONG_CHANNEL_TYPE) => {
                        // The card is in a thread already (the command was used there).
                        Some(card.channel_id)
                    }
                    Err(e) if e.is_permanent() => {
                        tracing::info!(job_id = %job.id, error = %e, "no thread for the found card; following the job in its channel");
                        None
                    }
                    Err(e) => return Err(report_error("the job's thread could not be made", e)),
                }
            }
        };
        let target = ReplyTarget {
            channel: Some(ids::ChannelId(card.channel_id.get())),
            message: Some(card.id.get()),
            thread: thread.map(|t| ids::ChannelId(t.get())),
            attachment_size_limit: None,
        };
        tracing::info!(job_id = %job.id, "found the job card again through its interaction");
        match self.jobs() {
            Some(jobs) => self.track(&jobs, &job.id, target.clone()).await,
            None => {
                self.targets
                    .lock()
                    .expect("reporter lock")
                    .insert(job.id.clone(), target.clone());
            }
        }
        Ok(Some(target))
    }

    fn card_turn(&self, id: &JobId) -> Arc<CardTurn> {
        self.cards
            .lock()
            .expect("reporter lock")
            .entry(id.clone())
            .or_default()
            .clone()
    }

    /// Redraws the job card from `job`, retried under the one policy. The latest state wins:
    /// an edit overtaken by a newer one is dropped, and a live state never redraws a card of
    /// a job the store says has ended.
    pub async fn refresh_card(
        &self,
        job: &JobRecord,
        target: &ReplyTarget,
    ) -> Result<(), RestError> {
        let (Some(channel), Some(message)) = (target.channel, target.message) else {
            return Ok(());
        };
        let jobs = self.jobs();
        if !job.state.is_terminal()
            && jobs
                .as_ref()
                .and_then(|j| j.get(&job.id))
                .is_some_and(|stored| stored.state.is_terminal())
        {
            return Ok(());
        }
        let turn = self.card_turn(&job.id);
        let generation = turn.latest.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = turn.turn.lock().await;
        let mut shown = job.clone();
        shown.reply = target.clone();
        let lang = self.server_lang(job);
        let position = jobs.and_then(|j| j.queue_position(&job.id));
        let edit = EditMessage::new()
            .embed(card::embed(lang, &shown, position))
            .components(card::components(lang, &shown))
            .allowed_mentions(mentions::nobody());
        let (channel, message) = (
            ChannelId::new(channel.0.max(1)),
            MessageId::new(message.max(1)),
        );
        retrying("card edit", || async {
            if turn.latest.load(Ordering::SeqCst) != generation {
                // A newer state is waiting its turn: this one is never sent after it.
                return Ok(());
            }
            self.rest
                .edit_message(channel, message, &edit)
                .await
                .map(|_| ())
        })
        .await
    }

    /// The language of the public messages of the job's server.
    fn server_lang(&self, job: &JobRecord) -> crate::i18n::Lang {
        let settings = self
            .jobs()
            .and_then(|j| j.guild_settings().get(job.request.guild).ok())
            .unwrap_or_default();
        crate::i18n::server_lang(&settings, None)
    }

    async fn report_final(&self, job: &JobRecord, refunded: u64) -> Result<(), ReportError> {
        let target = match self.target_of(job).await? {
            Some(t) => t,
            None if self.is_presenting(&job.id) || age_ms(job) < CARD_POSTED_WITHIN_MS => {
                return Err(ReportError::transient("the job card is not posted yet"));
            }
            None => ReplyTarget {
                channel: Some(job.request.channel),
                ..ReplyTarget::default()
            },
        };
        if job.state == JobState::TimedOut {
            tracing::warn!(job_id = %job.id, "job timed out: the bot stopped waiting and refunded it; the provider's task may still run and be billed upstream");
        }
        // The card shows the outcome before the member's message goes out, so a retry of
        // this report redraws the card first. A card that is gone does not hold it up.
        match self.refresh_card(job, &target).await {
            Ok(()) => {}
            Err(e) if e.is_permanent() => {
                tracing::warn!(job_id = %job.id, error = %e, "the job card cannot show the outcome; sending the final message anyway");
            }
            Err(e) => return Err(report_error("the job card could not show the outcome", e)),
        }
        let channel = target
            .thread
            .or(target.channel)
            .unwrap_or(job.request.channel);
        let channel = ChannelId::new(channel.0.max(1));
        // The same nonce on every try: a resend after a crash returns the first message.
        let message = CreateMessage::new()
            .content(final_text(self.server_lang(job), job, refunded))
            .allowed_mentions(mentions::only_user(job.request.member))
            .nonce(Nonce::String(nonce(&job.id, "final")))
            .enforce_nonce(true);
        if let Some(file) = self.rehosted(job, &target).await {
            let sent = retrying("final message", || {
                self.rest
                    .send_message(channel, message.clone(), Some(file.clone()))
            })
            .await;
            match sent {
                Ok(_) => {
                    self.forget(&job.id);
                    return Ok(());
                }
                Err(e) if e.is_permanent() && !refuses_channel(&e) => {
                    tracing::warn!(job_id = %job.id, error = %e, "Discord refused the upload; sending the link only");
                }
                Err(e) => return Err(report_error("final message not sent", e)),
            }
        }
        retrying("final message", || {
            self.rest.send_message(channel, message.clone(), None)
        })
        .await
        .map_err(|e| report_error("final message not sent", e))?;
        self.forget(&job.id);
        Ok(())
    }

    /// The job is over and reported: its stored record is enough from now on.
    fn forget(&self, id: &JobId) {
        self.targets.lock().expect("reporter lock").remove(id);
        self.cards.lock().expect("reporter lock").remove(id);
        self.no_card.lock().expect("reporter lock").remove(id);
    }

    /// The finished video as an upload, when re-hosting is on and it fits the limit.
    async fn rehosted(&self, job: &JobRecord, target: &ReplyTarget) -> Option<CreateAttachment> {
        let JobState::Succeeded { urls, .. } = &job.state else {
            return None;
        };
        let (true, Some(limit), Some(url)) =
            (self.rehost, target.attachment_size_limit, urls.first())
        else {
            return None;
        };
        match download(&self.download, url, limit).await {
            Ok(Some(bytes)) => Some(CreateAttachment::bytes(bytes, file_name(url))),
            Ok(None) => {
                tracing::info!(job_id = %job.id, limit, "the video is larger than Discord allows here; sending the link only");
                None
            }
            Err(e) => {
                tracing::warn!(job_id = %job.id, error = %e, "could not download the video to re-host it");
                None
            }
        }
    }
}

impl Reporter for DiscordReporter {
    fn operator_alert<'a>(&'a self, text: &'a str) -> BoxFuture<'a, ()> {
        self.alerts.send(text);
        Box::pin(async {})
    }

    fn report<'a>(
        &'a self,
        job: &'a JobRecord,
        event: JobEvent,
    ) -> BoxFuture<'a, Result<(), ReportError>> {
        Box::pin(async move {
            match event {
                JobEvent::Finished { refunded } => self.report_final(job, refunded).await,
                _ => {
                    let Some(target) = self.target_of(job).await? else {
                        return Ok(());
                    };
                    self.refresh_card(job, &target)
                        .await
                        .map_err(|e| report_error("card not updated", e))
                }
            }
        })
    }
}

/// A Discord failure as the job queue reads it: permanent refusals stop its retries.
fn report_error(what: &str, e: RestError) -> ReportError {
    let reason = format!("{what}: {e}");
    if e.is_permanent() {
        ReportError::Permanent { reason }
    } else {
        ReportError::Transient {
            reason,
            retry_after: e.retry_after(),
        }
    }
}

/// The refusal is about the channel (gone, or the bot may not post there), not the upload.
fn refuses_channel(e: &RestError) -> bool {
    use super::rest::code;
    e.is_gone()
        || matches!(e, RestError::Refused { status: 403, .. })
        || matches!(
            e.code(),
            Some(code::MISSING_ACCESS | code::MISSING_PERMISSIONS)
        )
}

fn age_ms(job: &JobRecord) -> i64 {
    crate::clock::now_ms() - job.created_at
}
