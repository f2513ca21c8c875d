//! A restart of the bot in the middle of a job: the job resumes on the same data directory
//! and the member gets exactly one final message, also after a further restart.

use seedance_bot::jobs::{JobId, JobState};

use super::video::{RESULT_URL, callback, card_id, video, wait_delivered};
use super::*;
use crate::support::fake_provider::{Endpoint, Step};

async fn restart_mid_job_delivers_exactly_one_final_message(mode: Mode) {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![Step::waiting()]);
    let dir = tempfile::tempdir().unwrap();
    let config = app_config_in(mode, &double, &provider, dir.path(), "");
    let app = TestApp::start(&double, config.clone()).await;
    app.grant(1000).await;

    let injected = double.inject(&video("a boat across a restart")).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    let id = JobId(injected.id.to_string());
    // Running upstream, and the card and thread stored with the job.
    let deadline = tokio::time::Instant::now() + secs(5);
    loop {
        let job = app.jobs.get(&id);
        let ready = job.as_ref().is_some_and(|j| {
            matches!(j.state, JobState::Running { .. }) && j.reply.thread.map(|t| t.0) == Some(card)
        });
        if ready {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never running: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.stop().await;

    // While the bot is down, the provider finishes the video.
    let task = provider.created_task_ids()[0].clone();
    provider.set_task_state(&task, Step::success([RESULT_URL]));
    let app = TestApp::start(&double, config.clone()).await;
    let job = wait_delivered(&app, &id.0).await;
    assert!(matches!(job.state, JobState::Succeeded { .. }));
    app.stop().await;

    // A further restart sends nothing again.
    let app = TestApp::start(&double, config).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let finals = double.messages_in(card);
    assert_eq!(finals.len(), 1, "{finals:#?}");
    assert!(finals[0]["content"].as_str().unwrap().contains(RESULT_URL));
    assert_eq!(
        provider.count(Endpoint::CreateTask),
        1,
        "never submitted twice"
    );
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (600, 0, 400));
    assert_pings_only(&double, MEMBER);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(restart_mid_job_delivers_exactly_one_final_message,);
