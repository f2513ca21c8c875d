//! The core's refusals in each language: the Discord side reads the fields of the core's
//! error types (which know no language) and words them for the member.

use super::Lang;
use crate::credits::LedgerError;
use crate::guild_settings::{RateLimited, SettingsRefusal};
use crate::jobs::CancelError;
use crate::jobs::validate::{InvalidRequest, MAX_PROMPT_CHARS, MAX_REFERENCES};
use crate::video::ReferenceKind;

/// `image`, `video`, `audio` in the language.
pub fn kind(lang: Lang, kind: ReferenceKind) -> String {
    match kind {
        ReferenceKind::Image => tr!(lang, "kind-image"),
        ReferenceKind::Video => tr!(lang, "kind-video"),
        ReferenceKind::Audio => tr!(lang, "kind-audio"),
    }
}

/// Why a request is invalid, as the middle of "I can't make this video: ...".
pub fn invalid(lang: Lang, e: &InvalidRequest) -> String {
    match e {
        InvalidRequest::EmptyPrompt => tr!(lang, "invalid-empty-prompt"),
        InvalidRequest::PromptTooLong { chars } => tr!(
            lang,
            "invalid-prompt-too-long",
            // Counts of characters, written whole as the prompt's limit always was.
            chars = chars,
            max = MAX_PROMPT_CHARS
        ),
        InvalidRequest::TooManyOfKind {
            kind: k,
            count,
            max,
        } => tr!(
            lang,
            "invalid-too-many-of-kind",
            count = count,
            kind = kind(lang, *k),
            max = max
        ),
        InvalidRequest::TooManyReferences { count } => tr!(
            lang,
            "invalid-too-many-references",
            count = count,
            max = MAX_REFERENCES
        ),
        InvalidRequest::AudioAlone => tr!(lang, "invalid-audio-alone"),
        InvalidRequest::FileFormat {
            file,
            found,
            kind: k,
            accepted,
        } => tr!(
            lang,
            "invalid-file-format",
            file = file,
            found = found,
            kind = kind(lang, *k),
            accepted = accepted
        ),
        InvalidRequest::FileTooLarge {
            file,
            size_mb,
            kind: k,
            max_mb,
        } => tr!(
            lang,
            "invalid-file-too-large",
            file = file,
            size = lang.num(*size_mb),
            kind = kind(lang, *k),
            max = lang.num(*max_mb)
        ),
        InvalidRequest::BadUrl { url, why } => tr!(
            lang,
            "invalid-bad-url",
            url = url,
            why = bad_url_reason(lang, why)
        ),
        InvalidRequest::DurationOutOfRange { seconds, min, max } => tr!(
            lang,
            "invalid-duration",
            seconds = seconds,
            min = min,
            max = max
        ),
    }
}

/// The core's reasons a link is unusable, each in the language (an unknown one as written).
fn bad_url_reason(lang: Lang, why: &str) -> String {
    let id = match why {
        "it is not a valid URL; paste the full https:// link" => "bad-url-not-url",
        "only https:// links are accepted" => "bad-url-not-https",
        "links with a user name or password in them are not accepted" => "bad-url-credentials",
        "it has no host" => "bad-url-no-host",
        "it points at a private or local host; use a public link" => "bad-url-private-host",
        "it points at a private or local address; use a public link" => "bad-url-private-address",
        other => return other.to_owned(),
    };
    lang.text(id, &[])
}

/// A server setting's refusal, as a sentence.
pub fn settings(lang: Lang, e: &SettingsRefusal) -> String {
    match e {
        SettingsRefusal::Channel { allowed } => tr!(lang, "settings-channel", allowed = allowed),
        SettingsRefusal::Resolution { max } => tr!(lang, "settings-resolution", max = max),
        SettingsRefusal::Duration { max } => tr!(lang, "settings-duration", max = max),
        SettingsRefusal::WebSearch => tr!(lang, "settings-web-search"),
        SettingsRefusal::Cooldown {
            cooldown_secs,
            wait_secs,
        } => tr!(
            lang,
            "settings-cooldown",
            cooldown = lang.num(*cooldown_secs),
            wait = lang.num(*wait_secs)
        ),
        SettingsRefusal::Role { roles } => tr!(lang, "settings-role", roles = roles),
    }
}

