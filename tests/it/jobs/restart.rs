//! Restarts in every state, on both backends: each "process" is its own tokio runtime,
//! dropped with all its tasks mid-flight, then a new one opens the same store (the same
//! data directory, or the same PostgreSQL database, where the new process first waits for
//! the dead one's scheduler lease to expire).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use seedance_bot::ids::GuildId;
use seedance_bot::jobs::{JobEvent, JobId, JobState};

use super::{Bot, COST, RecordingReporter, StoreAt, WAIT, config, request};
use crate::credits::Backend;
use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted, Step};

/// Runs `f` as one bot process: when it returns, the runtime and every task in it stop.
pub(super) fn process<T>(f: impl Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(f);
    runtime.shutdown_timeout(Duration::ZERO);
    out
}

/// Each restart test once per backend; a plain test, since each "process" is a runtime.
macro_rules! restarts_on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sled() {
                super::$name(super::Backend::Sled);
            }
            #[test]
            fn postgres() {
                super::$name(super::Backend::Postgres);
            }
        }
    )*};
}

restarts_on_both_backends!(
    queued_job_runs_after_restart,
    running_job_resumes_polling_after_restart,
    job_caught_submitting_is_refunded_as_outcome_unknown,
    final_report_is_resent_until_confirmed_and_never_after,
    stray_holds_are_resolved_at_start,
);

/// The fake provider lives across the bot's restarts on a runtime of its own.
pub(super) fn fake_provider() -> (tokio::runtime::Runtime, FakeProvider) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(FakeProvider::start());
    (runtime, fake)
}

fn queued_job_runs_after_restart(backend: Backend) {
    let (_rt, fake) = fake_provider();
    let Some(at) = StoreAt::fresh(backend) else {
        return;
    };
    let cfg = config(&fake.base_url());
    let id = JobId("rq".into());
    process(async {
        let bot = Bot::open_at(&at, cfg.clone(), Arc::default()).await;
        bot.grant(1, 1000).await;
        bot.jobs.submit(request("rq", 1, 10)).await.unwrap();
    });
    assert_eq!(fake.count(Endpoint::CreateTask), 0);
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start_at(&at, cfg.clone(), reporter.clone()).await;
        // On PostgreSQL, once the killed process's scheduler lease ran out.
        bot.wait_leading(WAIT).await;
        let seen = reporter.final_of(&id, WAIT).await;
        assert!(
            matches!(seen.state, JobState::Succeeded { .. }),
            "{:?}",
            seen.state
        );
        assert_eq!(bot.ledger.balance(GuildId(1)).unwrap().settled, COST);
        bot.wait_job(&id, WAIT, |j| j.final_delivered).await;
    });
    assert_eq!(fake.count(Endpoint::CreateTask), 1);
}

fn running_job_resumes_polling_after_restart(backend: Backend) {
    let (_rt, fake) = fake_provider();
    fake.set_default_script(vec![Step::generating()]);
    let Some(at) = StoreAt::fresh(backend) else {
        return;
    };
    let cfg = config(&fake.base_url());
    let id = JobId("rr".into());
    let task = process(async {
        let bot = Bot::start_at(&at, cfg.clone(), Arc::default()).await;
        bot.grant(1, 1000).await;
        bot.jobs.submit(request("rr", 1, 10)).await.unwrap();
        let job = bot
            .wait_job(&id, WAIT, |j| matches!(j.state, JobState::Running { .. }))
            .await;
        match job.state {
            JobState::Running { task_id, .. } => task_id,
            _ => unreachable!(),
        }
    });
    // The video finishes while the bot is down.
    fake.set_task_state(
        &task,
        Step::success(["https://results.fake.test/after-restart.mp4"]),
    );
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start_at(&at, cfg.clone(), reporter.clone()).await;
        // On PostgreSQL, once the killed process's scheduler lease ran out.
        bot.wait_leading(WAIT).await;
        let seen = reporter.final_of(&id, WAIT).await;
        assert_eq!(
            seen.state,
            JobState::Succeeded {
                task_id: task.clone(),
                urls: vec!["https://results.fake.test/after-restart.mp4".into()]
            }
        );
        bot.wait_job(&id, WAIT, |j| j.final_delivered).await;
        assert_eq!(reporter.finals(&id).len(), 1);
    });
    assert_eq!(
        fake.count(Endpoint::CreateTask),
        1,
        "the task was not created twice"
    );
}

