//! The job table against the ledger: every stored job can be read, and each job's hold
//! agrees with its state (live: pending; succeeded: settled for its cost; otherwise
//! voided; a job held for approval is live), since a job's ending and its money are one
//! transaction; a rejected or expired job carries its decision. Used by
//! `credits verify` and the tests.

use crate::credits::{HoldState, Ledger, LedgerError};
use crate::jobs::model::{DecisionKind, JobRecord, JobState};

/// The problems found; empty when the jobs and their holds agree.
pub fn verify(ledger: &Ledger) -> Result<Vec<String>, LedgerError> {
    // One consistent view: on a shared store other processes write meanwhile.
    let ledger = &ledger.snapshot()?;
    let mut problems = Vec::new();
    for entry in ledger.jobs_tree().iter() {
        let (key, bytes) = entry?;
        let key = String::from_utf8_lossy(&key).into_owned();
        let job = match JobRecord::from_bytes(&bytes) {
            Ok(job) => job,
            Err(e) => {
                problems.push(format!(
                    "job {key} cannot be read ({e}); its credits stay as they are until it is repaired"
                ));
                continue;
            }
        };
        let Some(hold) = ledger.hold(&key)? else {
            problems.push(format!("job {key} has no credit hold"));
            continue;
        };
        let expected = match &job.state {
            JobState::Succeeded { .. } => (HoldState::Settled, Some(job.cost)),
            state if state.is_terminal() => (HoldState::Voided, None),
            _ => (HoldState::Pending, None),
        };
        // A held job has no decision yet; a rejected or expired one says who and when.
        let decided = job.decision.map(|d| d.kind);
        let decision_fits = match &job.state {
            JobState::AwaitingApproval => decided.is_none(),
            JobState::Rejected => decided == Some(DecisionKind::Rejected),
            JobState::ApprovalExpired => decided == Some(DecisionKind::Expired),
            _ => true,
        };
        if !decision_fits {
            problems.push(format!(
                "job {key} is {} but its approval decision is {:?}",
                job.state.label(),
                decided
            ));
        }
        if (hold.state, hold.settled) != expected {
            problems.push(format!(
                "job {key} is {} but its hold is {} (settled {:?})",
                job.state.label(),
                hold.state,
                hold.settled
            ));
        }
    }
    Ok(problems)
}
