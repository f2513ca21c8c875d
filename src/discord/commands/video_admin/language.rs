//! `/video-admin language`: the language of the server's public messages.

use super::change::change;
use crate::discord::commands::{gateway, lang, required};
use crate::discord::invocation::Invocation;
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::i18n::Lang;
use crate::tr;

/// The language of the server's public messages, as offered to admins.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum LanguageChoice {
    #[name = "English"]
    English,
    #[name = "简体中文"]
    SimplifiedChinese,
}

impl From<LanguageChoice> for Lang {
    fn from(c: LanguageChoice) -> Lang {
        match c {
            LanguageChoice::English => Lang::English,
            LanguageChoice::SimplifiedChinese => Lang::SimplifiedChinese,
        }
    }
}

/// The language of the server's public messages (job cards, threads)
#[poise::command(slash_command, guild_only)]
pub async fn language(
    ctx: Context<'_>,
    #[description = "English or Simplified Chinese"] language: LanguageChoice,
) -> Result<(), CommandError> {
    let _ = language;
    gateway::run(ctx).await
}

/// `/video-admin language language`.
pub async fn set_language(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let chosen: Lang = required(
        inv,
        inv.options.choice::<LanguageChoice>("language"),
        "language",
    )?
    .into();
    let done = tr!(
        lang(inv),
        "admin-language-set",
        language = chosen.native_name()
    );
    change(inv, data, move |s| s.language = Some(chosen), done).await
}
