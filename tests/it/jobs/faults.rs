//! The job lifecycle against a misbehaving provider and receiver: late answers after the
//! deadline, createTask failing for good, one job's trouble beside another's, final
//! reports refused for a while or for good, expired links, an unreadable record. The
//! provider's faults run on both backends.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use seedance_bot::credits::{HoldState, JobWrite, Reserve};
use seedance_bot::ids::{GuildId, MemberId};
use seedance_bot::jobs::{JobEvent, JobId, JobState, Reference};
use seedance_bot::video::ReferenceKind;

use super::restart::{fake_provider, process};
use super::{Bot, COST, RecordingReporter, WAIT, config, config_with, ms, request};
use crate::credits::Backend;
use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted, Step};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Waits until `cond` holds (up to `WAIT`).
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(ms(10)).await;
    }
}

/// The provider's answer to a poll arrives only after the deadline ended the job: the
/// deadline's refund and message stand, the late answer changes nothing, before or after
/// a restart.
fn late_answer_after_the_deadline(key: &str, late: Step) {
    let (_rt, fake) = fake_provider();
    fake.set_default_script(vec![Step::generating()]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with(&fake.base_url(), |c| {
        c.jobs.poll_max = ms(50);
        // Room for the job to start and a poll to be held first, even on a busy machine;
        // the held poll must outlast the deadline without timing out.
        c.jobs.deadline = Duration::from_secs(4);
        c.seedance.request_timeout = Duration::from_secs(20);
    });
    let id = JobId(key.into());
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start(dir.path(), cfg.clone(), reporter.clone()).await;
        bot.grant(1, 1000).await;
        bot.jobs.submit(request(key, 1, 10)).await.unwrap();
        bot.wait_job(&id, WAIT, |j| matches!(j.state, JobState::Running { .. }))
            .await;
        // From now on the provider says `late`, but its answers are held back.
        let task = fake.created_task_ids()[0].clone();
        fake.hold(Endpoint::RecordInfo);
        fake.set_task_state(&task, late);
        let arrived = fake.count(Endpoint::RecordInfo);
        until("a poll is held", || {
            fake.count(Endpoint::RecordInfo) > arrived
        })
        .await;
        let seen = reporter.final_of(&id, WAIT).await;
        assert_eq!(seen.state, JobState::TimedOut);
        assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
        // Now the held answer arrives, late.
        fake.release(Endpoint::RecordInfo);
        until("the held answers are sent", || {
            fake.answered(Endpoint::RecordInfo) >= fake.count(Endpoint::RecordInfo)
        })
        .await;
        for _ in 0..50 {
            let job = bot.jobs.get(&id).unwrap();
            assert_eq!(job.state, JobState::TimedOut, "a late answer moved the job");
            tokio::time::sleep(ms(10)).await;
        }
        assert_eq!(reporter.finals(&id).len(), 1, "a second final message");
        let balance = bot.ledger.balance(GuildId(1)).unwrap();
        assert_eq!(
            (balance.available, balance.pending, balance.settled),
            (1000, 0, 0)
        );
        assert_eq!(bot.ledger.verify().unwrap(), Vec::<String>::new());
        let jobs_agree = seedance_bot::jobs::verify::verify(&bot.ledger).unwrap();
        assert_eq!(jobs_agree, Vec::<String>::new());
        bot.stop().await;
    });
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start(dir.path(), cfg.clone(), reporter.clone()).await;
        tokio::time::sleep(ms(300)).await;
        assert!(
            reporter.finals(&id).is_empty(),
            "reported again after a restart"
        );
        assert_eq!(bot.jobs.get(&id).unwrap().state, JobState::TimedOut);
        let balance = bot.ledger.balance(GuildId(1)).unwrap();
        assert_eq!((balance.available, balance.settled), (1000, 0));
        assert_eq!(bot.ledger.verify().unwrap(), Vec::<String>::new());
        bot.stop().await;
    });
    assert_eq!(fake.created_task_ids().len(), 1);
}

#[test]
fn a_late_success_after_the_deadline_gives_no_free_video() {
    late_answer_after_the_deadline(
        "late-ok",
        Step::success(["https://results.fake.test/{id}.mp4"]),
    );
}

#[test]
fn a_late_progress_answer_cannot_revive_a_timed_out_job() {
    late_answer_after_the_deadline("late-progress", Step::queuing());
}

