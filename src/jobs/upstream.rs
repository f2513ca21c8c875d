//! Translating between a job and the provider: the task input, provider states, and the
//! words a member or operator reads when the provider refuses or fails a task.

use crate::jobs::model::JobRecord;
use crate::seedance::{SeedanceError, TaskInput, TaskRecord};
use crate::video::ReferenceKind;

/// The task as the provider wants it.
pub(super) fn task_input(job: &JobRecord) -> TaskInput {
    let r = &job.request;
    TaskInput {
        prompt: Some(r.prompt.clone()),
        reference_image_urls: r.urls_of(ReferenceKind::Image),
        reference_video_urls: r.urls_of(ReferenceKind::Video),
        reference_audio_urls: r.urls_of(ReferenceKind::Audio),
        ratio: Some(r.ratio),
        aspect_ratio: None,
        resolution: Some(r.resolution),
        duration: Some(r.duration),
        generate_audio: Some(r.generate_audio),
        web_search: Some(r.web_search),
        nsfw_checker: Some(r.nsfw_checker),
    }
}

/// What the member reads when the provider refused the task outright.
pub(super) fn refusal_reason(e: &SeedanceError) -> String {
    match e {
        SeedanceError::InvalidRequest { message, .. } => {
            format!(
                "the provider refused the request ({message}); change the prompt or references and try again"
            )
        }
        SeedanceError::Auth { .. } | SeedanceError::OutOfCredits { .. } => {
            "the bot's provider account needs its operator's attention; your credits are back"
                .into()
        }
        other => format!("the provider could not take the job ({other}); your credits are back"),
    }
}

/// What the operators read when the provider refused the bot's key (401/403) or account
/// (402). Never contains the key: `SeedanceError` does not carry it.
pub(super) fn operator_alert(e: &SeedanceError, job: &JobRecord) -> Option<String> {
    let what = match e {
        SeedanceError::Auth { .. } => {
            "the provider refused the bot's API key (401/403): check `seedance.api_key`"
        }
        SeedanceError::OutOfCredits { .. } => {
            "the provider account is out of credits (402): top it up"
        }
        _ => return None,
    };
    Some(format!(
        "seedance-bot needs its operator: {what}. Job `{}` in server {} was refunded; new jobs will fail the same way until this is fixed.",
        job.id, job.request.guild
    ))
}

pub(super) fn failure_reason(record: &TaskRecord) -> String {
    match (&record.fail_msg, &record.fail_code) {
        (Some(msg), _) if !msg.trim().is_empty() => {
            format!("the provider could not make the video: {msg}")
        }
        (_, Some(code)) => format!("the provider could not make the video (code {code})"),
        _ => "the provider could not make the video".into(),
    }
}

/// How long before a reference link expires it is no longer worth sending: the provider
/// fetches the files some time after createTask.
const LINK_MARGIN_MS: i64 = 60_000;

/// Why the job cannot be sent: a reference link has expired (or will within a minute).
pub(super) fn expired_links(job: &JobRecord, now: i64) -> Option<String> {
    let expired = job
        .request
        .references
        .iter()
        .filter(|r| r.expires_at.is_some_and(|at| at <= now + LINK_MARGIN_MS))
        .count();
    (expired > 0).then(|| {
        format!(
            "the link{} to {expired} of your files expired before the job could start; your credits are back. Use `/video` again with the files attached afresh",
            if expired == 1 { "" } else { "s" }
        )
    })
}

/// What the member reads when createTask kept failing without saying whether it worked.
pub(super) fn gave_up_reason() -> String {
    "the provider is having trouble and did not take the job after several tries; your credits are back, please try again later".into()
}
