//! Submitting a job: validated, priced, checked against the server's rules and reserved
//! in the ledger with its record in one transaction, then queued (or held for approval);
//! what the member is shown, or why it was refused.

use std::time::Duration;

use super::{
    Delivery, InvalidRequest, JobId, JobRecord, JobRequest, JobState, Jobs, ReplyTarget,
    transition, validate,
};
use crate::clock::now_ms;
use crate::credits::{LedgerError, MemberRules, Reserve};
use crate::guild_settings::{SettingsRefusal, policy};
use crate::store::SCHEMA_VERSION;

/// Why a submission was refused. Nothing was charged and nothing sent upstream.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Invalid(#[from] InvalidRequest),
    #[error(
        "you already have {active} job(s) in progress (the latest is `{latest}`); wait for it to finish or cancel it"
    )]
    TooManyActive { active: usize, latest: JobId },
    #[error("{0}")]
    NotAllowed(#[from] SettingsRefusal),
    #[error("{0}")]
    Credits(LedgerError),
    #[error(
        "the bot has no price for {0}; ask its operator to set credits.price_per_second (and credits.audio_price_per_second for videos with audio)"
    )]
    NoPrice(String),
    #[error("the job could not be stored: {0}")]
    Internal(String),
}

/// An accepted job, as the Discord side shows it on the job card.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job: JobRecord,
    /// 1-based place in the local queue, or `None` if it already left the queue.
    pub position: Option<usize>,
    pub eta: Duration,
    /// The same idempotency key was seen before: this is the first submission's job.
    pub replayed: bool,
}

impl Jobs {
    /// Validates, prices, reserves and stores a job, then queues it.
    #[tracing::instrument(skip_all, fields(key = %req.key, guild = %req.guild, member = %req.member))]
    pub async fn submit(&self, req: JobRequest) -> Result<Submitted, SubmitError> {
        let config = &self.inner.settings.config;
        let id = JobId(req.key.clone());
        if let Some(existing) = self.get(&id) {
            return Ok(self.submitted(existing, true));
        }
        validate::validate(&req, &config.video)?;
        let cost = config
            .credits
            .price(req.resolution, req.duration, req.generate_audio)
            .ok_or_else(|| SubmitError::NoPrice(req.resolution.to_string()))?;
        let _serial = self.inner.member_locks.lock(req.member).await;
        // The same interaction may have been submitted while this one waited for the lock.
        if let Some(existing) = self.get(&id) {
            return Ok(self.submitted(existing, true));
        }
        let server = self
            .inner
            .guild_settings
            .get(req.guild)
            .map_err(|e| SubmitError::Internal(e.to_string()))?;
        let asked = policy::Asked {
            resolution: req.resolution,
            duration: req.duration,
            web_search: req.web_search,
        };
        // The cooldown and the active-job limit are checked in the admit transaction below,
        // so they hold for every process sharing the store.
        policy::check_job(&server, asked, None, now_ms())?;
        let rules = MemberRules {
            max_active: self.inner.settings.max_active_per_user,
            cooldown_ms: i64::try_from(server.cooldown_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            roles: req.roles.clone(),
        };
        let simulated = self.is_simulated();
        // Above the server's threshold the credits are held all the same (nothing else can
        // spend them), but the job waits for a decision outside the queue.
        let awaiting = server.needs_approval(cost);
        let record = JobRecord {
            version: SCHEMA_VERSION,
            id: id.clone(),
            cost,
            simulated,
            state: if awaiting {
                JobState::AwaitingApproval
            } else {
                JobState::Queued
            },
            created_at: now_ms(),
            started_at: None,
            finished_at: None,
            final_delivered: false,
            reply: ReplyTarget::default(),
            create_attempts: 0,
            create_unknown: 0,
            not_before: None,
            delivery: Delivery::default(),
            decision: None,
            request: req,
        };
        let memo = format!(
            "{}video {} {}s{}",
            if simulated { "simulated " } else { "" },
            record.request.resolution,
            record.request.duration,
            if record.request.generate_audio {
                " with audio"
            } else {
                ""
            }
        );
        let reserve = Reserve {
            key: record.id.0.clone(),
            guild: record.request.guild,
            member: record.request.member,
            amount: cost,
            memo,
        };
        match self
            .inner
            .ledger
            .admit(reserve, Some(transition::admit(&record)), Some(rules))
            .await
        {
            Ok(_) => {}
            Err(
                e @ (LedgerError::InsufficientCredits { .. } | LedgerError::DailyCapReached { .. }),
            ) => {
                return Err(SubmitError::Credits(e));
            }
            Err(LedgerError::TooManyActive { active, latest }) => {
                return Err(SubmitError::TooManyActive {
                    active,
                    latest: JobId(latest),
                });
            }
            Err(LedgerError::Cooldown { ready_at }) => {
                let wait_ms = u64::try_from(ready_at - now_ms()).unwrap_or(0);
                return Err(SubmitError::NotAllowed(
                    crate::guild_settings::SettingsRefusal::Cooldown {
                        cooldown_secs: server.cooldown_secs,
                        wait_secs: wait_ms.div_ceil(1000).max(1),
                    },
                ));
            }
            Err(e) => return Err(SubmitError::Internal(e.to_string())),
        }

        tracing::info!(job_id = %id, cost, awaiting, "job accepted");
        metrics::counter!("seedance_credits_reserved_total").increment(cost);
        // Another process may hold the scheduler lease: it finds the job in the store.
        if self.inner.fleet.leads() {
            if awaiting {
                self.await_decision(&record);
            } else {
                self.enqueue(&record);
            }
        }
        Ok(self.submitted(record, false))
    }

    fn submitted(&self, job: JobRecord, replayed: bool) -> Submitted {
        let (position, eta) = match self.queue_position(&job.id) {
            Some((p, eta)) => (Some(p), eta),
            None => (None, Duration::ZERO),
        };
        Submitted {
            job,
            position,
            eta,
            replayed,
        }
    }
}
