//! Several processes on one PostgreSQL store: the provider's budgets hold for the fleet even
//! when the scheduler passes from one process to another.

use std::time::Duration;

use seedance_bot::jobs::{JobId, JobState};

use super::{Bot, WAIT, config_with, ms, request};
use crate::support::fake_provider::{Endpoint, FakeProvider, Step};

/// The holder sends its window's createTask budget, then stops cleanly (giving the lease up
/// at once); the next process takes the lease within moments but sends its first createTask
/// only once the last holder's window has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_holder_does_not_spend_the_last_holders_window_again() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::success(["https://results.fake.test/{id}.mp4"])]);
    let window = Duration::from_secs(4);
    let cfg = config_with(&fake.base_url(), |c| {
        c.seedance.create_per_window = 2;
        c.seedance.create_window = window;
        c.seedance.request_timeout = ms(500);
    });
    let mut first = Bot::on_postgres(&url, cfg.clone()).await;
    first.resume();
    first.wait_leading(WAIT).await;
    let mut second = Bot::on_postgres(&url, cfg).await;
    second.resume();
    first.grant(1, 10_000).await;
    let keys = ["h-1", "h-2", "h-3", "h-4"];
    for (i, key) in keys.iter().enumerate() {
        first
            .jobs
            .submit(request(key, 1, 10 + i as u64))
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while fake.count(Endpoint::CreateTask) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no createTask sent");
        tokio::time::sleep(ms(10)).await;
    }
    first.stop().await;
    second.wait_leading(WAIT).await;
    for key in keys {
        second
            .wait_job(&JobId(key.into()), WAIT * 2, |j| {
                matches!(j.state, JobState::Succeeded { .. })
            })
            .await;
    }
    // Measured where the calls arrive, a hair under the window for loopback jitter.
    let sent = fake.max_in_window(Endpoint::CreateTask, window - ms(50));
    assert!(
        sent <= 2,
        "{sent} createTask calls within one window across the handover: {:?}",
        fake.arrivals(Endpoint::CreateTask)
    );
    assert_eq!(fake.count(Endpoint::CreateTask), 4);
    second.stop().await;
}
