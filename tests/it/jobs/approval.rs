//! Approval above a price, on the store: a job costing more than the server's threshold is
//! held (its credits reserved) outside the queue until approved (it runs and is paid),
//! rejected or not decided in time (refunded), or cancelled by its member (refunded); every
//! decision is journalled and exported with who and when, and the ledger verifies after each.

use std::time::Duration;

use seedance_bot::credits::{Actor, EntryKind, ExportFormat};
use seedance_bot::ids::{GuildId, MemberId};
use seedance_bot::jobs::{
    CancelError, DecideError, DecisionKind, JobEvent, JobId, JobState, SubmitError,
};

use super::{Backend, Bot, COST, RecordingReporter, WAIT, config, config_with, request};
use crate::support::fake_provider::{Endpoint, FakeProvider};

const ADMIN: MemberId = MemberId(77);

/// Both checks of `credits verify`: the pools against holds and journal, the jobs against
/// their holds.
fn assert_verifies(bot: &Bot) {
    assert_eq!(bot.ledger.verify().unwrap(), Vec::<String>::new());
    assert_eq!(
        seedance_bot::jobs::verify::verify(&bot.ledger).unwrap(),
        Vec::<String>::new()
    );
}

/// (available, pending, settled) of server 1's pool.
fn balance(bot: &Bot) -> (u64, u64, u64) {
    let b = bot.ledger.balance(GuildId(1)).unwrap();
    (b.available, b.pending, b.settled)
}

async fn set_threshold(bot: &Bot, above: u64) {
    bot.jobs
        .guild_settings()
        .update(GuildId(1), move |s| s.approval_above = above)
        .await
        .unwrap();
}

/// The journal rows of job `key`, oldest first: (kind, amount, actor).
fn journal_of(bot: &Bot, key: &str) -> Vec<(EntryKind, i64, Actor)> {
    let mut rows: Vec<_> = bot
        .ledger
        .history(GuildId(1), None, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.hold.as_deref() == Some(key))
        .map(|e| (e.kind, e.amount, e.actor))
        .collect();
    rows.reverse();
    rows
}