/// A ledger refusal the member caused, as a sentence (faults are not shown to members).
pub fn ledger(lang: Lang, e: &LedgerError) -> String {
    match e {
        LedgerError::InsufficientCredits { available, needed } => tr!(
            lang,
            "ledger-insufficient",
            available = lang.num(*available),
            needed = lang.num(*needed)
        ),
        LedgerError::DailyCapReached {
            cap,
            used_today,
            needed,
            resets_at,
        } => tr!(
            lang,
            "ledger-daily-cap",
            used = lang.num(*used_today),
            cap = lang.num(*cap),
            needed = lang.num(*needed),
            resets = lang.time(*resets_at)
        ),
        LedgerError::InvalidAmount(why) => tr!(lang, "ledger-invalid-amount", why = why),
        other => tr!(lang, "ledger-other", why = other),
    }
}

/// The command rate limit's refusal, as a sentence.
pub fn rate_limited(lang: Lang, e: &RateLimited) -> String {
    tr!(
        lang,
        "rate-limited",
        burst = e.burst,
        window = e.window_secs,
        wait = e.wait_secs
    )
}

/// Why a cancellation was refused, as the end of "I can't cancel that: ...".
pub fn cancel(lang: Lang, e: &CancelError) -> String {
    match e {
        CancelError::Unknown => tr!(lang, "cancel-unknown"),
        CancelError::NotOwner => tr!(lang, "cancel-not-owner"),
        CancelError::AlreadyStarted(state) => tr!(lang, "cancel-started", state = state),
        CancelError::Ended(state) => tr!(lang, "cancel-ended", state = state),
    }
}

/// The phrasings of the reasons a job ends with, as stored with the job (in English, the
/// core's words; the provider's own message inside them is kept as written). The jobs module
/// builds its reasons from these, and [`job_reason`] words them for a member.
pub mod reasons {
    /// `the provider refused the request (MESSAGE); ...`
    pub const REFUSED: (&str, &str) = (
        "the provider refused the request (",
        "); change the prompt or references and try again",
    );
    pub const ACCOUNT: &str =
        "the bot's provider account needs its operator's attention; your credits are back";
    /// `the provider could not take the job (ERROR); your credits are back`
    pub const NOT_TAKEN: (&str, &str) = (
        "the provider could not take the job (",
        "); your credits are back",
    );
    /// `the provider could not make the video`, then `: MESSAGE` or ` (code CODE)`.
    pub const NOT_MADE: &str = "the provider could not make the video";
    /// `the link(s) to N of your files expired ...`
    pub const EXPIRED: (&str, &str) = (
        " of your files expired before the job could start; your credits are back. Use `/video` again with the files attached afresh",
        "the link",
    );
    pub const GAVE_UP: &str = "the provider is having trouble and did not take the job after several tries; your credits are back, please try again later";
    pub const NO_VIDEO: &str =
        "the provider reported success but sent no video; your credits are back";
    pub const TASK_LOST: &str = "the provider no longer knows this task; your credits are back";
    pub const RESTARTED: &str = "the bot restarted while sending this job to the provider, so its outcome is unknown; your credits are back, please try again";
}

/// Why a job failed, in the language: the core's stored reason re-worded when it is one of
/// [`reasons`], the provider's message inside it as written; any other reason as stored.
pub fn job_reason(lang: Lang, reason: &str) -> String {
    use reasons::*;
    if lang == Lang::English {
        return reason.to_owned();
    }
    let inner = |(head, tail): (&str, &str)| {
        reason
            .strip_prefix(head)
            .and_then(|r| r.strip_suffix(tail))
            .map(str::to_owned)
    };
    if let Some(message) = inner(REFUSED) {
        return tr!(lang, "reason-refused", message = message);
    }
    if let Some(error) = inner(NOT_TAKEN) {
        return tr!(lang, "reason-not-taken", error = error);
    }
    if let Some(rest) = reason.strip_prefix(NOT_MADE) {
        if rest.is_empty() {
            return tr!(lang, "reason-not-made");
        }
        if let Some(message) = rest.strip_prefix(": ") {
            return tr!(lang, "reason-not-made-message", message = message);
        }
        if let Some(code) = rest
            .strip_prefix(" (code ")
            .and_then(|r| r.strip_suffix(')'))
        {
            return tr!(lang, "reason-not-made-code", code = code);
        }
    }
    if let Some(count) = reason
        .strip_suffix(EXPIRED.0)
        .and_then(|r| r.strip_prefix(EXPIRED.1))
        .and_then(|r| r.trim_start_matches('s').strip_prefix(" to "))
    {
        return tr!(lang, "reason-expired", count = count);
    }
    let id = match reason {
        ACCOUNT => "reason-account",
        GAVE_UP => "reason-gave-up",
        NO_VIDEO => "reason-no-video",
        TASK_LOST => "reason-task-lost",
        RESTARTED => "reason-restarted",
        other => return other.to_owned(),
    };
    lang.text(id, &[])
}
