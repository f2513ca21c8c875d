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
    }
}
