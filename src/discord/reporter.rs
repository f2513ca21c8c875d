//! `DiscordReporter`: the job queue's [`Reporter`] on Discord. It keeps the job card current
//! (edited through the channel message API: the interaction token dies after 15 minutes) and
//! posts the final message in the job's thread, pinging only the member.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serenity::all::{
    ChannelId, CreateAttachment, CreateMessage, EditMessage, Http, HttpError, MessageId,
};

use super::{card, mentions};
use crate::config::DiscordConfig;
use crate::jobs::{JobEvent, JobId, JobRecord, JobState, Jobs, ReplyTarget, ReportError, Reporter};

/// How long a final report waits for the card to be posted before going to the channel the
/// command was used in.
const CARD_GRACE_MS: i64 = 60_000;
/// The longest a re-hosting download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// Message content allows 2000 characters.
const CONTENT_MAX: usize = 2000;

/// Reports jobs on Discord. Shared between the job queue and the commands.
pub struct DiscordReporter {
    http: Arc<Http>,
    rehost: bool,
    download: reqwest::Client,
    /// Where each job is shown, as the commands recorded it. The stored record is the truth
    /// across restarts; this copy covers the moment between posting the card and the store
    /// having it (the scheduler may write an older copy of the record meanwhile).
    targets: Mutex<HashMap<JobId, ReplyTarget>>,
    /// The queue, to repair a stored reply target and read queue positions. Set by the app
    /// after `Jobs::start` and cleared at shutdown (the queue holds this reporter).
    jobs: Mutex<Option<Jobs>>,
    alerts: super::alerts::OperatorAlerts,
}

impl DiscordReporter {
    pub fn new(http: Arc<Http>, config: &DiscordConfig) -> DiscordReporter {
        DiscordReporter {
            alerts: super::alerts::OperatorAlerts::new(http.clone(), &config.owner_ids),
            http,
            rehost: config.rehost_results,
            download: reqwest::Client::builder()
                .timeout(DOWNLOAD_TIMEOUT)
                .build()
                .unwrap_or_default(),
            targets: Mutex::new(HashMap::new()),
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

    /// Where `job` is shown: the stored target, or the one the commands recorded since.
    async fn target_of(&self, job: &JobRecord) -> Option<ReplyTarget> {
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
                Some(target)
            }
            Some(target) => Some(target),
            None if job.reply.message.is_some() => Some(job.reply.clone()),
            None => None,
        }
    }

    /// Redraws the job card from `job`.
    pub async fn refresh_card(
        &self,
        job: &JobRecord,
        target: &ReplyTarget,
    ) -> Result<(), serenity::Error> {
        let (Some(channel), Some(message)) = (target.channel, target.message) else {
            return Ok(());
        };
        let mut shown = job.clone();
        shown.reply = target.clone();
        let position = self.jobs().and_then(|j| j.queue_position(&job.id));
        let edit = EditMessage::new()
            .embed(card::embed(&shown, position))
            .components(card::components(&shown))
            .allowed_mentions(mentions::nobody());
        ChannelId::new(channel.0)
            .edit_message(&*self.http, MessageId::new(message), edit)
            .await
            .map(|_| ())
    }

    async fn report_final(&self, job: &JobRecord, refunded: u64) -> Result<(), ReportError> {
        let target = match self.target_of(job).await {
            Some(t) => t,
            None if age_ms(job) < CARD_GRACE_MS => {
                return Err(ReportError::transient("the job card is not posted yet"));
            }
            None => ReplyTarget {
                channel: Some(job.request.channel),
                ..ReplyTarget::default()
            },
        };
        // The card shows the outcome; a failed edit does not stop the member's message.
        if let Err(e) = self.refresh_card(job, &target).await {
            tracing::warn!(job_id = %job.id, error = %e, "could not update the job card");
        }
        let channel = target
            .thread
            .or(target.channel)
            .unwrap_or(job.request.channel);
        let channel = ChannelId::new(channel.0.max(1));
        let content = final_text(job, refunded);
        let member = job.request.member;
        let message = |content: &str| {
            CreateMessage::new()
                .content(content)
                .allowed_mentions(mentions::only_user(member))
        };
        if let Some(file) = self.rehosted(job, &target).await {
            match channel
                .send_files(&*self.http, [file], message(&content))
                .await
            {
                Ok(_) => {
                    self.forget(&job.id);
                    return Ok(());
                }
                Err(e) if is_refusal(&e) => {
                    tracing::warn!(job_id = %job.id, error = %e, "Discord refused the upload; sending the link only");
                }
                Err(e) => {
                    return Err(ReportError::transient(format!(
                        "final message not sent: {e}"
                    )));
                }
            }
        }
        channel
            .send_message(&*self.http, message(&content))
            .await
            .map_err(|e| ReportError::transient(format!("final message not sent: {e}")))?;
        self.forget(&job.id);
        Ok(())
    }

    /// The job is over and reported: its stored record is enough from now on.
    fn forget(&self, id: &JobId) {
        self.targets.lock().expect("reporter lock").remove(id);
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
                    let Some(target) = self.target_of(job).await else {
                        return Ok(());
                    };
                    self.refresh_card(job, &target)
                        .await
                        .map_err(|e| ReportError::transient(format!("card not updated: {e}")))
                }
            }
        })
    }
}

fn age_ms(job: &JobRecord) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    now - job.created_at
}

/// Whether Discord answered with a 4xx: the message was refused, not lost.
fn is_refusal(e: &serenity::Error) -> bool {
    matches!(e, serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) if r.status_code.is_client_error())
}

/// The member's final message: the link(s), or what went wrong and what was refunded.
pub fn final_text(job: &JobRecord, refunded: u64) -> String {
    let who = format!("<@{}>", job.request.member);
    let refund = if refunded > 0 {
        format!(" {refunded} credits went back to the pool.")
    } else {
        String::new()
    };
    let text = match &job.state {
        JobState::Succeeded { urls, .. } => {
            let note = if job.simulated {
                " (simulated: this is a placeholder, no credits were spent upstream)"
            } else {
                ""
            };
            format!("{who} your video is ready{note}:\n{}", urls.join("\n"))
        }
        JobState::Failed { reason } => {
            format!("{who} your video could not be made: {reason}.{refund}")
        }
        JobState::TimedOut => {
            format!("{who} your video took too long and was stopped.{refund}")
        }
        JobState::Cancelled => format!("{who} your video was cancelled.{refund}"),
        other => format!("{who} your video is {}.", card::state_text(other)),
    };
    card::clip(&text, CONTENT_MAX)
}

fn file_name(url: &str) -> String {
    let last = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| !n.is_empty() && n.len() <= 100)
        .unwrap_or("video.mp4");
    if last.contains('.') {
        last.to_owned()
    } else {
        format!("{last}.mp4")
    }
}

/// Downloads `url` if it is at most `limit` bytes; `Ok(None)` when it is larger.
async fn download(
    client: &reqwest::Client,
    url: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut response = client.get(url).send().await?.error_for_status()?;
    if response.content_length().is_some_and(|n| n > limit) {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}
