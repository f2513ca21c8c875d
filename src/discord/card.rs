//! The job card: the embed and buttons that show a job, built from the stored record alone
//! so the command, the buttons and the reporter all draw the same card.

use std::time::Duration;

use serenity::all::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter};

use crate::i18n::{Lang, words};
use crate::jobs::{DecisionKind, JobId, JobRecord, JobState};
use crate::tr;

/// The prefix of every custom id the bot's buttons carry.
const BUTTON_PREFIX: &str = "seedance";
/// How much of the prompt the card shows (the embed description allows 4096).
const PROMPT_ON_CARD: usize = 1500;
/// An embed field value allows 1024 characters.
const FIELD_MAX: usize = 1024;
/// A thread name is 1-100 characters; leave room so nothing is cut mid-grapheme at 100.
const THREAD_NAME_MAX: usize = 90;

/// What a button on a card asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    /// Cancel the queued job (its owner only).
    Cancel(JobId),
    /// Make the same video again, paid by whoever clicks.
    RunAgain(JobId),
    /// Approve a job held for approval (Manage Server or the approver role).
    Approve(JobId),
    /// Reject a job held for approval (Manage Server or the approver role); refunds.
    Reject(JobId),
}

impl ButtonAction {
    pub fn custom_id(&self) -> String {
        match self {
            ButtonAction::Cancel(id) => format!("{BUTTON_PREFIX}:cancel:{id}"),
            ButtonAction::RunAgain(id) => format!("{BUTTON_PREFIX}:again:{id}"),
            ButtonAction::Approve(id) => format!("{BUTTON_PREFIX}:approve:{id}"),
            ButtonAction::Reject(id) => format!("{BUTTON_PREFIX}:reject:{id}"),
        }
    }

    /// The action of one of the bot's buttons; `None` for anything else.
    pub fn parse(custom_id: &str) -> Option<ButtonAction> {
        let mut parts = custom_id.splitn(3, ':');
        if parts.next()? != BUTTON_PREFIX {
            return None;
        }
        let action = parts.next()?;
        let id = parts.next().filter(|id| !id.is_empty())?;
        let id = JobId(id.to_owned());
        match action {
            "cancel" => Some(ButtonAction::Cancel(id)),
            "again" => Some(ButtonAction::RunAgain(id)),
            "approve" => Some(ButtonAction::Approve(id)),
            "reject" => Some(ButtonAction::Reject(id)),
            _ => None,
        }
    }
}

/// The card's embed, in the server's language `lang`. `position` is the place in the queue
/// and the estimated wait, if known. The prompt and the provider's words are shown as
/// written.
pub fn embed(lang: Lang, job: &JobRecord, position: Option<(usize, Duration)>) -> CreateEmbed {
    let r = &job.request;
    let title = if job.simulated {
        tr!(lang, "card-title-simulated")
    } else {
        tr!(lang, "card-title")
    };
    let mut embed = CreateEmbed::new()
        .title(title)
        .description(clip(&r.prompt, PROMPT_ON_CARD))
        .field(
            tr!(lang, "card-state"),
            clip(&state_text(lang, &job.state), FIELD_MAX),
            false,
        );
    if let (JobState::Queued, Some((place, eta))) = (&job.state, position) {
        embed = embed.field(
            tr!(lang, "card-queue"),
            tr!(
                lang,
                "card-queue-value",
                place = lang.num(place as u64),
                wait = lang.wait(eta)
            ),
            true,
        );
    }
    let cost = lang.num(job.cost);
    let cost = match &job.state {
        JobState::Failed { .. }
        | JobState::TimedOut
        | JobState::Cancelled
        | JobState::Rejected
        | JobState::ApprovalExpired => tr!(lang, "card-cost-refunded", cost = cost),
        JobState::Succeeded { .. } => tr!(lang, "card-cost-paid", cost = cost),
        JobState::AwaitingApproval => tr!(lang, "card-cost-awaiting", cost = cost),
        _ => tr!(lang, "card-cost-held", cost = cost),
    };
    embed = embed
        .field(tr!(lang, "card-cost"), cost, true)
        .field(tr!(lang, "card-parameters"), parameters(lang, job), true)
        .field(
            tr!(lang, "card-requested-by"),
            format!("<@{}>", r.member),
            true,
        )
        .field(tr!(lang, "card-references"), references(lang, job), false);
    if let Some(decision) = &job.decision {
        let text = match (decision.kind, decision.by) {
            (DecisionKind::Approved, Some(by)) => {
                tr!(lang, "card-approved-by", who = format!("<@{by}>"))
            }
            (DecisionKind::Rejected, Some(by)) => {
                tr!(lang, "card-rejected-by", who = format!("<@{by}>"))
            }
            _ => tr!(lang, "card-nobody-decided"),
        };
        embed = embed.field(tr!(lang, "card-approval"), text, true);
    }
    if let JobState::Succeeded { urls, .. } = &job.state {
        embed = embed.field(
            tr!(lang, "card-result"),
            clip(&urls.join("\n"), FIELD_MAX),
            false,
        );
    }
    let mut footer = tr!(lang, "card-footer", id = job.id);
    if job.reply.message.is_some() && job.reply.thread.is_none() {
        footer.push_str(&tr!(lang, "card-footer-no-thread"));
    }
    embed.footer(CreateEmbedFooter::new(footer))
}

