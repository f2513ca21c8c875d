//! A job from submission to its end: success settles, every other end refunds.

use std::time::Duration;

use seedance_bot::ids::MemberId;
use seedance_bot::jobs::{CancelError, JobEvent, JobId, JobState, SubmitError};

use super::{Backend, Bot, COST, WAIT, config, config_with, ms, request};
use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted, Step};

async fn success_settles_the_hold_and_reports_the_video(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };

    let submitted = bot.jobs.submit(request("ix-1", 1, 10)).await.unwrap();
    assert_eq!(submitted.job.cost, COST);
    assert_eq!(submitted.job.state, JobState::Queued);
    // Held before anything went upstream.
    assert_eq!(
        bot.ledger
            .balance(seedance_bot::ids::GuildId(1))
            .unwrap()
            .pending,
        COST
    );

    let id = JobId("ix-1".into());
    let seen = bot.reporter.final_of(&id, WAIT).await;
    let task = fake.created_task_ids()[0].clone();
    assert_eq!(
        seen.state,
        JobState::Succeeded {
            task_id: task.clone(),
            urls: vec![format!("https://results.fake.test/{task}.mp4")]
        }
    );
    assert_eq!(seen.event, JobEvent::Finished { refunded: 0 });
    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!(
        (balance.available, balance.pending, balance.settled),
        (800, 0, COST)
    );
    // The request sent upstream is the member's, with the content filter on.
    let body = fake.task_request(&task).unwrap();
    assert_eq!(body["input"]["prompt"], "a paper boat in the rain (ix-1)");
    assert_eq!(body["input"]["nsfw_checker"], true);
    assert_eq!(body["input"]["resolution"], "480p");
    // Started and progress were reported before the end.
    let seen = bot.reporter.seen.lock().unwrap().clone();
    assert!(seen.iter().any(|s| s.event == JobEvent::Started));
    assert!(seen.iter().any(|s| matches!(&s.event, JobEvent::Progress { provider_state, .. } if provider_state == "generating")));
    let stored = bot.wait_job(&id, WAIT, |j| j.final_delivered).await;
    assert!(stored.finished_at.is_some());
    bot.stop().await;
}

async fn provider_failure_refunds_and_says_why(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![
        Step::generating(),
        Step::fail("CONTENT", "prompt rejected by the safety system"),
    ]);
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    bot.jobs.submit(request("ix-f", 1, 10)).await.unwrap();
    let seen = bot.reporter.final_of(&JobId("ix-f".into()), WAIT).await;
    match &seen.state {
        JobState::Failed { reason } => assert!(
            reason.contains("prompt rejected by the safety system"),
            "{reason}"
        ),
        other => panic!("expected failure, got {other:?}"),
    }
    assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!(
        (balance.available, balance.pending, balance.settled),
        (1000, 0, 0)
    );
    bot.stop().await;
}

async fn create_refused_outright_fails_and_refunds(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.push(
        Endpoint::CreateTask,
        Scripted::error(422, "prompt contains prohibited content"),
    );
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    bot.jobs.submit(request("ix-422", 1, 10)).await.unwrap();
    let seen = bot.reporter.final_of(&JobId("ix-422".into()), WAIT).await;
    assert!(
        matches!(&seen.state, JobState::Failed { reason } if reason.contains("prohibited content")),
        "{:?}",
        seen.state
    );
    assert_eq!(
        bot.ledger
            .balance(seedance_bot::ids::GuildId(1))
            .unwrap()
            .available,
        1000
    );
    assert_eq!(fake.count(Endpoint::RecordInfo), 0);
    bot.stop().await;
}

async fn deadline_times_out_and_refunds(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::generating()]);
    let cfg = config_with(&fake.base_url(), |c| {
        c.jobs.poll_max = ms(50);
        c.jobs.deadline = ms(400);
    });
    let Some((_dir, bot)) = Bot::funded_on(backend, cfg, 1000).await else {
        return;
    };
    bot.jobs.submit(request("ix-t", 1, 10)).await.unwrap();
    let seen = bot.reporter.final_of(&JobId("ix-t".into()), WAIT).await;
    assert_eq!(seen.state, JobState::TimedOut);
    assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
    assert_eq!(
        bot.ledger
            .balance(seedance_bot::ids::GuildId(1))
            .unwrap()
            .available,
        1000
    );
    bot.stop().await;
}

async fn transient_errors_are_ridden_out(backend: Backend) {
    let fake = FakeProvider::start().await;
    // Two 500s on create, then a task unknown for its first 3 status calls, a 502 and a
    // 429 with Retry-After while polling: the job still succeeds, charged once.
    fake.push_n(
        Endpoint::CreateTask,
        2,
        Scripted::error(500, "upstream hiccup"),
    );
    fake.set_new_tasks_unknown_for(3);
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    bot.jobs.submit(request("ix-r", 1, 10)).await.unwrap();
    let id = JobId("ix-r".into());
    bot.wait_job(&id, WAIT, |j| matches!(j.state, JobState::Running { .. }))
        .await;
    fake.push(Endpoint::RecordInfo, Scripted::error(502, "bad gateway"));
    fake.push(
        Endpoint::RecordInfo,
        Scripted::error(429, "slow down").retry_after("1"),
    );
    let seen = bot.reporter.final_of(&id, WAIT).await;
    assert!(
        matches!(seen.state, JobState::Succeeded { .. }),
        "{:?}",
        seen.state
    );
    assert_eq!(fake.count(Endpoint::CreateTask), 3);
    assert_eq!(fake.created_task_ids().len(), 1);
    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!((balance.available, balance.settled), (800, COST));
    bot.stop().await;
}

