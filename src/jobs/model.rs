//! What a job is: the member's request, its lifecycle states, and the stored record.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, GuildId, MemberId};
use crate::video::{Ratio, ReferenceKind, Resolution};

/// A job's id: the idempotency key it was submitted with (the Discord interaction id), so
/// a repeated submission finds the same job.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub String);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One reference file, by URL, with the kind that decides which list it is sent in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub kind: ReferenceKind,
    pub url: String,
    /// When the link stops working (unix ms), if the link says so (Discord's signed
    /// attachment links do). A job whose links expired is never sent upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// What a member asked for, with every option resolved (defaults applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    pub key: String,
    pub guild: GuildId,
    pub member: MemberId,
    /// Where the request was made; the Discord side may replace the reply target later.
    pub channel: ChannelId,
    pub prompt: String,
    pub references: Vec<Reference>,
    pub resolution: Resolution,
    pub ratio: Ratio,
    pub duration: u32,
    pub generate_audio: bool,
    pub web_search: bool,
    pub nsfw_checker: bool,
    /// The roles the member held when asking (from the interaction), which choose their
    /// daily cap when they have none of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<u64>,
    /// The interaction the job came from, while its token may still be used (15 minutes):
    /// lets the Discord side find its card again after a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<InteractionRef>,
}

/// The interaction a job was asked for in. The token is a secret: it never prints.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRef {
    pub application_id: u64,
    pub token: String,
}

impl std::fmt::Debug for InteractionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InteractionRef")
            .field("application_id", &self.application_id)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl JobRequest {
    pub fn urls_of(&self, kind: ReferenceKind) -> Vec<String> {
        self.references
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.url.clone())
            .collect()
    }
}

/// Where a job stands. Terminal states never change again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Costs more than the server's approval threshold: its credits are held, but it waits
    /// outside the queue until a server admin (or the approver role) approves or rejects it,
    /// or `jobs.approval_timeout` passes.
    AwaitingApproval,
    /// Waiting in the local fair queue; nothing sent upstream yet.
    Queued,
    /// createTask is in flight: the upstream outcome is unknown until it answers.
    Submitting,
    /// The provider has the task.
    Running {
        task_id: String,
        provider_state: String,
    },
    Succeeded {
        task_id: String,
        urls: Vec<String>,
    },
    Failed {
        reason: String,
    },
    TimedOut,
    Cancelled,
    /// Refused by a server admin (or the approver role) before it was queued; refunded.
    Rejected,
    /// Nobody decided within `jobs.approval_timeout`; refunded.
    ApprovalExpired,
}

impl JobState {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Succeeded { .. }
                | JobState::Failed { .. }
                | JobState::TimedOut
                | JobState::Cancelled
                | JobState::Rejected
                | JobState::ApprovalExpired
        )
    }

    /// A short word for lists and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            JobState::AwaitingApproval => "awaiting_approval",
            JobState::Queued => "queued",
            JobState::Submitting => "submitting",
            JobState::Running { .. } => "running",
            JobState::Succeeded { .. } => "succeeded",
            JobState::Failed { .. } => "failed",
            JobState::TimedOut => "timed_out",
            JobState::Cancelled => "cancelled",
            JobState::Rejected => "rejected",
            JobState::ApprovalExpired => "approval_expired",
        }
    }
}

/// How a job that needed approval was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approved,
    Rejected,
    /// Nobody decided within `jobs.approval_timeout`.
    Expired,
}

impl DecisionKind {
    pub fn label(self) -> &'static str {
        match self {
            DecisionKind::Approved => "approved",
            DecisionKind::Rejected => "rejected",
            DecisionKind::Expired => "expired",
        }
    }
}

/// The decision on a job that needed approval: what, who (none for an expiry) and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub kind: DecisionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<MemberId>,
    /// Unix millis.
    pub at: i64,
}

/// Where the Discord side shows the job: plain ids, set after the card is posted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTarget {
    /// The channel holding the job card.
    pub channel: Option<ChannelId>,
    /// The job card's message id.
    pub message: Option<u64>,
    /// The thread followed for the job, when one was made or the command came from one.
    pub thread: Option<ChannelId>,
    /// The most the bot may upload where it replies (the interaction's
    /// `attachment_size_limit`), for re-hosting the finished video.
    #[serde(default)]
    pub attachment_size_limit: Option<u64>,
}

/// The stored job: everything needed to resume it after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Layout version of this record (see `store::SCHEMA_VERSION`).
    pub version: u32,
    pub id: JobId,
    pub request: JobRequest,
    /// Credits held for this job.
    pub cost: u64,
    /// Made by the built-in simulation: no real credits were spent upstream.
    pub simulated: bool,
    pub state: JobState,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The final report (success or failure) reached the member.
    pub final_delivered: bool,
    pub reply: ReplyTarget,
    /// Every createTask sent for this job (each may have made a paid task upstream).
    #[serde(default)]
    pub create_attempts: u32,
    /// Of those, the ones whose outcome is unknown (timeout, 5xx, broken connection):
    /// bounded by `jobs.create_attempts`.
    #[serde(default)]
    pub create_unknown: u32,
    /// No createTask before this time (unix ms): the job's own backoff after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// How the final report's delivery stands (meaningful once the job ended).
    #[serde(default)]
    pub delivery: Delivery,
    /// The decision on a job admitted awaiting approval; `None` for a job that needed none
    /// (or is still awaiting one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

/// The final report's delivery: tried when due until the receiver confirms
/// (`JobRecord::final_delivered`) or refuses for good (`failed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Tries so far.
    pub attempts: u32,
    /// When the next try is due (unix ms); `None`: as soon as possible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<i64>,
    /// Why it stopped for good (the channel is gone, the bot may no longer post there, or
    /// it was given up). The outcome stays readable in `/jobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl JobRecord {
    pub fn is_active(&self) -> bool {
        !self.state.is_terminal()
    }

    /// When the job joined the queue: its admission, or its approval when it needed one.
    /// The deadline (`jobs.deadline`) counts from here.
    pub fn queued_since(&self) -> i64 {
        match self.decision {
            Some(Decision {
                kind: DecisionKind::Approved,
                at,
                ..
            }) => at.max(self.created_at),
            _ => self.created_at,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("job records always serialize")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<JobRecord, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// A plain stored job for the library's unit tests: 480p, 5 s, 200 credits, in `state`.
#[cfg(test)]
pub(crate) fn sample_job(id: &str, state: JobState) -> JobRecord {
    JobRecord {
        version: 1,
        id: JobId(id.into()),
        request: JobRequest {
            key: id.into(),
            guild: GuildId(1),
            member: MemberId(2),
            channel: ChannelId(3),
            prompt: "a boat".into(),
            references: vec![],
            resolution: Resolution::P480,
            ratio: Ratio::Landscape,
            duration: 5,
            generate_audio: false,
            web_search: false,
            nsfw_checker: true,
            roles: vec![],
            interaction: None,
        },
        cost: 200,
        simulated: false,
        state,
        created_at: 0,
        started_at: None,
        finished_at: None,
        final_delivered: false,
        reply: ReplyTarget::default(),
        create_attempts: 0,
        create_unknown: 0,
        not_before: None,
        delivery: Delivery::default(),
        decision: None,
    }
}