/// The card's buttons: "Approve", "Reject" and "Cancel" while held for approval, "Cancel"
/// while queued, "Run again" once finished.
pub fn components(lang: Lang, job: &JobRecord) -> Vec<CreateActionRow> {
    let button = match &job.state {
        JobState::AwaitingApproval => {
            let id = &job.id;
            return vec![CreateActionRow::Buttons(vec![
                CreateButton::new(ButtonAction::Approve(id.clone()).custom_id())
                    .label(tr!(lang, "button-approve"))
                    .style(ButtonStyle::Success),
                CreateButton::new(ButtonAction::Reject(id.clone()).custom_id())
                    .label(tr!(lang, "button-reject"))
                    .style(ButtonStyle::Danger),
                CreateButton::new(ButtonAction::Cancel(id.clone()).custom_id())
                    .label(tr!(lang, "button-cancel"))
                    .style(ButtonStyle::Secondary),
            ])];
        }
        JobState::Queued => CreateButton::new(ButtonAction::Cancel(job.id.clone()).custom_id())
            .label(tr!(lang, "button-cancel"))
            .style(ButtonStyle::Danger),
        s if s.is_terminal() => {
            CreateButton::new(ButtonAction::RunAgain(job.id.clone()).custom_id())
                .label(tr!(lang, "button-run-again"))
                .style(ButtonStyle::Secondary)
        }
        _ => return Vec::new(),
    };
    vec![CreateActionRow::Buttons(vec![button])]
}

/// A thread name from the prompt: its first words, 1-100 characters.
pub fn thread_name(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    let joined = words.join(" ");
    let name = clip(&joined, THREAD_NAME_MAX);
    if name.is_empty() {
        "video".into()
    } else {
        name
    }
}

/// The state in a member's words (the provider's own state and reasons as written).
pub fn state_text(lang: Lang, state: &JobState) -> String {
    match state {
        JobState::AwaitingApproval => tr!(lang, "state-awaiting-approval"),
        JobState::Queued => tr!(lang, "state-queued"),
        JobState::Submitting => tr!(lang, "state-submitting"),
        JobState::Running { provider_state, .. } => {
            tr!(lang, "state-running", provider = provider_state)
        }
        JobState::Succeeded { .. } => tr!(lang, "state-done"),
        JobState::Failed { reason } => tr!(
            lang,
            "state-failed",
            reason = words::job_reason(lang, reason)
        ),
        JobState::TimedOut => tr!(lang, "state-timed-out"),
        JobState::Cancelled => tr!(lang, "state-cancelled"),
        JobState::Rejected => tr!(lang, "state-rejected"),
        JobState::ApprovalExpired => tr!(lang, "state-approval-expired"),
    }
}

/// The state in one word, for lists (`/jobs`, `/credits balance`).
pub fn state_label(lang: Lang, state: &JobState) -> String {
    match state {
        JobState::AwaitingApproval => tr!(lang, "label-awaiting-approval"),
        JobState::Queued => tr!(lang, "label-queued"),
        JobState::Submitting => tr!(lang, "label-submitting"),
        JobState::Running { .. } => tr!(lang, "label-running"),
        JobState::Succeeded { .. } => tr!(lang, "label-succeeded"),
        JobState::Failed { .. } => tr!(lang, "label-failed"),
        JobState::TimedOut => tr!(lang, "label-timed-out"),
        JobState::Cancelled => tr!(lang, "label-cancelled"),
        JobState::Rejected => tr!(lang, "label-rejected"),
        JobState::ApprovalExpired => tr!(lang, "label-approval-expired"),
    }
}

fn parameters(lang: Lang, job: &JobRecord) -> String {
    let r = &job.request;
    let text = tr!(
        lang,
        "card-parameters-value",
        resolution = r.resolution,
        ratio = r.ratio,
        duration = lang.secs(r.duration),
        audio = lang.on_off(r.generate_audio),
        web = lang.on_off(r.web_search)
    );
    if r.nsfw_checker {
        text
    } else {
        text + &tr!(lang, "card-filter-off")
    }
}

fn references(lang: Lang, job: &JobRecord) -> String {
    let refs = &job.request.references;
    if refs.is_empty() {
        return tr!(lang, "word-none");
    }
    let mut out = String::new();
    for (i, r) in refs.iter().enumerate() {
        // Attachment links carry long signatures: show the path only.
        let shown = r.url.split('?').next().unwrap_or(&r.url);
        let line = format!("{}: {}\n", words::kind(lang, r.kind), clip(shown, 200));
        if out.chars().count() + line.chars().count() > FIELD_MAX - 20 {
            out.push_str(&tr!(lang, "card-more-references", count = refs.len() - i));
            break;
        }
        out.push_str(&line);
    }
    out.trim_end().to_owned()
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_and_ignore_others() {
        for action in [
            ButtonAction::Cancel(JobId("123".into())),
            ButtonAction::RunAgain(JobId("456".into())),
            ButtonAction::Approve(JobId("789".into())),
            ButtonAction::Reject(JobId("790".into())),
        ] {
            assert_eq!(ButtonAction::parse(&action.custom_id()), Some(action));
        }
        assert_eq!(ButtonAction::parse("other:cancel:1"), None);
        assert_eq!(ButtonAction::parse("seedance:cancel:"), None);
    }

    #[test]
    fn thread_names_are_1_to_100_chars() {
        assert_eq!(thread_name("  "), "video");
        assert_eq!(thread_name("a  cat\n\non a boat"), "a cat on a boat");
        let long = thread_name(&"word ".repeat(100));
        assert!((1..=100).contains(&long.chars().count()));
    }
}
