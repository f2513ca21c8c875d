//! The provider's limits hold however many jobs there are, and waiting is fair.

use std::sync::Arc;
use std::time::Duration;

use seedance_bot::jobs::{JobId, JobState};

use super::{Bot, StoreAt, WAIT, config_with, ms, request};
use crate::credits::Backend;
use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted, Step};

/// The serving order across servers is round-robin: a flood from one server does not
/// starve the others. On PostgreSQL the jobs are admitted by another process than the
/// scheduler's, so they reach its queue through the store, still in the order they came.
async fn jobs_start_round_robin_across_servers(backend: Backend) {
    let Some(at) = StoreAt::fresh(backend) else {
        return;
    };
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::success(["https://results.fake.test/{id}.mp4"])]);
    let cfg = config_with(&fake.base_url(), |c| c.seedance.max_running = 1);
    let holder = Bot::start_at(&at, cfg.clone(), Arc::default()).await;
    holder.wait_leading(WAIT).await;
    let other = match backend {
        Backend::Sled => None,
        Backend::Postgres => Some(Bot::open_at(&at, cfg, Arc::default()).await),
    };
    let admits = other.as_ref().unwrap_or(&holder);
    for guild in [1, 2, 3, 9] {
        holder.grant(guild, 10_000).await;
    }
    // A first job takes the only upstream slot and keeps it until the line has formed.
    fake.hold(Endpoint::CreateTask);
    admits.jobs.submit(request("first", 9, 90)).await.unwrap();
    wait_for("the first createTask", || {
        fake.count(Endpoint::CreateTask) == 1
    })
    .await;
    // Server 1's members submit first, then one member each of servers 2 and 3.
    let order = [
        ("g1-a", 1, 10),
        ("g1-b", 1, 11),
        ("g1-c", 1, 12),
        ("g2-a", 2, 20),
        ("g3-a", 3, 30),
    ];
    for (key, guild, member) in order {
        admits
            .jobs
            .submit(request(key, guild, member))
            .await
            .unwrap();
    }
    let place = |key: &str| holder.jobs.queue_position(&JobId(key.into())).map(|p| p.0);
    wait_for("the line to form", || {
        order.iter().all(|(key, ..)| place(key).is_some())
    })
    .await;
    assert_eq!(
        order.map(|(key, ..)| place(key)),
        [Some(1), Some(4), Some(5), Some(2), Some(3)]
    );
    fake.release(Endpoint::CreateTask);
    for key in std::iter::once("first").chain(order.map(|(key, ..)| key)) {
        holder.reporter.final_of(&JobId(key.into()), WAIT).await;
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
    assert_eq!(started, ["first", "g1-a", "g2-a", "g3-a", "g1-b", "g1-c"]);
    // Waiting jobs were told as they moved up: the last one saw places 4, 3, 2 and 1.
    let places: Vec<usize> = holder
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
    if let Some(other) = other {
        other.stop().await;
    }
    holder.stop().await;
}

/// Waits (generously: nothing here is timed) until `done`.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never saw {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Twenty jobs polled at once, with a 429 storm in the middle: the status-call budget is
/// never exceeded, and every job ends once. (The pause itself is proven in `jobs::limiter`.)
async fn status_and_create_budgets_hold_under_load(backend: Backend) {
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
    let Some((_dir, bot)) = Bot::funded_on(backend, cfg, 100_000).await else {
        return;
    };
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
    // Measured where the calls arrive, a hair under the window for loopback jitter: the
    // budget counts a createTask from when it is sent, after its job's `submitting` write.
    let window = Duration::from_millis(950);
    let statuses = fake.max_in_window(Endpoint::RecordInfo, window);
    let creates = fake.max_in_window(Endpoint::CreateTask, window);
    assert!(statuses <= 10, "{statuses} status calls within a second");
    assert!(
        creates <= 8,
        "{creates} createTask calls within a second: {:?}",
        fake.arrivals(Endpoint::CreateTask)
    );
    assert_eq!(fake.created_task_ids().len(), 20);
    let balance = bot.ledger.balance(seedance_bot::ids::GuildId(1)).unwrap();
    assert_eq!((balance.pending, balance.settled), (0, 20 * super::COST));
    bot.stop().await;
}

crate::on_both_backends!(
    jobs_start_round_robin_across_servers,
    status_and_create_budgets_hold_under_load
);
