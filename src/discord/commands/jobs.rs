//! `/jobs`: a member's recent jobs with their state, cost and links.

use serenity::all::User;

use super::{gateway, guild_of, lang};
use crate::discord::card::clip;
use crate::discord::invocation::Invocation;
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Context, Data};
use crate::i18n::Lang;
use crate::ids::MemberId;
use crate::jobs::{JobRecord, JobState};
use crate::tr;

/// How many jobs the list shows.
const JOBS_SHOWN: usize = 10;

/// Your recent video jobs (Manage Server: anyone's)
#[poise::command(slash_command, guild_only)]
pub async fn jobs(
    ctx: Context<'_>,
    #[description = "Another member (Manage Server needed)"] user: Option<User>,
) -> Result<(), CommandError> {
    let _ = user;
    gateway::run(ctx).await
}

/// `/jobs [user]`: the member's recent jobs here, or another member's for a manager.
pub async fn recent(inv: &Invocation, data: &Data) -> Result<Reply, CommandError> {
    let guild = guild_of(inv)?;
    let lang = lang(inv);
    let whose = match inv.options.user("user") {
        Some(u) if u != inv.user && !inv.can_manage() => {
            return Err(CommandError::User(tr!(lang, "jobs-not-manager")));
        }
        Some(u) => u,
        None => inv.user,
    };
    let list = data
        .jobs
        .recent(guild, Some(MemberId(whose.get())), JOBS_SHOWN);
    let text = if list.is_empty() {
        tr!(lang, "jobs-none", who = format!("<@{whose}>"))
    } else {
        list.iter()
            .map(|j| line(lang, j))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Reply::private(clip(&text, 2000)))
}

fn line(lang: Lang, job: &JobRecord) -> String {
    let link = match (job.reply.channel, job.reply.message) {
        (Some(c), Some(m)) => tr!(
            lang,
            "jobs-card-link",
            url = format!("https://discord.com/channels/{}/{c}/{m}", job.request.guild)
        ),
        _ => String::new(),
    };
    let result = match &job.state {
        JobState::Succeeded { urls, .. } => format!(" {}", urls.join(" ")),
        JobState::Failed { reason } => format!(
            "{}{}",
            tr!(lang, "jobs-reason-separator"),
            clip(&crate::i18n::words::job_reason(lang, reason), 120)
        ),
        _ => String::new(),
    };
    tr!(
        lang,
        "jobs-line",
        id = job.id,
        state = crate::discord::card::state_label(lang, &job.state),
        cost = lang.num(job.cost),
        prompt = clip(&job.request.prompt, 60),
        link = link,
        result = result
    )
}
