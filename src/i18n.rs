//! The bot's words in each language it speaks (English, Simplified Chinese), from the
//! Project Fluent files under `locales/`, embedded in the binary at build time.
//!
//! A member's private answers follow the member's Discord locale ([`Lang::of_locale`]); the
//! public messages of a server (job card, thread messages, the final ping) follow the
//! server's language. Numbers, durations and times are formatted here for each language;
//! the prompt and the provider's own words are passed through as they are.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};
use serde::{Deserialize, Serialize};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en-US",
        // Discord shows text as written: no Unicode isolation marks around arguments.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN_US: LanguageIdentifier = langid!("en-US");
static ZH_CN: LanguageIdentifier = langid!("zh-CN");

/// A language the bot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    English,
    SimplifiedChinese,
}

impl Lang {
    /// Every language, in the order admins are offered them.
    pub const ALL: [Lang; 2] = [Lang::English, Lang::SimplifiedChinese];

    /// The language for a Discord locale (`zh-CN`, `en-US`, ...): Simplified Chinese for
    /// `zh-CN`, English for everything else.
    pub fn of_locale(locale: &str) -> Lang {
        if locale.eq_ignore_ascii_case("zh-CN") {
            Lang::SimplifiedChinese
        } else {
            Lang::English
        }
    }

    /// Discord's locale code of this language.
    pub fn code(self) -> &'static str {
        match self {
            Lang::English => "en-US",
            Lang::SimplifiedChinese => "zh-CN",
        }
    }

    /// The language's own name (how admins choose it).
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::English => "English",
            Lang::SimplifiedChinese => "简体中文",
        }
    }

    fn langid(self) -> &'static LanguageIdentifier {
        match self {
            Lang::English => &EN_US,
            Lang::SimplifiedChinese => &ZH_CN,
        }
    }

    /// Message `id` (or `id.attribute`) with `args`. A missing message is logged and shown
    /// as its id, never as nothing.
    pub fn text(self, id: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.clone())))
            .collect();
        match LOCALES.try_lookup_with_args(self.langid(), id, &args) {
            Some(text) => text,
            None => {
                tracing::error!(
                    id,
                    lang = self.code(),
                    "a message is missing from the locales"
                );
                id.to_owned()
            }
        }
    }

    /// Message `id` when it exists in this language (registration's localizations).
    pub fn try_text(self, id: &str) -> Option<String> {
        LOCALES.try_lookup(self.langid(), id)
    }

    /// A whole number as this language writes it: `400`, `9,600`, `12,800`. Both languages
    /// group thousands with a comma (as zh-CN's number format does too).
    pub fn num(self, n: impl Into<i128>) -> String {
        let n: i128 = n.into();
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    /// A length in seconds: `5 s`, `5 秒`.
    pub fn secs(self, s: impl Into<u64>) -> String {
        self.text("unit-seconds", &[("n", self.num(s.into()))])
    }

    /// A wait: `45s`, `1m 30s`; `45秒`, `1分30秒`.
    pub fn wait(self, d: Duration) -> String {
        let secs = d.as_secs();
        let (m, s) = (secs / 60, secs % 60);
        if m == 0 {
            self.text("wait-seconds", &[("s", s.to_string())])
        } else {
            self.text("wait-minutes", &[("m", self.num(m)), ("s", s.to_string())])
        }
    }

    /// A moment (unix millis), in UTC: `2024-05-01 00:00 UTC`, `2024年5月1日 00:00 (UTC)`.
    pub fn time(self, millis: i64) -> String {
        let secs = u64::try_from(millis.div_euclid(1000)).unwrap_or(0);
        let at = std::time::UNIX_EPOCH + Duration::from_secs(secs);
        // "2024-05-01T00:00:00Z"
        let t = humantime::format_rfc3339_seconds(at).to_string();
        let (year, month, day) = (&t[..4], &t[5..7], &t[8..10]);
        // ISO dates keep their zeros; Chinese dates do not (2024年5月1日).
        let (month, day) = match self {
            Lang::English => (month.to_owned(), day.to_owned()),
            Lang::SimplifiedChinese => (
                month.trim_start_matches('0').to_owned(),
                day.trim_start_matches('0').to_owned(),
            ),
        };
        self.text(
            "time-utc",
            &[
                ("year", year.to_owned()),
                ("month", month),
                ("day", day),
                ("hm", t[11..16].to_owned()),
            ],
        )
    }

    /// `on` / `off`.
    pub fn on_off(self, on: bool) -> String {
        self.text(if on { "word-on" } else { "word-off" }, &[])
    }
}

/// A message in `lang`: `tr!(lang, "id")` or `tr!(lang, "id", name = value, ...)`; each
/// value is shown with `to_string()` (format numbers with [`Lang::num`] first).
#[macro_export]
macro_rules! tr {
    ($lang:expr, $id:literal $(, $k:ident = $v:expr)* $(,)?) => {
        $crate::i18n::Lang::text($lang, $id, &[$((stringify!($k), ($v).to_string())),*])
    };
}

/// The language of a server's public messages: the one its admins chose, else the server's
/// own Discord locale (`guild_locale`, as the interaction says or as last seen), else English.
pub fn server_lang(
    settings: &crate::guild_settings::ServerSettings,
    guild_locale: Option<&str>,
) -> Lang {
    settings
        .language
        .or_else(|| guild_locale.map(Lang::of_locale))
        .or_else(|| settings.guild_locale.as_deref().map(Lang::of_locale))
        .unwrap_or(Lang::English)
}

#[path = "i18n_words.rs"]
pub mod words;

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;
