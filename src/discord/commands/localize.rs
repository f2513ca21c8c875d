//! The commands as a Chinese-language Discord client shows them: every command, option and
//! choice gets its `zh-CN` name and description from the locale files, under ids made from
//! its path (`cmd-video-admin-allow-channel`, `cmd-video-opt-duration`, `choice-16-9`).
//! Discord sends the default (English) names back whatever the member sees, so the logic
//! keeps reading those.

use serenity::all::CreateCommand;

use crate::discord::Command;
use crate::i18n::Lang;

/// The languages commands are translated into (English is the default every command has).
const TRANSLATED: [Lang; 1] = [Lang::SimplifiedChinese];

/// The locale id of a command: `cmd-` and its path joined by `-`.
pub fn command_id(path: &[&str]) -> String {
    format!("cmd-{}", path.join("-"))
        .to_lowercase()
        .replace(' ', "-")
}

/// The locale id of a choice, from its (English) name: `choice-16-9`, `choice-always-on`.
/// A choice named in another script (`简体中文`) is its own translation.
pub fn choice_id(name: &str) -> Option<String> {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-').to_owned();
    (name.is_ascii() && !slug.is_empty()).then(|| format!("choice-{slug}"))
}

/// Sets the localizations of every command, subcommand, option and choice in `commands`.
pub fn localize(commands: &mut [Command]) {
    for command in commands {
        let name = command
            .context_menu_name
            .clone()
            .unwrap_or_else(|| command.name.clone());
        localize_command(command, &[name.as_ref()]);
    }
}

fn localize_command(command: &mut Command, path: &[&str]) {
    let id = command_id(path);
    for lang in TRANSLATED {
        let code = lang.code().to_owned();
        if let Some(name) = lang.try_text(&id) {
            command
                .name_localizations
                .to_mut()
                .push((code.clone().into(), name.into()));
        }
        if let Some(desc) = lang.try_text(&format!("{id}.desc")) {
            command
                .description_localizations
                .to_mut()
                .push((code.clone().into(), desc.into()));
        }
        for p in &mut command.parameters {
            let opt = format!("{id}-opt-{}", p.name);
            if let Some(name) = lang.try_text(&opt) {
                p.name_localizations
                    .to_mut()
                    .push((code.clone().into(), name.into()));
            }
            if let Some(desc) = lang.try_text(&format!("{opt}.desc")) {
                p.description_localizations
                    .to_mut()
                    .push((code.clone().into(), desc.into()));
            }
            for choice in p.choices.to_mut() {
                let shown = match choice_id(&choice.name) {
                    Some(cid) => lang.try_text(&cid),
                    None => Some(choice.name.to_string()),
                };
                if let Some(shown) = shown {
                    choice
                        .localizations
                        .to_mut()
                        .push((code.clone().into(), shown.into()));
                }
            }
        }
    }
    for sub in &mut command.subcommands {
        let mut sub_path = path.to_vec();
        let name = sub.name.clone();
        sub_path.push(name.as_ref());
        localize_command(sub, &sub_path);
    }
}

/// What the bot registers with Discord: poise's commands, with the localized names of the
/// context-menu commands (poise leaves those out).
pub fn application_commands(commands: &[Command]) -> Vec<CreateCommand> {
    let mut out = Vec::new();
    for command in commands {
        if let Some(slash) = command.create_as_slash_command() {
            out.push(slash);
        }
        if let Some(mut menu) = command.create_as_context_menu_command() {
            for (locale, name) in command.name_localizations.iter() {
                menu = menu.name_localized(locale.as_ref(), name.as_ref());
            }
            out.push(menu);
        }
    }
    out
}