fn job_caught_submitting_is_refunded_as_outcome_unknown(backend: Backend) {
    let (_rt, fake) = fake_provider();
    // createTask hangs: the process dies with the call in flight.
    fake.push(
        Endpoint::CreateTask,
        Scripted::ok(serde_json::json!({"taskId": "late"})).delay(Duration::from_secs(30)),
    );
    let Some(at) = StoreAt::fresh(backend) else {
        return;
    };
    let cfg = config(&fake.base_url());
    let id = JobId("rs".into());
    process(async {
        let bot = Bot::start_at(&at, cfg.clone(), Arc::default()).await;
        bot.grant(1, 1000).await;
        bot.jobs.submit(request("rs", 1, 10)).await.unwrap();
        bot.wait_job(&id, WAIT, |j| j.state == JobState::Submitting)
            .await;
    });
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start_at(&at, cfg.clone(), reporter.clone()).await;
        // On PostgreSQL, once the killed process's scheduler lease ran out.
        bot.wait_leading(WAIT).await;
        let seen = reporter.final_of(&id, WAIT).await;
        assert!(
            matches!(&seen.state, JobState::Failed { reason } if reason.contains("outcome is unknown")),
            "{:?}",
            seen.state
        );
        assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
        let balance = bot.ledger.balance(GuildId(1)).unwrap();
        assert_eq!((balance.available, balance.pending), (1000, 0));
    });
    // The first process may have died before or after its request left; either way the
    // second never sends it again.
    assert!(
        fake.count(Endpoint::CreateTask) <= 1,
        "sent again after the restart"
    );
}

fn final_report_is_resent_until_confirmed_and_never_after(backend: Backend) {
    let (_rt, fake) = fake_provider();
    let Some(at) = StoreAt::fresh(backend) else {
        return;
    };
    let cfg = config(&fake.base_url());
    let id = JobId("rf".into());
    process(async {
        // Discord is down: the final report is refused.
        let reporter = Arc::new(RecordingReporter::default());
        *reporter.refuse_finals.lock().unwrap() = usize::MAX;
        let bot = Bot::start_at(&at, cfg.clone(), reporter.clone()).await;
        bot.grant(1, 1000).await;
        bot.jobs.submit(request("rf", 1, 10)).await.unwrap();
        let job = bot.wait_job(&id, WAIT, |j| j.state.is_terminal()).await;
        assert!(!job.final_delivered);
        assert!(reporter.finals(&id).is_empty());
    });
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start_at(&at, cfg.clone(), reporter.clone()).await;
        // On PostgreSQL, once the killed process's scheduler lease ran out.
        bot.wait_leading(WAIT).await;
        let seen = reporter.final_of(&id, WAIT).await;
        assert!(matches!(seen.state, JobState::Succeeded { .. }));
        bot.wait_job(&id, WAIT, |j| j.final_delivered).await;
        assert_eq!(reporter.finals(&id).len(), 1);
        // Charged once across both processes.
        assert_eq!(bot.ledger.balance(GuildId(1)).unwrap().settled, COST);
    });
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start_at(&at, cfg.clone(), reporter.clone()).await;
        // Only the scheduler's holder sends reports: wait until this process is it.
        bot.wait_leading(WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            reporter.finals(&id).is_empty(),
            "a confirmed report was sent again"
        );
    });
}

/// A hold whose job already ended (its settle or void failed on a storage error) or that
/// has no job is resolved at start, so no credits stay held forever.
fn stray_holds_are_resolved_at_start(backend: Backend) {
    use seedance_bot::credits::{JobWrite, Ledger, Reserve};
    use seedance_bot::ids::MemberId;

    let (_rt, fake) = fake_provider();
    let Some(at) = StoreAt::fresh(backend) else {
        return;
    };
    let cfg = config(&fake.base_url());
    process(async {
        let bot = Bot::open_at(&at, cfg.clone(), Arc::default()).await;
        bot.grant(1, 1000).await;
        // A job that ended in failure, its hold still pending.
        let failed = bot
            .jobs
            .submit(request("stray-failed", 1, 10))
            .await
            .unwrap()
            .job;
        let ledger: &Ledger = &bot.ledger;
        let mut ended = failed.clone();
        ended.state = JobState::Failed {
            reason: "test".into(),
        };
        ledger
            .jobs_tree()
            .insert(ended.id.0.as_bytes(), &ended.to_bytes())
            .unwrap();
        // A hold with no job at all.
        let reserve = Reserve {
            key: "stray-alone".into(),
            guild: GuildId(1),
            member: MemberId(11),
            amount: 50,
            memo: "test".into(),
        };
        ledger.reserve(reserve, None::<JobWrite>).await.unwrap();
        assert_eq!(ledger.balance(GuildId(1)).unwrap().pending, COST + 50);
        ledger.store().flush().await.unwrap();
    });
    process(async {
        // The stray holds are resolved by whoever recovers the jobs: at start on sled, on
        // taking the scheduler lease on a shared store.
        let bot = Bot::start_at(&at, cfg.clone(), Arc::default()).await;
        bot.wait_leading(WAIT).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let balance = bot.ledger.balance(GuildId(1)).unwrap();
            if (balance.available, balance.pending, balance.settled) == (1000, 0, 0) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{balance:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert_eq!(fake.count(Endpoint::CreateTask), 0);
}
