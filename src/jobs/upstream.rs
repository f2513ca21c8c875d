//! Translating between a job and the provider: the task input, provider states, and the
//! words a member or operator reads when the provider refuses or fails a task (a member's
//! are built from `i18n::words::reasons`, so they can be shown in the member's language).

use crate::i18n::words::reasons;
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
            format!("{}{message}{}", reasons::REFUSED.0, reasons::REFUSED.1)
        }
        SeedanceError::Auth { .. } | SeedanceError::OutOfCredits { .. } => reasons::ACCOUNT.into(),
        other => format!("{}{other}{}", reasons::NOT_TAKEN.0, reasons::NOT_TAKEN.1),
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
        (Some(msg), _) if !msg.trim().is_empty() => format!("{}: {msg}", reasons::NOT_MADE),
        (_, Some(code)) => format!("{} (code {code})", reasons::NOT_MADE),
        _ => reasons::NOT_MADE.into(),
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
            "{}{} to {expired}{}",
            reasons::EXPIRED.1,
            if expired == 1 { "" } else { "s" },
            reasons::EXPIRED.0
        )
    })
}

/// What the member reads when createTask kept failing without saying whether it worked.
pub(super) fn gave_up_reason() -> String {
    reasons::GAVE_UP.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::i18n::words::job_reason;
    use crate::jobs::JobState;
    use crate::jobs::model::sample_job;
    use crate::seedance::{TaskId, TaskState};

    fn record(msg: Option<&str>, code: Option<&str>) -> TaskRecord {
        TaskRecord {
            task_id: TaskId("t".into()),
            state: TaskState::Fail,
            result_urls: Vec::new(),
            fail_code: code.map(Into::into),
            fail_msg: msg.map(Into::into),
            create_time: None,
            complete_time: None,
            cost_time: None,
        }
    }

    /// Every reason a member may read is worded in Chinese for a Chinese server, with the
    /// provider's own message kept as written; in English it is shown as stored.
    #[test]
    fn every_reason_is_worded_for_the_language_and_keeps_the_provider_words() {
        let zh = Lang::SimplifiedChinese;
        let refused = refusal_reason(&SeedanceError::InvalidRequest {
            status: 400,
            message: "prompt contains banned words".into(),
        });
        let cases = [
            (refused, Some("prompt contains banned words")),
            (
                failure_reason(&record(Some("face not clear"), None)),
                Some("face not clear"),
            ),
            (failure_reason(&record(None, Some("E42"))), Some("E42")),
            (failure_reason(&record(None, None)), None),
            (gave_up_reason(), None),
        ];
        for (reason, kept) in cases {
            let worded = job_reason(zh, &reason);
            assert_ne!(worded, reason, "not worded in Chinese: {reason}");
            assert!(worded.contains("服务商"), "{worded}");
            if let Some(kept) = kept {
                assert!(worded.contains(kept), "{worded}");
            }
            assert_eq!(job_reason(Lang::English, &reason), reason);
        }
        let mut expiring = sample_job("1300000000000000001", JobState::Queued);
        expiring.request.references = vec![crate::jobs::Reference {
            kind: crate::video::ReferenceKind::Image,
            url: "https://cdn.discordapp.com/x.png".into(),
            expires_at: Some(0),
        }];
        let expired = expired_links(&expiring, 1_000).unwrap();
        assert_eq!(
            job_reason(zh, &expired),
            "你的 1 个文件的链接在任务开始前已过期；你的积分已退还。请重新附加文件，再次使用 `/video`"
        );
        // A reason the bot does not know is shown as stored.
        assert_eq!(job_reason(zh, "something else"), "something else");
    }
}
