//! The provider's limits hold however many jobs there are, and waiting is fair.

use std::sync::Arc;
use std::time::Duration;

use seedance_bot::jobs::{JobId, JobState};

use super::{Bot, WAIT, config_with, ms, request};
use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted, Step};

/// The serving order across servers is round-robin: a flood from one server does not
/// starve the others.
#[tokio::test]
async fn jobs_start_round_robin_across_servers() {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::success(["https://results.fake.test/{id}.mp4"])]);
    let dir = tempfile::tempdir().unwrap();
    let mut bot = Bot::open(
        dir.path(),
        config_with(&fake.base_url(), |c| c.seedance.max_running = 1),
        Arc::default(),
    )
    .await;
    for guild in [1, 2, 3] {
        bot.grant(guild, 10_000).await;
    }
    // Server 1's members submit first, then one member each of servers 2 and 3.
    let order = [
        ("g1-a", 1, 10),
        ("g1-b", 1, 11),
        ("g1-c", 1, 12),
        ("g2-a", 2, 20),
        ("g3-a", 3, 30),
    ];
    for (key, guild, member) in order {
        bot.jobs.submit(request(key, guild, member)).await.unwrap();
    }
    assert_eq!(
        bot.jobs.queue_position(&JobId("g2-a".into())).map(|p| p.0),
        Some(2)
    );
    bot.resume();
    for (key, ..) in order {
        bot.reporter.final_of(&JobId(key.into()), WAIT).await;
    }
    let started: Vec<String> = fake
        .created_task_ids()
        .iter()
        .map(|id| {
            let prompt = fake.task_request(id).unwrap()["input"]["prompt"]
                .as_str()
                .unwrap()
                .to_owned();
            prompt
                .rsplit('(')
                .next()
                .unwrap()
                .trim_end_matches(')')
                .to_owned()
        })
        .collect();
    assert_eq!(started, ["g1-a", "g2-a", "g3-a", "g1-b", "g1-c"]);
    // Waiting jobs were told as they moved up: the last one saw places 4, 3, 2 and 1.
    let places: Vec<usize> = bot
        .reporter
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.job.0 == "g1-c")
        .filter_map(|s| match s.event {
            seedance_bot::jobs::JobEvent::Queued { position, .. } => Some(position),
            _ => None,
        })
        .collect();
    assert_eq!(places, [4, 3, 2, 1]);
    bot.stop().await;
}

/// Twenty jobs polled at once, with a 429 storm in the middle: the status-call budget is
/// never exceeded, and every job ends once. (The pause itself is proven in `jobs::limiter`.)
#[tokio::test]
async fn status_and_create_budgets_hold_under_load() {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![
        Step::generating(),
        Step::success(["https://results.fake.test/{id}.mp4"]),
    ]);
    let cfg = config_with(&fake.base_url(), |c| {
        c.seedance.status_per_second = 10;
        c.seedance.create_per_window = 8;
        c.seedance.create_window = ms(1000);
        c.jobs.poll_initial = ms(10);
        c.jobs.poll_max = ms(50);
    });
    let (_dir, bot) = Bot::funded(cfg, 100_000).await;
    fake.push_n(
        Endpoint::RecordInfo,
        6,
        Scripted::error(429, "too many requests").retry_after("1"),
    );
    let keys: Vec<String> = (0..20).map(|i| format!("load-{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        bot.jobs
            .submit(request(key, 1, 100 + i as u64))
            .await
            .unwrap();
    }
    for key in &keys {
        let seen = bot
            .reporter
            .final_of(&JobId(key.clone()), Duration::from_secs(30))
            .await;
        assert!(
            matches!(seen.state, JobState::Succeeded { .. }),
            "{key}: {:?}",
            seen.state
        );
    }
    // Measured where the calls arrive (a hair under the window, for loopback jitter).
    let window = Duration::from_millis(950);
    let statuses = fake.max_in_window(Endpoint::RecordInfo, window);
    let creates = fake.max_in_window(Endpoint::CreateTask, window);
    assert!(statuses <= 10, "{statuses} status calls within a second");
    assert!(creates <= 8, "{creates} createTask calls within a second");
    assert_eq!(fake.created_task_ids().len(), 20);
    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!((balance.pending, balance.settled), (0, 20 * super::COST));
    bot.stop().await;
}