async fn held_jobs_wait_outside_the_queue_until_decided(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    set_threshold(&bot, COST - 1).await;

    // Above the threshold: held, its credits reserved, nothing sent upstream.
    for (key, member) in [("ap-a", 10), ("ap-b", 11), ("ap-c", 12)] {
        let submitted = bot.jobs.submit(request(key, 1, member)).await.unwrap();
        assert_eq!(submitted.job.state, JobState::AwaitingApproval, "{key}");
        assert_eq!(submitted.position, None, "{key} is in no queue");
    }
    assert_eq!(balance(&bot), (1000 - 3 * COST, 3 * COST, 0));
    assert_verifies(&bot);
    // Held credits count against the member like a queued job's.
    assert!(matches!(
        bot.jobs.submit(request("ap-a2", 1, 10)).await,
        Err(SubmitError::TooManyActive { .. })
    ));

    // Approved: it joins the queue, runs and is paid; the others are still not sent.
    let a = JobId("ap-a".into());
    let approved = bot.jobs.approve(&a, ADMIN).await.unwrap();
    assert_eq!(approved.state, JobState::Queued);
    let decision = approved.decision.expect("the decision is stored");
    assert_eq!(
        (decision.kind, decision.by),
        (DecisionKind::Approved, Some(ADMIN))
    );
    let seen = bot.reporter.final_of(&a, WAIT).await;
    assert!(matches!(seen.state, JobState::Succeeded { .. }), "{seen:?}");
    assert!(
        bot.reporter
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.job == a && s.event == JobEvent::Approved),
        "the card learns of the approval"
    );
    assert_eq!(
        fake.count(Endpoint::CreateTask),
        1,
        "only the approved job went upstream"
    );
    assert_eq!(balance(&bot), (1000 - 3 * COST, 2 * COST, COST));
    assert_eq!(
        bot.jobs.approve(&a, ADMIN).await.unwrap_err(),
        DecideError::NotAwaiting("succeeded")
    );
    assert_verifies(&bot);

    // Rejected: refunded in the same transaction, and the member is told.
    let b = JobId("ap-b".into());
    let rejected = bot.jobs.reject(&b, ADMIN).await.unwrap();
    assert_eq!(rejected.state, JobState::Rejected);
    let seen = bot.reporter.final_of(&b, WAIT).await;
    assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
    assert_eq!(balance(&bot), (1000 - 2 * COST, COST, COST));
    assert_eq!(
        bot.jobs.approve(&b, ADMIN).await.unwrap_err(),
        DecideError::NotAwaiting("rejected")
    );
    assert_verifies(&bot);

    // Cancelled by its member while held: refunded too.
    let c = JobId("ap-c".into());
    assert_eq!(
        bot.jobs.cancel(&c, MemberId(10)).await.unwrap_err(),
        CancelError::NotOwner
    );
    let cancelled = bot.jobs.cancel(&c, MemberId(12)).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    bot.reporter.final_of(&c, WAIT).await;
    assert_eq!(
        bot.jobs.reject(&c, ADMIN).await.unwrap_err(),
        DecideError::NotAwaiting("cancelled")
    );
    assert_eq!(
        bot.jobs.cancel(&b, MemberId(11)).await.unwrap_err(),
        CancelError::Ended("rejected")
    );
    assert_eq!(balance(&bot), (1000 - COST, 0, COST));
    assert_verifies(&bot);

    // At or under the threshold: straight to the queue.
    set_threshold(&bot, COST).await;
    let submitted = bot.jobs.submit(request("ap-d", 1, 13)).await.unwrap();
    assert_eq!(submitted.job.state, JobState::Queued);
    let d = JobId("ap-d".into());
    let seen = bot.reporter.final_of(&d, WAIT).await;
    assert!(matches!(seen.state, JobState::Succeeded { .. }));
    assert_eq!(balance(&bot), (1000 - 2 * COST, 0, 2 * COST));
    assert_verifies(&bot);

    // The journal names every decision (zero amount, who), each beside the money it moved.
    assert_eq!(
        journal_of(&bot, "ap-a"),
        vec![
            (EntryKind::Reserve, COST as i64, Actor::Member(MemberId(10))),
            (EntryKind::Approved, 0, Actor::Member(ADMIN)),
            (EntryKind::Settle, COST as i64, Actor::System),
        ]
    );
    assert_eq!(
        journal_of(&bot, "ap-b"),
        vec![
            (EntryKind::Reserve, COST as i64, Actor::Member(MemberId(11))),
            (EntryKind::Rejected, 0, Actor::Member(ADMIN)),
            (EntryKind::Void, COST as i64, Actor::System),
        ]
    );
    assert_eq!(
        journal_of(&bot, "ap-c")
            .iter()
            .map(|r| r.0)
            .collect::<Vec<_>>(),
        vec![EntryKind::Reserve, EntryKind::Void]
    );

    // And so does the audit trail: who decided, and when.
    let mut out = Vec::new();
    seedance_bot::jobs::export::export(
        bot.ledger.jobs_tree(),
        GuildId(1),
        ExportFormat::Jsonl,
        &mut out,
    )
    .unwrap();
    let rows: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let row = |job: &str| rows.iter().find(|r| r["job"] == job).unwrap().clone();
    assert_eq!(row("ap-a")["approval"], "approved");
    assert_eq!(row("ap-a")["approval_by"], ADMIN.0);
    assert!(
        row("ap-a")["approval_utc"]
            .as_str()
            .unwrap()
            .contains("UTC")
    );
    assert_eq!(row("ap-b")["approval"], "rejected");
    assert_eq!(row("ap-b")["state"], "rejected");
    assert_eq!(row("ap-b")["approval_by"], ADMIN.0);
    assert_eq!(row("ap-c")["approval"], "");
    assert_eq!(row("ap-d")["approval"], "");
    assert_eq!(row("ap-d")["approval_by"], serde_json::Value::Null);

    // `credits verify` notices a rejected job that does not say who rejected it.
    let mut tampered = bot.jobs.get(&b).unwrap();
    tampered.decision = None;
    bot.ledger
        .write_job(seedance_bot::credits::JobWrite::put(
            "ap-b",
            tampered.to_bytes(),
        ))
        .await
        .unwrap();
    let problems = seedance_bot::jobs::verify::verify(&bot.ledger).unwrap();
    assert_eq!(
        problems,
        ["job ap-b is rejected but its approval decision is None"]
    );
    bot.stop().await;
}

crate::on_both_backends!(held_jobs_wait_outside_the_queue_until_decided);