async fn queued_job_can_be_cancelled_by_its_owner_only(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::generating()]);
    // One upstream slot: the second job waits in the queue.
    let cfg = config_with(&fake.base_url(), |c| c.seedance.max_running = 1);
    let Some((_dir, bot)) = Bot::funded_on(backend, cfg, 1000).await else {
        return;
    };
    bot.jobs.submit(request("ix-a", 1, 10)).await.unwrap();
    bot.wait_job(&JobId("ix-a".into()), WAIT, |j| {
        matches!(j.state, JobState::Running { .. })
    })
    .await;
    let waiting = bot.jobs.submit(request("ix-b", 1, 11)).await.unwrap();
    assert_eq!(waiting.position, Some(1));
    let id = JobId("ix-b".into());

    assert_eq!(
        bot.jobs.cancel(&id, MemberId(10)).await.unwrap_err(),
        CancelError::NotOwner
    );
    let cancelled = bot.jobs.cancel(&id, MemberId(11)).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    let seen = bot.reporter.final_of(&id, WAIT).await;
    assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
    // Only the running job's hold remains; the cancelled one never went upstream.
    assert_eq!(
        bot.ledger
            .balance(seedance_bot::ids::GuildId(1))
            .unwrap()
            .pending,
        COST
    );
    assert_eq!(fake.count(Endpoint::CreateTask), 1);
    // A running job cannot be cancelled.
    assert!(matches!(
        bot.jobs.cancel(&JobId("ix-a".into()), MemberId(10)).await,
        Err(CancelError::AlreadyStarted(_))
    ));
    bot.stop().await;
}

async fn refusals_charge_nothing_and_send_nothing(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::generating()]);
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 300).await else {
        return;
    };

    let mut bad = request("ix-bad", 1, 10);
    bad.duration = 60;
    assert!(matches!(
        bot.jobs.submit(bad).await,
        Err(SubmitError::Invalid(_))
    ));

    let mut poor = request("ix-poor", 1, 10);
    poor.resolution = seedance_bot::video::Resolution::P1080; // 800 credits
    let err = bot.jobs.submit(poor).await.unwrap_err();
    assert!(
        err.to_string().contains("300") && err.to_string().contains("800"),
        "{err}"
    );

    // Per-member limit: the second job of a member with one in progress is refused.
    bot.jobs.submit(request("ix-1", 1, 10)).await.unwrap();
    let err = bot.jobs.submit(request("ix-2", 1, 10)).await.unwrap_err();
    assert!(
        matches!(&err, SubmitError::TooManyActive { latest, .. } if latest.0 == "ix-1"),
        "{err}"
    );

    // A repeat of the same interaction is the same job, charged once.
    let again = bot.jobs.submit(request("ix-1", 1, 10)).await.unwrap();
    assert!(again.replayed);

    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!((balance.available, balance.pending), (100, COST));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.count(Endpoint::CreateTask), 1);
    bot.stop().await;
}

