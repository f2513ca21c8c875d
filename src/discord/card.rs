//! The job card: the embed and buttons that show a job, built from the stored record alone
//! so the command, the buttons and the reporter all draw the same card.

use std::time::Duration;

use serenity::all::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter};

use crate::jobs::{JobId, JobRecord, JobState};

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
}

impl ButtonAction {
    pub fn custom_id(&self) -> String {
        match self {
            ButtonAction::Cancel(id) => format!("{BUTTON_PREFIX}:cancel:{id}"),
            ButtonAction::RunAgain(id) => format!("{BUTTON_PREFIX}:again:{id}"),
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
            _ => None,
        }
    }
}

/// The card's embed. `position` is the place in the queue and the estimated wait, if known.
pub fn embed(job: &JobRecord, position: Option<(usize, Duration)>) -> CreateEmbed {
    let r = &job.request;
    let title = if job.simulated {
        "Video job (simulated: no real video is made)"
    } else {
        "Video job"
    };
    let mut embed = CreateEmbed::new()
        .title(title)
        .description(clip(&r.prompt, PROMPT_ON_CARD))
        .field("State", clip(&state_text(&job.state), FIELD_MAX), false);
    if let (JobState::Queued, Some((place, eta))) = (&job.state, position) {
        embed = embed.field(
            "Queue position",
            format!("#{place}, about {} to wait", human(eta)),
            true,
        );
    }
    let cost = match &job.state {
        JobState::Failed { .. } | JobState::TimedOut | JobState::Cancelled => {
            format!("{} credits (refunded)", job.cost)
        }
        JobState::Succeeded { .. } => format!("{} credits (paid)", job.cost),
        _ => format!("{} credits (held until the video is made)", job.cost),
    };
    embed = embed
        .field("Cost", cost, true)
        .field("Parameters", parameters(job), true)
        .field("Requested by", format!("<@{}>", r.member), true)
        .field("References", references(job), false);
    if let JobState::Succeeded { urls, .. } = &job.state {
        embed = embed.field("Result", clip(&urls.join("\n"), FIELD_MAX), false);
    }
    let mut footer = format!("Job {}", job.id);
    if job.reply.message.is_some() && job.reply.thread.is_none() {
        footer.push_str(" · I cannot make a thread here, so updates are posted in this channel");
    }
    embed.footer(CreateEmbedFooter::new(footer))
}

/// The card's buttons: "Cancel" while queued, "Run again" once finished.
pub fn components(job: &JobRecord) -> Vec<CreateActionRow> {
    let button = match &job.state {
        JobState::Queued => CreateButton::new(ButtonAction::Cancel(job.id.clone()).custom_id())
            .label("Cancel")
            .style(ButtonStyle::Danger),
        s if s.is_terminal() => {
            CreateButton::new(ButtonAction::RunAgain(job.id.clone()).custom_id())
                .label("Run again")
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

/// The state in a member's words.
pub fn state_text(state: &JobState) -> String {
    match state {
        JobState::Queued => "Queued".into(),
        JobState::Submitting => "Sending to the provider".into(),
        JobState::Running { provider_state, .. } => format!("Generating ({provider_state})"),
        JobState::Succeeded { .. } => "Done".into(),
        JobState::Failed { reason } => format!("Failed: {reason}"),
        JobState::TimedOut => "Timed out: the bot stopped waiting for it".into(),
        JobState::Cancelled => "Cancelled".into(),
    }
}

fn parameters(job: &JobRecord) -> String {
    let r = &job.request;
    let on = |b: bool| if b { "on" } else { "off" };
    format!(
        "{} · {} · {} s · audio {} · web search {}",
        r.resolution,
        r.ratio,
        r.duration,
        on(r.generate_audio),
        on(r.web_search)
    ) + if r.nsfw_checker {
        ""
    } else {
        " · content filter **off** (age-restricted channel)"
    }
}

fn references(job: &JobRecord) -> String {
    let refs = &job.request.references;
    if refs.is_empty() {
        return "none".into();
    }
    let mut out = String::new();
    for (i, r) in refs.iter().enumerate() {
        // Attachment links carry long signatures: show the path only.
        let shown = r.url.split('?').next().unwrap_or(&r.url);
        let line = format!("{}: {}\n", r.kind, clip(shown, 200));
        if out.chars().count() + line.chars().count() > FIELD_MAX - 20 {
            out.push_str(&format!("… and {} more", refs.len() - i));
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

/// "1m 30s" for a wait.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..=59 => format!("{secs}s"),
        _ => format!("{}m {}s", secs / 60, secs % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_and_ignore_others() {
        for action in [
            ButtonAction::Cancel(JobId("123".into())),
            ButtonAction::RunAgain(JobId("456".into())),
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