/// Waits, in real time (the test's clock is paused), until job `id` satisfies `pred`.
async fn until(bot: &Bot, id: &JobId, pred: impl Fn(&JobState) -> bool) -> JobState {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(job) = bot.jobs.get(id).filter(|j| pred(&j.state)) {
            return job.state;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} is {:?}",
            bot.jobs.get(id).map(|j| j.state)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Nobody decides within `jobs.approval_timeout` (24 h by default): the scheduler refunds
/// the job and tells the member. A restart meanwhile keeps the jobs held and decidable, and
/// their expiry armed from admission. Time is tokio's, paused and moved by the test; nothing
/// is sent upstream (the provider's address is never called).
#[tokio::test(start_paused = true)]
async fn undecided_jobs_expire_after_the_approval_timeout_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with("http://127.0.0.1:9", |c| {
        assert_eq!(c.jobs.approval_timeout, Duration::from_secs(24 * 3600));
    });
    let bot = Bot::start(dir.path(), config.clone(), Default::default()).await;
    bot.grant(1, 1000).await;
    set_threshold(&bot, COST - 1).await;
    for (key, member) in [("ex-a", 10), ("ex-b", 11)] {
        let submitted = bot.jobs.submit(request(key, 1, member)).await.unwrap();
        assert_eq!(submitted.job.state, JobState::AwaitingApproval);
    }
    bot.stop().await;

    // After a restart both are still held, and still decidable.
    let reporter = std::sync::Arc::new(RecordingReporter::default());
    let bot = Bot::start(dir.path(), config.clone(), reporter).await;
    let (a, b) = (JobId("ex-a".into()), JobId("ex-b".into()));
    tokio::time::advance(Duration::from_secs(23 * 3600)).await;
    tokio::task::yield_now().await;
    assert_eq!(bot.jobs.get(&a).unwrap().state, JobState::AwaitingApproval);
    assert_eq!(balance(&bot), (1000 - 2 * COST, 2 * COST, 0));
    let rejected = bot.jobs.reject(&b, ADMIN).await.unwrap();
    assert_eq!(rejected.state, JobState::Rejected);
    assert_eq!(bot.jobs.get(&a).unwrap().state, JobState::AwaitingApproval);

    // Past the timeout: refunded, journalled, and the member is told.
    tokio::time::advance(Duration::from_secs(2 * 3600)).await;
    let state = until(&bot, &a, |s| s.is_terminal()).await;
    assert_eq!(state, JobState::ApprovalExpired);
    // The member is told (waited for in real time too: tokio's clock runs ahead when idle).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let seen = loop {
        if let Some(seen) = bot.reporter.finals(&a).into_iter().next() {
            break seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the member was never told"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
    let job = bot.jobs.get(&a).unwrap();
    let decision = job.decision.unwrap();
    assert_eq!((decision.kind, decision.by), (DecisionKind::Expired, None));
    assert_eq!(balance(&bot), (1000, 0, 0));
    assert_eq!(
        journal_of(&bot, "ex-a")
            .iter()
            .map(|r| (r.0, r.2))
            .collect::<Vec<_>>(),
        vec![
            (EntryKind::Reserve, Actor::Member(MemberId(10))),
            (EntryKind::ApprovalExpired, Actor::System),
            (EntryKind::Void, Actor::System),
        ]
    );
    assert_eq!(
        bot.jobs.approve(&a, ADMIN).await.unwrap_err(),
        DecideError::NotAwaiting("approval_expired")
    );
    assert_verifies(&bot);
    bot.stop().await;
}

/// On a shared store (PostgreSQL), a job held by the lease holder and approved on a process
/// that does not run the scheduler is found approved by the holder's sync and started; one
/// rejected there leaves the holder's set; one held elsewhere that nobody decides is expired
/// by the holder (here a new one, after the first stopped).
#[tokio::test]
async fn the_scheduler_holder_follows_decisions_made_by_another_process() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let fake = FakeProvider::start().await;
    // Nothing expires on its own in the first part: only the sync can start the approved job.
    // The first process runs the scheduler; the second only admits and decides.
    let (first, second) = Bot::two_on_postgres(&url, config(&fake.base_url())).await;
    second.grant(1, 1000).await;
    // A job the holder runs: from here on the first process holds the lease.
    first.jobs.submit(request("fl-0", 1, 9)).await.unwrap();
    first
        .wait_job(&JobId("fl-0".into()), WAIT, |j| {
            matches!(j.state, JobState::Succeeded { .. })
        })
        .await;
    set_threshold(&second, COST - 1).await;
    let (a, b, c) = (
        JobId("fl-a".into()),
        JobId("fl-b".into()),
        JobId("fl-c".into()),
    );
    // Held on the holder (known to its scheduler at once) and on the other process.
    first.jobs.submit(request("fl-a", 1, 10)).await.unwrap();
    second.jobs.submit(request("fl-b", 1, 11)).await.unwrap();
    second.jobs.approve(&a, ADMIN).await.unwrap();
    second.jobs.reject(&b, ADMIN).await.unwrap();
    let done = first
        .wait_job(&a, WAIT, |j| matches!(j.state, JobState::Succeeded { .. }))
        .await;
    assert_eq!(done.decision.map(|d| d.kind), Some(DecisionKind::Approved));
    assert_eq!(
        fake.count(Endpoint::CreateTask),
        2,
        "only the approved job was sent"
    );
    assert_eq!(first.jobs.get(&b).unwrap().state, JobState::Rejected);
    assert_eq!(balance(&first), (1000 - 2 * COST, 0, 2 * COST));
    assert_verifies(&first);
    first.stop().await;

    // A new holder with a short approval timeout expires a job held on the other process.
    let short = config_with(&fake.base_url(), |c| {
        c.jobs.approval_timeout = Duration::from_secs(1);
    });
    let mut third = Bot::on_postgres(&url, short).await;
    third.resume();
    second.jobs.submit(request("fl-c", 1, 12)).await.unwrap();
    let expired = third.wait_job(&c, WAIT, |j| j.state.is_terminal()).await;
    assert_eq!(expired.state, JobState::ApprovalExpired);
    assert_eq!(balance(&third), (1000 - 2 * COST, 0, 2 * COST));
    assert_verifies(&third);
    third.stop().await;
}