async fn daily_cap_refuses_with_the_reset_time(backend: Backend) {
    let fake = FakeProvider::start().await;
    let cfg = config_with(&fake.base_url(), |c| c.credits.default_daily_cap = 300);
    let Some((_dir, bot)) = Bot::funded_on(backend, cfg, 5000).await else {
        return;
    };
    bot.jobs.submit(request("ix-c1", 1, 10)).await.unwrap();
    bot.reporter.final_of(&JobId("ix-c1".into()), WAIT).await;
    let err = bot.jobs.submit(request("ix-c2", 1, 10)).await.unwrap_err();
    assert!(
        matches!(
            err,
            SubmitError::Credits(seedance_bot::credits::LedgerError::DailyCapReached { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("UTC"), "{err}");
    bot.stop().await;
}

/// Where the Discord side shows a job belongs to it: the scheduler's own writes (which
/// hold older copies of the job) never undo it, even while createTask is in flight.
async fn reply_target_set_mid_submission_survives(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.push(
        Endpoint::CreateTask,
        Scripted::ok(serde_json::json!({"taskId": "slow-task"})).delay(Duration::from_millis(300)),
    );
    fake.add_task(
        "slow-task",
        vec![
            Step::generating(),
            Step::success(["https://results.fake.test/slow.mp4"]),
        ],
    );
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    bot.jobs.submit(request("ix-reply", 1, 10)).await.unwrap();
    let id = JobId("ix-reply".into());
    bot.wait_job(&id, WAIT, |j| j.state == JobState::Submitting)
        .await;
    let target = seedance_bot::jobs::ReplyTarget {
        channel: Some(seedance_bot::ids::ChannelId(77)),
        message: Some(78),
        thread: Some(seedance_bot::ids::ChannelId(79)),
        ..Default::default()
    };
    bot.jobs
        .set_reply_target(&id, target.clone())
        .await
        .unwrap();
    let seen = bot.reporter.final_of(&id, WAIT).await;
    assert!(
        matches!(seen.state, JobState::Succeeded { .. }),
        "{:?}",
        seen.state
    );
    let stored = bot.wait_job(&id, WAIT, |j| j.final_delivered).await;
    assert_eq!(stored.reply, target);
    bot.stop().await;
}

/// The same interaction delivered twice at once is one job, held and sent once.
async fn concurrent_repeats_of_one_interaction_make_one_job(backend: Backend) {
    let fake = FakeProvider::start().await;
    let cfg = config_with(&fake.base_url(), |c| c.jobs.max_active_per_user = 5);
    let Some((_dir, bot)) = Bot::funded_on(backend, cfg, 1000).await else {
        return;
    };
    let attempts = (0..8).map(|_| bot.jobs.submit(request("ix-dup", 1, 10)));
    let results = futures::future::join_all(attempts).await;
    assert_eq!(
        results
            .iter()
            .filter(|r| matches!(r, Ok(s) if !s.replayed))
            .count(),
        1
    );
    assert!(results.iter().all(|r| r.is_ok()));
    bot.reporter.final_of(&JobId("ix-dup".into()), WAIT).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.count(Endpoint::CreateTask), 1);
    assert_eq!(bot.reporter.finals(&JobId("ix-dup".into())).len(), 1);
    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!((balance.available, balance.settled), (800, COST));
    bot.stop().await;
}

/// Simulate mode: no provider at all, the task moves through its states and ends with the
/// configured sample link; credits are accounted for and labelled as simulated.
#[tokio::test]
async fn simulate_mode_runs_a_job_without_a_provider() {
    let dir = tempfile::tempdir().unwrap();
    // The base URL points nowhere: a call to it would fail the job.
    let cfg = config_with("http://127.0.0.1:9", |c| {
        c.seedance.mode = seedance_bot::config::ProviderMode::Simulate;
        c.seedance.simulate.duration = ms(300);
        c.seedance.simulate.result_url = "https://example.com/sample.mp4".into();
        c.jobs.poll_max = ms(50);
    });
    let bot = Bot::start(dir.path(), cfg, Default::default()).await;
    assert!(bot.jobs.is_simulated());
    bot.grant(1, 1000).await;
    let submitted = bot.jobs.submit(request("ix-sim", 1, 10)).await.unwrap();
    assert!(submitted.job.simulated);
    let id = JobId("ix-sim".into());
    let seen = bot.reporter.final_of(&id, WAIT).await;
    match &seen.state {
        JobState::Succeeded { task_id, urls } => {
            assert!(task_id.starts_with("sim-"), "{task_id}");
            assert_eq!(urls, &["https://example.com/sample.mp4".to_owned()]);
        }
        other => panic!("expected success, got {other:?}"),
    }
    // It passed through the provider's states on the way.
    let seen = bot.reporter.seen.lock().unwrap().clone();
    assert!(seen.iter().any(|s| matches!(&s.event, JobEvent::Progress { provider_state, .. } if provider_state == "generating")));
    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!((balance.available, balance.settled), (800, COST));
    let history = bot
        .ledger
        .history(seedance_bot::ids::GuildId(1), None, 10)
        .unwrap();
    assert!(
        history.iter().any(|e| e.reason.contains("simulated")),
        "{history:?}"
    );
    bot.stop().await;
}

crate::on_both_backends!(
    success_settles_the_hold_and_reports_the_video,
    provider_failure_refunds_and_says_why,
    create_refused_outright_fails_and_refunds,
    deadline_times_out_and_refunds,
    transient_errors_are_ridden_out,
    queued_job_can_be_cancelled_by_its_owner_only,
    refusals_charge_nothing_and_send_nothing,
    daily_cap_refuses_with_the_reset_time,
    reply_target_set_mid_submission_survives,
    concurrent_repeats_of_one_interaction_make_one_job,
);

/// A member's live jobs are read from the store, so a process that does not run the
/// scheduler (on a shared store) still tells the truth about them (`/credits balance`).
#[tokio::test]
async fn a_members_live_jobs_are_known_to_every_process_sharing_the_store() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::generating()]);
    // The first process runs the scheduler; the second only admits.
    let (first, second) = Bot::two_on_postgres(&url, config(&fake.base_url())).await;
    second.grant(1, 1000).await;
    second.jobs.submit(request("ix-far", 1, 10)).await.unwrap();
    first
        .wait_job(&JobId("ix-far".into()), WAIT, |j| {
            matches!(j.state, JobState::Running { .. })
        })
        .await;
    for bot in [&first, &second] {
        let active: Vec<String> = bot
            .jobs
            .active_for(seedance_bot::ids::MemberId(10))
            .into_iter()
            .map(|j| j.id.0)
            .collect();
        assert_eq!(active, ["ix-far"]);
    }
    first.stop().await;
}