async fn create_task_failing_forever_is_tried_create_attempts_times_then_refunded(
    backend: Backend,
) {
    let fake = FakeProvider::start().await;
    fake.push_n(Endpoint::CreateTask, 20, Scripted::error(500, "down"));
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    bot.jobs.submit(request("c500", 1, 10)).await.unwrap();
    let id = JobId("c500".into());
    let seen = bot.reporter.final_of(&id, WAIT).await;
    let JobState::Failed { reason } = &seen.state else {
        panic!("{:?}", seen.state);
    };
    assert!(reason.contains("provider is having trouble"), "{reason}");
    assert!(reason.contains("credits are back"), "{reason}");
    assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
    assert_eq!(fake.count(Endpoint::CreateTask), 3, "jobs.create_attempts");
    let job = bot.jobs.get(&id).unwrap();
    assert_eq!((job.create_attempts, job.create_unknown), (3, 3));
    let balance = bot.ledger.balance(GuildId(1)).unwrap();
    assert_eq!((balance.available, balance.pending), (1000, 0));
    // The audit trail counts the tries.
    let mut csv = Vec::new();
    seedance_bot::jobs::export::export(
        bot.ledger.jobs_tree(),
        GuildId(1),
        seedance_bot::credits::ExportFormat::Csv,
        &mut csv,
    )
    .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "create_attempts").unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[row.len() - header.len() + column], "3", "{csv}");
    bot.stop().await;
}

async fn refusals_that_prove_no_task_was_made_are_retried_past_the_bound(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.push_n(
        Endpoint::CreateTask,
        4,
        Scripted::error(409, "too many tasks"),
    );
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    bot.jobs.submit(request("c409", 1, 10)).await.unwrap();
    let id = JobId("c409".into());
    let seen = bot.reporter.final_of(&id, WAIT).await;
    assert!(
        matches!(seen.state, JobState::Succeeded { .. }),
        "{:?}",
        seen.state
    );
    let job = bot.jobs.get(&id).unwrap();
    assert_eq!((job.create_attempts, job.create_unknown), (5, 0));
    assert_eq!(fake.created_task_ids().len(), 1);
    bot.stop().await;
}

async fn one_jobs_failing_create_does_not_hold_up_another(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.push(Endpoint::CreateTask, Scripted::error(500, "hiccup"));
    // The failing job waits at least three seconds before its next try.
    let cfg = config_with(&fake.base_url(), |c| {
        c.jobs.poll_initial = Duration::from_secs(3);
        c.jobs.poll_max = Duration::from_secs(5);
    });
    let Some((_dir, bot)) = Bot::funded_on(backend, cfg, 1000).await else {
        return;
    };
    bot.grant(2, 1000).await;
    let (a, b) = (JobId("iso-a".into()), JobId("iso-b".into()));
    bot.jobs.submit(request("iso-a", 1, 10)).await.unwrap();
    bot.wait_job(&a, WAIT, |j| j.create_unknown == 1).await;
    bot.jobs.submit(request("iso-b", 2, 20)).await.unwrap();
    bot.wait_job(&b, WAIT, |j| matches!(j.state, JobState::Running { .. }))
        .await;
    bot.wait_job(&a, WAIT, |j| matches!(j.state, JobState::Running { .. }))
        .await;
    let order: Vec<String> = fake
        .requests_to(Endpoint::CreateTask)
        .iter()
        .map(|r| r.body.as_ref().unwrap()["input"]["prompt"].to_string())
        .map(|p| if p.contains("iso-a") { "a" } else { "b" }.to_owned())
        .collect();
    assert_eq!(order, ["a", "b", "a"]);
    bot.stop().await;
}

async fn a_job_sitting_out_its_backoff_can_still_be_cancelled(backend: Backend) {
    let fake = FakeProvider::start().await;
    fake.push(Endpoint::CreateTask, Scripted::error(500, "hiccup"));
    // Its next try is at least ten seconds away: time enough to cancel it.
    let cfg = config_with(&fake.base_url(), |c| {
        c.jobs.poll_initial = Duration::from_secs(10);
        c.jobs.poll_max = Duration::from_secs(10);
    });
    let Some((_dir, bot)) = Bot::funded_on(backend, cfg, 1000).await else {
        return;
    };
    let id = JobId("wait-cancel".into());
    bot.jobs
        .submit(request("wait-cancel", 1, 10))
        .await
        .unwrap();
    bot.wait_job(&id, WAIT, |j| j.create_unknown == 1).await;
    let cancelled = bot.jobs.cancel(&id, MemberId(10)).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    let balance = bot.ledger.balance(GuildId(1)).unwrap();
    assert_eq!((balance.available, balance.pending), (1000, 0));
    bot.stop().await;
}

