//! The job state machine as pure functions the store runs inside its transaction. Each
//! change names the states it may follow, so a late, repeated or racing writer can never
//! undo a transition: a terminal job never changes state again (ARCHITECTURE.md, "Job
//! states", draws the diagram).

use super::model::{Decision, DecisionKind, Delivery, JobId, JobRecord, JobState, ReplyTarget};
use crate::credits::{JobIndex, JobWrite};
use crate::ids::MemberId;

/// One change of a stored job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// Queued -> Submitting: createTask is about to be sent (and is counted).
    Submit { at: i64 },
    /// Submitting -> Running: the provider made the task.
    Created { task_id: String },
    /// Submitting -> Queued: createTask failed and may be sent again from `not_before`;
    /// `unknown` when the failure leaves open whether a task was made.
    Requeue { unknown: bool, not_before: i64 },
    /// Running -> Running on the same task: the provider's state moved.
    Progress {
        task_id: String,
        provider_state: String,
    },
    /// Queued | AwaitingApproval -> Cancelled, on the member's request.
    Cancel { at: i64 },
    /// AwaitingApproval -> Queued: a server admin (or the approver role) approved the job.
    Approve { by: MemberId, at: i64 },
    /// AwaitingApproval -> Rejected (terminal; its hold is voided in the same transaction).
    Reject { by: MemberId, at: i64 },
    /// AwaitingApproval -> ApprovalExpired (terminal; voided in the same transaction): nobody
    /// decided within `jobs.approval_timeout`.
    ApprovalExpired { at: i64 },
    /// Queued | Submitting | Running -> a terminal state (never an awaiting job: it was
    /// never queued, so only a decision or its owner's cancel ends it). Money moves in the same transaction.
    /// `create_unknown`: the createTask that ends it left unknown whether a task was made.
    End {
        state: JobState,
        at: i64,
        create_unknown: bool,
    },
    /// Ended, report pending: the receiver confirmed the final report.
    Delivered,
    /// Ended, report pending: the try failed; the next one is due at `next_at`.
    DeliveryRetry { next_at: i64 },
    /// Ended, report pending: the receiver refused for good, or the bot gave up.
    DeliveryFailed { reason: String },
    /// Any state: where the Discord side shows the job.
    Reply(ReplyTarget),
}

impl Change {
    fn name(&self) -> &'static str {
        match self {
            Change::Submit { .. } => "submit",
            Change::Created { .. } => "created",
            Change::Requeue { .. } => "requeue",
            Change::Progress { .. } => "progress",
            Change::Cancel { .. } => "cancel",
            Change::Approve { .. } => "approve",
            Change::Reject { .. } => "reject",
            Change::ApprovalExpired { .. } => "approval expired",
            Change::End { .. } => "end",
            Change::Delivered => "delivered",
            Change::DeliveryRetry { .. } => "delivery retry",
            Change::DeliveryFailed { .. } => "delivery failed",
            Change::Reply(_) => "reply target",
        }
    }
}

/// Applies `change` to `job`, or says why it may not follow the job's current state.
pub(crate) fn apply(job: &mut JobRecord, change: &Change) -> Result<(), String> {
    let allowed = match (&job.state, change) {
        (JobState::Queued, Change::Submit { .. } | Change::Cancel { .. }) => true,
        (
            JobState::AwaitingApproval,
            Change::Approve { .. }
            | Change::Reject { .. }
            | Change::ApprovalExpired { .. }
            | Change::Cancel { .. },
        ) => true,
        (JobState::AwaitingApproval, Change::End { .. }) => false,
        (JobState::Submitting, Change::Created { .. } | Change::Requeue { .. }) => true,
        (JobState::Running { task_id, .. }, Change::Progress { task_id: t, .. }) => task_id == t,
        (state, Change::End { state: to, .. }) => !state.is_terminal() && to.is_terminal(),
        (
            state,
            Change::Delivered | Change::DeliveryRetry { .. } | Change::DeliveryFailed { .. },
        ) => state.is_terminal() && !job.final_delivered && job.delivery.failed.is_none(),
        (_, Change::Reply(_)) => true,
        _ => false,
    };
    if !allowed {
        return Err(format!(
            "job {} is {}{}; `{}` does not apply",
            job.id,
            job.state.label(),
            if job.final_delivered {
                " (reported)"
            } else {
                ""
            },
            change.name()
        ));
    }
    match change {
        Change::Submit { at } => {
            job.state = JobState::Submitting;
            job.started_at = Some(*at);
            job.create_attempts += 1;
            job.not_before = None;
        }
        Change::Created { task_id } => {
            job.state = JobState::Running {
                task_id: task_id.clone(),
                provider_state: "waiting".into(),
            };
        }
        Change::Requeue {
            unknown,
            not_before,
        } => {
            job.state = JobState::Queued;
            job.started_at = None;
            job.create_unknown += u32::from(*unknown);
            job.not_before = Some(*not_before);
        }
        Change::Progress {
            task_id,
            provider_state,
        } => {
            job.state = JobState::Running {
                task_id: task_id.clone(),
                provider_state: provider_state.clone(),
            };
        }
        Change::Cancel { at } => end(job, JobState::Cancelled, *at),
        Change::Approve { by, at } => {
            job.state = JobState::Queued;
            job.decision = Some(Decision {
                kind: DecisionKind::Approved,
                by: Some(*by),
                at: *at,
            });
        }
        Change::Reject { by, at } => {
            job.decision = Some(Decision {
                kind: DecisionKind::Rejected,
                by: Some(*by),
                at: *at,
            });
            end(job, JobState::Rejected, *at);
        }
        Change::ApprovalExpired { at } => {
            job.decision = Some(Decision {
                kind: DecisionKind::Expired,
                by: None,
                at: *at,
            });
            end(job, JobState::ApprovalExpired, *at);
        }
        Change::End {
            state,
            at,
            create_unknown,
        } => {
            job.create_unknown += u32::from(*create_unknown);
            end(job, state.clone(), *at);
        }
        Change::Delivered => {
            job.final_delivered = true;
            job.delivery.attempts += 1;
            job.delivery.next_at = None;
        }
        Change::DeliveryRetry { next_at } => {
            job.delivery.attempts += 1;
            job.delivery.next_at = Some(*next_at);
        }
        Change::DeliveryFailed { reason } => {
            job.delivery.attempts += 1;
            job.delivery.next_at = None;
            job.delivery.failed = Some(reason.clone());
        }
        Change::Reply(reply) => job.reply = reply.clone(),
    }
    Ok(())
}

