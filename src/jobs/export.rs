//! The audit trail of every job of a server (who, where, prompt, references, cost,
//! outcome, and for a job held for approval who decided and when), as CSV or JSON lines, oldest first. Read from the stored job records.

use std::io::Write;

use serde::Serialize;

use super::model::{JobRecord, JobState};
use crate::credits::{ExportFormat, csv_text, format_utc};
use crate::ids::GuildId;

const CSV_HEADER: &str = "job,created_utc,finished_utc,guild,channel,member,prompt,references,resolution,ratio,duration,generate_audio,web_search,nsfw_checker,cost,simulated,state,task_id,outcome,create_attempts,create_unknown,delivery,approval,approval_by,approval_utc";

/// One job as the audit trail shows it.
#[derive(Debug, Serialize)]
struct AuditRow<'a> {
    job: &'a str,
    created_at: i64,
    created_utc: String,
    finished_utc: Option<String>,
    guild: u64,
    channel: u64,
    member: u64,
    prompt: &'a str,
    /// `kind:url` per reference.
    references: Vec<String>,
    resolution: String,
    ratio: String,
    duration: u32,
    generate_audio: bool,
    web_search: bool,
    nsfw_checker: bool,
    cost: u64,
    simulated: bool,
    state: &'static str,
    task_id: Option<&'a str>,
    /// Result links, the failure reason, or nothing while the job runs.
    outcome: String,
    /// createTask calls sent for the job (each may have started a paid task upstream).
    create_attempts: u32,
    /// Of those, the ones whose outcome stayed unknown.
    create_unknown: u32,
    /// The final report: `delivered`, `failed: why`, `pending`, or empty while the job runs.
    delivery: String,
    /// For a job that needed approval: `awaiting`, then `approved`, `rejected` or `expired`;
    /// empty for one that needed none.
    approval: &'static str,
    /// Who approved or rejected it (a member id; none for an expiry).
    approval_by: Option<u64>,
    approval_utc: Option<String>,
}

fn row(job: &JobRecord) -> AuditRow<'_> {
    let r = &job.request;
    let (task_id, outcome) = match &job.state {
        JobState::Running { task_id, .. } => (Some(task_id.as_str()), String::new()),
        JobState::Succeeded { task_id, urls } => (Some(task_id.as_str()), urls.join(" ")),
        JobState::Failed { reason } => (None, reason.clone()),
        JobState::TimedOut if job.create_attempts > 0 => (
            None,
            "timed out: the bot stopped waiting; the provider's task may still run and be billed"
                .into(),
        ),
        JobState::TimedOut => (None, "timed out before it was sent to the provider".into()),
        JobState::Cancelled => (None, "cancelled by the member".into()),
        JobState::Rejected => (
            None,
            "rejected before it was queued; the held credits went back to the pool".into(),
        ),
        JobState::ApprovalExpired => (
            None,
            "nobody approved it in time; the held credits went back to the pool".into(),
        ),
        JobState::AwaitingApproval | JobState::Queued | JobState::Submitting => {
            (None, String::new())
        }
    };
    let approval = match (&job.decision, &job.state) {
        (Some(d), _) => d.kind.label(),
        (None, JobState::AwaitingApproval) => "awaiting",
        // Cancelled by its member while it was held: no decision was made.
        (None, _) => "",
    };
    AuditRow {
        job: &job.id.0,
        created_at: job.created_at,
        created_utc: format_utc(job.created_at),
        finished_utc: job.finished_at.map(format_utc),
        guild: r.guild.0,
        channel: r.channel.0,
        member: r.member.0,
        prompt: &r.prompt,
        references: r
            .references
            .iter()
            .map(|x| format!("{}:{}", x.kind, x.url))
            .collect(),
        resolution: r.resolution.to_string(),
        ratio: r.ratio.to_string(),
        duration: r.duration,
        generate_audio: r.generate_audio,
        web_search: r.web_search,
        nsfw_checker: r.nsfw_checker,
        cost: job.cost,
        simulated: job.simulated,
        state: job.state.label(),
        task_id,
        outcome,
        create_attempts: job.create_attempts,
        create_unknown: job.create_unknown,
        delivery: delivery(job),
        approval,
        approval_by: job.decision.and_then(|d| d.by).map(|m| m.0),
        approval_utc: job.decision.map(|d| format_utc(d.at)),
    }
}

fn delivery(job: &JobRecord) -> String {
    match (&job.delivery.failed, job.final_delivered) {
        _ if !job.state.is_terminal() => String::new(),
        (_, true) => "delivered".into(),
        (Some(why), false) => format!("failed: {why}"),
        (None, false) => "pending".into(),
    }
}

fn csv_line(a: &AuditRow<'_>) -> String {
    [
        csv_text(a.job),
        csv_text(&a.created_utc),
        csv_text(a.finished_utc.as_deref().unwrap_or("")),
        a.guild.to_string(),
        a.channel.to_string(),
        a.member.to_string(),
        csv_text(a.prompt),
        csv_text(&a.references.join(" ")),
        a.resolution.clone(),
        csv_text(&a.ratio),
        a.duration.to_string(),
        a.generate_audio.to_string(),
        a.web_search.to_string(),
        a.nsfw_checker.to_string(),
        a.cost.to_string(),
        a.simulated.to_string(),
        a.state.to_owned(),
        csv_text(a.task_id.unwrap_or("")),
        csv_text(&a.outcome),
        a.create_attempts.to_string(),
        a.create_unknown.to_string(),
        csv_text(&a.delivery),
        a.approval.to_owned(),
        a.approval_by.map(|m| m.to_string()).unwrap_or_default(),
        csv_text(a.approval_utc.as_deref().unwrap_or("")),
    ]
    .join(",")
}

/// Writes every job of `guild` found in the job tree `jobs`, oldest first; returns how many.
pub fn export(
    jobs: &crate::store::Tree,
    guild: GuildId,
    format: ExportFormat,
    out: &mut dyn Write,
) -> std::io::Result<usize> {
    let mut records: Vec<JobRecord> = jobs
        .iter()
        .values()
        .filter_map(Result::ok)
        .filter_map(|b| JobRecord::from_bytes(&b).ok())
        .filter(|j| j.request.guild == guild)
        .collect();
    records.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    if format == ExportFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    for job in &records {
        let a = row(job);
        match format {
            ExportFormat::Csv => writeln!(out, "{}", csv_line(&a))?,
            ExportFormat::Jsonl => {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&a).expect("rows serialise")
                )?;
            }
        }
    }
    out.flush()?;
    Ok(records.len())
}