#[tokio::test]
async fn a_final_report_waits_as_long_as_the_receiver_asks() {
    let fake = FakeProvider::start().await;
    let reporter = Arc::new(RecordingReporter::default());
    *reporter.refuse_finals.lock().unwrap() = 1;
    *reporter.refuse_asking.lock().unwrap() = Some(Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let bot = Bot::start(dir.path(), config(&fake.base_url()), reporter.clone()).await;
    bot.grant(1, 1000).await;
    let id = JobId("asked".into());
    bot.jobs.submit(request("asked", 1, 10)).await.unwrap();
    reporter.final_of(&id, WAIT).await;
    let tries = reporter.tries_of(&id);
    assert_eq!(tries.len(), 2);
    assert!(tries[1] - tries[0] >= Duration::from_secs(1), "{tries:?}");
    let job = bot.wait_job(&id, WAIT, |j| j.final_delivered).await;
    assert_eq!(job.delivery.attempts, 2);
    bot.stop().await;
}

#[test]
fn a_final_report_refused_for_good_is_tried_once_and_recorded() {
    let (_rt, fake) = fake_provider();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&fake.base_url());
    let id = JobId("gone".into());
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        *reporter.refuse_for_good.lock().unwrap() = true;
        let bot = Bot::start(dir.path(), cfg.clone(), reporter.clone()).await;
        bot.grant(1, 1000).await;
        bot.jobs.submit(request("gone", 1, 10)).await.unwrap();
        let job = bot
            .wait_job(&id, WAIT, |j| j.delivery.failed.is_some())
            .await;
        assert!(matches!(job.state, JobState::Succeeded { .. }));
        assert!(!job.final_delivered);
        assert!(job.delivery.failed.unwrap().contains("10003"));
        tokio::time::sleep(ms(300)).await;
        assert_eq!(
            reporter.tries_of(&id).len(),
            1,
            "retried a permanent refusal"
        );
        bot.stop().await;
    });
    process(async {
        let reporter = Arc::new(RecordingReporter::default());
        let bot = Bot::start(dir.path(), cfg.clone(), reporter.clone()).await;
        tokio::time::sleep(ms(300)).await;
        assert!(reporter.tries_of(&id).is_empty(), "retried after a restart");
        // The outcome stays readable for the member.
        let job = bot.jobs.get(&id).unwrap();
        assert!(matches!(job.state, JobState::Succeeded { .. }));
        bot.stop().await;
    });
}

async fn a_job_whose_links_expired_fails_before_create_task_and_is_refunded(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some((_dir, bot)) = Bot::funded_on(backend, config(&fake.base_url()), 1000).await else {
        return;
    };
    let mut req = request("expired", 1, 10);
    req.references = vec![Reference {
        kind: ReferenceKind::Image,
        url: "https://cdn.discordapp.com/attachments/1/2/cat.png?ex=6650a0b0".into(),
        expires_at: Some(now_ms() + 30_000),
    }];
    bot.jobs.submit(req).await.unwrap();
    let seen = bot.reporter.final_of(&JobId("expired".into()), WAIT).await;
    let JobState::Failed { reason } = &seen.state else {
        panic!("{:?}", seen.state);
    };
    assert!(reason.contains("expired"), "{reason}");
    assert!(reason.contains("credits are back"), "{reason}");
    assert_eq!(seen.event, JobEvent::Finished { refunded: COST });
    assert_eq!(fake.count(Endpoint::CreateTask), 0);
    assert_eq!(bot.ledger.balance(GuildId(1)).unwrap().available, 1000);
    bot.stop().await;
}

#[test]
fn an_unreadable_job_record_keeps_its_hold() {
    let (_rt, fake) = fake_provider();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&fake.base_url());
    process(async {
        let bot = Bot::open(dir.path(), cfg.clone(), Arc::default()).await;
        bot.grant(1, 1000).await;
        let reserve = Reserve {
            key: "garbled".into(),
            guild: GuildId(1),
            member: MemberId(10),
            amount: 50,
            memo: "test".into(),
        };
        let garbled = JobWrite::put("garbled", b"{\"version\": 1, \"id\":".to_vec());
        bot.ledger.reserve(reserve, Some(garbled)).await.unwrap();
    });
    process(async {
        let bot = Bot::open(dir.path(), cfg.clone(), Arc::default()).await;
        let hold = bot.ledger.hold("garbled").unwrap().unwrap();
        assert_eq!(
            hold.state,
            HoldState::Pending,
            "refunded a job it could not read"
        );
        assert_eq!(bot.ledger.balance(GuildId(1)).unwrap().pending, 50);
        // And `credits verify` says so.
        let problems = seedance_bot::jobs::verify::verify(&bot.ledger).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("garbled cannot be read"),
            "{problems:?}"
        );
    });
    assert_eq!(fake.count(Endpoint::CreateTask), 0);
}

on_both_backends!(
    create_task_failing_forever_is_tried_create_attempts_times_then_refunded,
    refusals_that_prove_no_task_was_made_are_retried_past_the_bound,
    one_jobs_failing_create_does_not_hold_up_another,
    a_job_sitting_out_its_backoff_can_still_be_cancelled,
    a_job_whose_links_expired_fails_before_create_task_and_is_refunded,
);