fn end(job: &mut JobRecord, state: JobState, at: i64) {
    job.state = state;
    job.finished_at = Some(at);
    job.not_before = None;
    job.final_delivered = false;
    job.delivery = Delivery::default();
}

/// `change` as a guarded write of the job's stored record.
pub(crate) fn write(id: &JobId, change: Change) -> JobWrite {
    JobWrite::guarded(id.0.as_bytes().to_vec(), move |stored| {
        let Some(bytes) = stored else {
            return Err("the job is not stored".to_owned());
        };
        let mut job = JobRecord::from_bytes(bytes)
            .map_err(|e| format!("the stored job cannot be read: {e}"))?;
        apply(&mut job, &change)?;
        Ok(Some(job.to_bytes()))
    })
}

/// The first write of a job, which also lists it among its server's recent jobs: only when
/// nothing is stored under its id yet.
pub(crate) fn admit(record: &JobRecord) -> JobWrite {
    let bytes = record.to_bytes();
    let index = JobIndex {
        guild: record.request.guild,
        member: record.request.member,
        created_at: record.created_at,
    };
    JobWrite::guarded(
        record.id.0.as_bytes().to_vec(),
        move |stored| match stored {
            None => Ok(Some(bytes.clone())),
            Some(_) => Err("a job with this id is already stored".to_owned()),
        },
    )
    .indexed(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: JobState) -> JobRecord {
        crate::jobs::model::sample_job("1", state)
    }

    fn running() -> JobState {
        JobState::Running {
            task_id: "t1".into(),
            provider_state: "waiting".into(),
        }
    }

    fn states() -> Vec<(&'static str, JobState)> {
        vec![
            ("awaiting_approval", JobState::AwaitingApproval),
            ("queued", JobState::Queued),
            ("submitting", JobState::Submitting),
            ("running", running()),
            (
                "succeeded",
                JobState::Succeeded {
                    task_id: "t1".into(),
                    urls: vec!["https://cdn.example/v.mp4".into()],
                },
            ),
            (
                "failed",
                JobState::Failed {
                    reason: "no".into(),
                },
            ),
            ("timed_out", JobState::TimedOut),
            ("cancelled", JobState::Cancelled),
            ("rejected", JobState::Rejected),
            ("approval_expired", JobState::ApprovalExpired),
        ]
    }

    fn changes() -> Vec<Change> {
        vec![
            Change::Submit { at: 5 },
            Change::Created {
                task_id: "t1".into(),
            },
            Change::Requeue {
                unknown: true,
                not_before: 9,
            },
            Change::Progress {
                task_id: "t1".into(),
                provider_state: "generating".into(),
            },
            Change::Cancel { at: 5 },
            Change::Approve {
                by: MemberId(9),
                at: 5,
            },
            Change::Reject {
                by: MemberId(9),
                at: 5,
            },
            Change::ApprovalExpired { at: 5 },
            Change::End {
                state: JobState::TimedOut,
                at: 5,
                create_unknown: false,
            },
            Change::Delivered,
            Change::DeliveryRetry { next_at: 9 },
            Change::DeliveryFailed {
                reason: "gone".into(),
            },
            Change::Reply(ReplyTarget {
                message: Some(7),
                ..ReplyTarget::default()
            }),
        ]
    }

    /// Every (state, change) pair: exactly the edges of the diagram apply, and a refused
    /// change leaves the record as it was.
    #[test]
    fn only_the_diagrams_edges_apply() {
        let edges: &[(&str, &str)] = &[
            ("queued", "submit"),
            ("queued", "cancel"),
            ("queued", "end"),
            ("submitting", "created"),
            ("submitting", "requeue"),
            ("submitting", "end"),
            ("running", "progress"),
            ("running", "end"),
            ("awaiting_approval", "approve"),
            ("awaiting_approval", "reject"),
            ("awaiting_approval", "approval expired"),
            ("awaiting_approval", "cancel"),
        ];
        for (label, state) in states() {
            for change in changes() {
                let mut record = job(state.clone());
                let before = record.clone();
                let applied = apply(&mut record, &change).is_ok();
                let name = change.name();
                let expected = edges.contains(&(label, name))
                    || name == "reply target"
                    || (state.is_terminal() && name.starts_with("deliver"));
                assert_eq!(applied, expected, "{label} + {name}");
                if !applied {
                    assert_eq!(record, before, "a refused {name} changed a {label} job");
                }
            }
        }
    }

    /// The approval changes, state by state: only an awaiting job takes them, an awaiting
    /// job takes nothing else that moves its state, and each records who decided and when.
    #[test]
    fn approval_changes_apply_to_awaiting_jobs_only() {
        let approval = |c: &Change| {
            matches!(
                c,
                Change::Approve { .. } | Change::Reject { .. } | Change::ApprovalExpired { .. }
            )
        };
        for (label, state) in states() {
            for change in changes() {
                let mut record = job(state.clone());
                let applied = apply(&mut record, &change).is_ok();
                if approval(&change) {
                    assert_eq!(
                        applied,
                        state == JobState::AwaitingApproval,
                        "{label} + {}",
                        change.name()
                    );
                } else if state == JobState::AwaitingApproval {
                    let allowed = matches!(change, Change::Cancel { .. } | Change::Reply(_));
                    assert_eq!(applied, allowed, "awaiting + {}", change.name());
                }
            }
        }
        let mut record = job(JobState::AwaitingApproval);
        let by = MemberId(9);
        apply(&mut record, &Change::Approve { by, at: 7 }).unwrap();
        assert_eq!(record.state, JobState::Queued);
        let approved = Decision {
            kind: DecisionKind::Approved,
            by: Some(by),
            at: 7,
        };
        assert_eq!(record.decision, Some(approved));
        assert_eq!(
            record.queued_since(),
            7,
            "the deadline counts from approval"
        );
        assert!(apply(&mut record, &Change::Reject { by, at: 8 }).is_err());

        let mut record = job(JobState::AwaitingApproval);
        apply(&mut record, &Change::Reject { by, at: 8 }).unwrap();
        assert_eq!(record.state, JobState::Rejected);
        assert_eq!(record.finished_at, Some(8));
        assert_eq!(
            record.decision.map(|d| (d.kind, d.by)),
            Some((DecisionKind::Rejected, Some(by)))
        );

        let mut record = job(JobState::AwaitingApproval);
        apply(&mut record, &Change::ApprovalExpired { at: 9 }).unwrap();
        assert_eq!(record.state, JobState::ApprovalExpired);
        assert_eq!(
            record.decision.map(|d| (d.kind, d.by)),
            Some((DecisionKind::Expired, None))
        );
        assert!(record.state.is_terminal());
    }

    #[test]
    fn a_terminal_job_never_changes_state_again() {
        for (label, state) in states().into_iter().filter(|(_, s)| s.is_terminal()) {
            let mut record = job(state.clone());
            let end = Change::End {
                state: JobState::Succeeded {
                    task_id: "t1".into(),
                    urls: vec![],
                },
                at: 1,
                create_unknown: false,
            };
            assert!(apply(&mut record, &end).is_err(), "{label}");
            assert_eq!(record.state, state);
        }
    }

    #[test]
    fn progress_needs_the_same_task() {
        let mut record = job(running());
        let other = Change::Progress {
            task_id: "t2".into(),
            provider_state: "generating".into(),
        };
        assert!(apply(&mut record, &other).is_err());
    }

    #[test]
    fn a_settled_delivery_is_not_tried_again() {
        let mut record = job(JobState::TimedOut);
        apply(&mut record, &Change::Delivered).unwrap();
        assert!(apply(&mut record, &Change::Delivered).is_err());
        let mut record = job(JobState::TimedOut);
        let failed = Change::DeliveryFailed {
            reason: "the channel is gone".into(),
        };
        apply(&mut record, &failed).unwrap();
        assert!(apply(&mut record, &Change::DeliveryRetry { next_at: 1 }).is_err());
        assert_eq!(record.delivery.attempts, 1);
    }

    #[test]
    fn counts_createtask_calls_and_unknown_outcomes() {
        let mut record = job(JobState::Queued);
        apply(&mut record, &Change::Submit { at: 1 }).unwrap();
        apply(
            &mut record,
            &Change::Requeue {
                unknown: true,
                not_before: 2,
            },
        )
        .unwrap();
        apply(&mut record, &Change::Submit { at: 3 }).unwrap();
        apply(
            &mut record,
            &Change::Requeue {
                unknown: false,
                not_before: 4,
            },
        )
        .unwrap();
        assert_eq!((record.create_attempts, record.create_unknown), (2, 1));
        assert_eq!(record.not_before, Some(4));
    }
}
