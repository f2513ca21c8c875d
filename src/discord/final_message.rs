//! The member's final message about a job: its words, its nonce (so a resend after a crash
//! is the same message), and the re-hosted video file.

use crate::i18n::Lang;
use crate::jobs::{JobId, JobRecord, JobState};
use crate::tr;

use super::card;

/// Message content allows 2000 characters.
const CONTENT_MAX: usize = 2000;
/// Discord's limit on a message nonce.
const NONCE_MAX: usize = 25;

/// The nonce of the message of `kind` about job `id`: the same on every try, at most 25
/// characters (a long id is replaced by its FNV-1a hash).
pub fn nonce(id: &JobId, kind: &str) -> String {
    let plain = format!("{kind}:{}", id.0);
    if plain.len() <= NONCE_MAX {
        return plain;
    }
    // FNV-1a: stable across builds and releases, unlike std's hasher.
    let hash = id.0.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let hashed = format!("{kind}#{hash:016x}");
    hashed.chars().take(NONCE_MAX).collect()
}

/// The member's final message, in the server's language `lang`: the link(s), or what went
/// wrong and what was refunded (the provider's reasons as written).
pub fn final_text(lang: Lang, job: &JobRecord, refunded: u64) -> String {
    let who = format!("<@{}>", job.request.member);
    let refund = if refunded > 0 {
        tr!(lang, "final-refund", amount = lang.num(refunded))
    } else {
        String::new()
    };
    let text = match &job.state {
        JobState::Succeeded { urls, .. } => {
            let note = if job.simulated {
                tr!(lang, "final-simulated")
            } else {
                String::new()
            };
            tr!(
                lang,
                "final-ready",
                who = who,
                note = note,
                urls = urls.join("\n")
            )
        }
        JobState::Failed { reason } => {
            tr!(
                lang,
                "final-failed",
                who = who,
                reason = crate::i18n::words::job_reason(lang, reason),
                refund = refund
            )
        }
        // The provider has no cancel call: the bot stops waiting, it stops nothing.
        JobState::TimedOut => tr!(lang, "final-timed-out", who = who, refund = refund),
        JobState::Cancelled => tr!(lang, "final-cancelled", who = who, refund = refund),
        // Never sent upstream: nothing was charged, and the hold is back in the pool.
        JobState::Rejected => tr!(
            lang,
            "final-rejected",
            who = who,
            by = job
                .decision
                .and_then(|d| d.by)
                .map_or_else(String::new, |by| format!("<@{by}>")),
            amount = lang.num(job.cost)
        ),
        JobState::ApprovalExpired => tr!(
            lang,
            "final-approval-expired",
            who = who,
            amount = lang.num(job.cost)
        ),
        other => tr!(
            lang,
            "final-other",
            who = who,
            state = card::state_text(lang, other)
        ),
    };
    card::clip(&text, CONTENT_MAX)
}

pub fn file_name(url: &str) -> String {
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
pub async fn download(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: JobState) -> JobRecord {
        crate::jobs::model::sample_job("1300000000000000001", state)
    }

    #[test]
    fn a_timeout_says_the_bot_stopped_waiting_and_the_credits_are_back() {
        let text = final_text(Lang::English, &job(JobState::TimedOut), 200);
        assert!(text.contains("stopped waiting"), "{text}");
        assert!(text.contains("200 credits went back"), "{text}");
        assert!(!text.contains("was stopped"), "{text}");
        let card = card::state_text(Lang::English, &JobState::TimedOut);
        assert!(card.contains("stopped waiting") && !card.contains("was stopped"));
    }

    #[test]
    fn nonces_are_stable_per_job_and_kind_and_at_most_25_characters() {
        let id = JobId("1300000000000000001".into());
        assert_eq!(nonce(&id, "final"), "final:1300000000000000001");
        let long = JobId("run-again-1300000000000000001".into());
        let n = nonce(&long, "final");
        assert!(n.len() <= NONCE_MAX, "{n}");
        assert_eq!(n, nonce(&long, "final"));
        assert_ne!(
            n,
            nonce(&JobId("run-again-1300000000000000002".into()), "final")
        );
    }
}
