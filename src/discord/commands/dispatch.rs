//! From an invocation to its command's logic: the one table both transports go through,
//! keyed by the command's path as it is registered (`["credits", "grant"]`).

use super::{credits, jobs, video_admin};
use crate::discord::invocation::{Invocation, Invoked};
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Data};

/// Which logic a registered command path runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    /// `/video` answers by itself (it races Discord's 3 s): see `video::make`.
    Video,
    /// "Make a video" (message context menu) answers with a form (`make_video::open`); the
    /// submitted form goes the `/video` way (`make_video::submitted`).
    MakeVideo,
    /// Every other command returns what to show.
    Reply(Answers),
}

/// The commands whose logic returns a [`Reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    Jobs,
    Balance,
    History,
    Grant,
    Cap,
    Link,
    Unlink,
    Show,
    AllowChannel,
    DisallowChannel,
    AnyChannel,
    Limits,
    Defaults,
    Cooldown,
    WebSearch,
    ContentFilter,
    Language,
    AllowRole,
    DisallowRole,
    AnyRole,
    Approval,
    Approver,
}

/// The logic of a command path; `None` when the bot has no such command.
pub fn logic(path: &[String]) -> Option<Logic> {
    use Answers as A;
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let answers = match path.as_slice() {
        ["video"] => return Some(Logic::Video),
        ["Make a video"] => return Some(Logic::MakeVideo),
        ["jobs"] => A::Jobs,
        ["credits", sub] => match *sub {
            "balance" => A::Balance,
            "history" => A::History,
            "grant" => A::Grant,
            "cap" => A::Cap,
            "link" => A::Link,
            "unlink" => A::Unlink,
            _ => return None,
        },
        ["video-admin", sub] => match *sub {
            "show" => A::Show,
            "allow-channel" => A::AllowChannel,
            "disallow-channel" => A::DisallowChannel,
            "any-channel" => A::AnyChannel,
            "limits" => A::Limits,
            "defaults" => A::Defaults,
            "cooldown" => A::Cooldown,
            "web-search" => A::WebSearch,
            "content-filter" => A::ContentFilter,
            "language" => A::Language,
            "allow-role" => A::AllowRole,
            "disallow-role" => A::DisallowRole,
            "any-role" => A::AnyRole,
            "approval" => A::Approval,
            "approver" => A::Approver,
            _ => return None,
        },
        _ => return None,
    };
    Some(Logic::Reply(answers))
}

/// The logic of `inv` when it is a command that returns what to show; `None` for `/video`,
/// a button or a command the bot does not have.
pub fn answers_of(inv: &Invocation) -> Option<Answers> {
    match &inv.invoked {
        Invoked::Command(path) => match logic(path)? {
            Logic::Reply(answers) => Some(answers),
            Logic::Video | Logic::MakeVideo => None,
        },
        Invoked::Button(_) | Invoked::Modal(_) => None,
    }
}

/// Runs the logic of a command that returns what to show.
pub async fn reply(answers: Answers, inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    use Answers as A;
    match answers {
        A::Jobs => jobs::recent(inv, data).await,
        A::Balance => credits::show_balance(inv, data).await,
        A::History => credits::show_history(inv, data).await,
        A::Grant => credits::do_grant(inv, data).await,
        A::Cap => credits::set_cap(inv, data).await,
        A::Link => credits::link_pool(inv, data).await,
        A::Unlink => credits::unlink_pool(inv, data).await,
        A::Show => video_admin::show_settings(inv, data).await,
        A::AllowChannel => video_admin::allow(inv, data).await,
        A::DisallowChannel => video_admin::disallow(inv, data).await,
        A::AnyChannel => video_admin::allow_any(inv, data).await,
        A::Limits => video_admin::set_limits(inv, data).await,
        A::Defaults => video_admin::set_defaults(inv, data).await,
        A::Cooldown => video_admin::set_cooldown(inv, data).await,
        A::WebSearch => video_admin::set_web_search(inv, data).await,
        A::ContentFilter => video_admin::set_content_filter(inv, data).await,
        A::Language => video_admin::set_language(inv, data).await,
        A::AllowRole => video_admin::allow_a_role(inv, data).await,
        A::DisallowRole => video_admin::disallow_a_role(inv, data).await,
        A::AnyRole => video_admin::allow_any_role(inv, data).await,
        A::Approval => video_admin::set_approval(inv, data).await,
        A::Approver => video_admin::set_approver(inv, data).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Every command and subcommand poise registers has logic here, and nothing else does:
    /// both transports offer exactly the registered commands.
    #[test]
    fn every_registered_command_has_its_logic() {
        let mut registered = Vec::new();
        for command in super::super::all(&Config::defaults()) {
            if command.subcommands.is_empty() {
                let name = command.context_menu_name.as_ref().unwrap_or(&command.name);
                registered.push(vec![name.to_string()]);
            }
            for sub in &command.subcommands {
                registered.push(vec![command.name.to_string(), sub.name.to_string()]);
            }
        }
        assert_eq!(registered.len(), 24, "{registered:?}");
        let mut seen = Vec::new();
        for path in &registered {
            let found = logic(path).unwrap_or_else(|| panic!("no logic for {path:?}"));
            assert!(!seen.contains(&found), "{path:?} shares its logic");
            seen.push(found);
        }
        for unknown in [
            vec!["credits".to_owned()],
            vec!["credits".into(), "steal".into()],
        ] {
            assert_eq!(logic(&unknown), None, "{unknown:?}");
        }
    }
}
