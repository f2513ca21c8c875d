//! Happy paths and request shape: what the client sends and how it reads task records.

use serde_json::json;

use seedance_bot::seedance::{MAX_PROMPT_CHARS, SeedanceError, TaskId, TaskInput, TaskState};
use seedance_bot::video::{Ratio, Resolution};

use super::{KEY, client};
use crate::support::fake_provider::{Endpoint, FakeProvider, ResultJsonStyle, Scripted, Step};

fn full_input() -> TaskInput {
    TaskInput {
        prompt: Some("@image1 runs through @video1's rain".into()),
        reference_image_urls: vec![
            "https://cdn.test/a.png".into(),
            "https://cdn.test/b.png".into(),
        ],
        reference_video_urls: vec!["https://cdn.test/m.mp4".into()],
        reference_audio_urls: vec!["https://cdn.test/s.mp3".into()],
        ratio: Some(Ratio::Portrait),
        aspect_ratio: None,
        resolution: Some(Resolution::P1080),
        duration: Some(7),
        generate_audio: Some(true),
        web_search: Some(false),
        nsfw_checker: Some(true),
    }
}

#[tokio::test]
async fn a_full_request_sends_every_field_the_exact_model_and_the_headers() {
    let fake = FakeProvider::start().await;
    let task = client(&fake).create_task(&full_input()).await.unwrap();
    assert_eq!(task, TaskId("task_fake_0001".into()));

    let calls = fake.requests_to(Endpoint::CreateTask);
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(
        call.body.as_ref().unwrap(),
        &json!({
            "model": "seedance-2.0-reference-to-video",
            "input": {
                "prompt": "@image1 runs through @video1's rain",
                "reference_image_urls": ["https://cdn.test/a.png", "https://cdn.test/b.png"],
                "reference_video_urls": ["https://cdn.test/m.mp4"],
                "reference_audio_urls": ["https://cdn.test/s.mp3"],
                "ratio": "9:16",
                "resolution": "1080p",
                "duration": 7,
                "generate_audio": true,
                "web_search": false,
                "nsfw_checker": true
            }
        })
    );
    assert_eq!(
        call.authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    let agent = call.user_agent.as_deref().unwrap_or("");
    assert!(agent.starts_with("seedance-bot/"), "{agent}");
    assert_eq!(call.content_type.as_deref(), Some("application/json"));
}

#[tokio::test]
async fn ratio_wins_and_aspect_ratio_is_sent_only_when_set() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    let only_ratio = TaskInput {
        prompt: Some("x".into()),
        ratio: Some(Ratio::Square),
        ..TaskInput::default()
    };
    client.create_task(&only_ratio).await.unwrap();
    let both = TaskInput {
        aspect_ratio: Some(Ratio::Landscape),
        ..only_ratio.clone()
    };
    client.create_task(&both).await.unwrap();

    let bodies: Vec<_> = fake
        .requests_to(Endpoint::CreateTask)
        .into_iter()
        .map(|r| r.body.unwrap()["input"].clone())
        .collect();
    assert_eq!(bodies[0], json!({"prompt": "x", "ratio": "1:1"}));
    assert_eq!(bodies[1]["ratio"], "1:1");
    assert_eq!(bodies[1]["aspect_ratio"], "16:9");
}

#[tokio::test]
async fn a_prompt_over_the_limit_is_refused_without_a_request() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    let at_limit = TaskInput {
        prompt: Some("é".repeat(MAX_PROMPT_CHARS)),
        ..TaskInput::default()
    };
    client.create_task(&at_limit).await.unwrap();
    let over = TaskInput {
        prompt: Some("é".repeat(MAX_PROMPT_CHARS + 1)),
        ..TaskInput::default()
    };
    let err = client.create_task(&over).await.unwrap_err();
    assert!(matches!(err, SeedanceError::InvalidInput(_)), "{err:?}");
    assert!(!err.retryable());
    assert_eq!(
        fake.count(Endpoint::CreateTask),
        1,
        "only the valid prompt was sent"
    );
}

#[tokio::test]
async fn a_task_runs_its_script_to_success() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    let task = client.create_task(&full_input()).await.unwrap();

    let states: Vec<TaskState> = [
        client.record_info(&task).await.unwrap(),
        client.record_info(&task).await.unwrap(),
    ]
    .into_iter()
    .map(|r| r.state)
    .collect();
    assert_eq!(states, [TaskState::Waiting, TaskState::Generating]);
    assert!(states.iter().all(TaskState::is_running));

    let done = client.record_info(&task).await.unwrap();
    assert_eq!(done.state, TaskState::Success);
    assert!(done.state.is_terminal());
    assert_eq!(done.task_id, task);
    assert_eq!(
        done.result_urls,
        ["https://results.fake.test/task_fake_0001.mp4"]
    );
    assert!(done.create_time.is_some() && done.complete_time.is_some());
    let asked = fake.requests_to(Endpoint::RecordInfo);
    assert_eq!(asked.len(), 3);
    assert!(
        asked
            .iter()
            .all(|r| r.task_id.as_deref() == Some("task_fake_0001"))
    );
}

#[tokio::test]
async fn result_json_as_an_object_with_several_urls() {
    let fake = FakeProvider::start().await;
    fake.set_result_json_style(ResultJsonStyle::Object);
    fake.add_task(
        "t1",
        vec![Step::success(["https://r/1.mp4", "https://r/2.mp4"])],
    );
    let record = client(&fake)
        .record_info(&TaskId("t1".into()))
        .await
        .unwrap();
    assert_eq!(record.result_urls, ["https://r/1.mp4", "https://r/2.mp4"]);

    fake.set_result_json_style(ResultJsonStyle::String);
    let record = client(&fake)
        .record_info(&TaskId("t1".into()))
        .await
        .unwrap();
    assert_eq!(record.result_urls, ["https://r/1.mp4", "https://r/2.mp4"]);
}

#[tokio::test]
async fn failures_keep_code_and_message_whatever_the_code_type() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    let id = TaskId("t".into());
    for (code, expected) in [
        (json!("SENSITIVE"), Some("SENSITIVE")),
        (json!(1003), Some("1003")),
        (json!(null), None),
    ] {
        fake.add_task("t", vec![Step::fail(code, "the prompt was flagged")]);
        let record = client.record_info(&id).await.unwrap();
        assert_eq!(record.state, TaskState::Fail);
        assert_eq!(record.fail_code.as_deref(), expected);
        assert_eq!(record.fail_msg.as_deref(), Some("the prompt was flagged"));
        assert!(record.result_urls.is_empty());
    }
}

#[tokio::test]
async fn an_unknown_state_is_kept_and_counts_as_running() {
    let fake = FakeProvider::start().await;
    fake.add_task("t", vec![Step::state("rendering_hd")]);
    let record = client(&fake)
        .record_info(&TaskId("t".into()))
        .await
        .unwrap();
    assert_eq!(record.state, TaskState::Other("rendering_hd".into()));
    assert!(record.state.is_running());
    assert!(!record.state.is_terminal());
}

#[tokio::test]
async fn null_times_and_a_missing_task_id_are_tolerated() {
    let fake = FakeProvider::start().await;
    fake.push(
        Endpoint::RecordInfo,
        Scripted::ok(json!({
            "state": "queuing", "resultJson": null, "param": {"model": "m"},
            "failCode": null, "failMsg": null,
            "createTime": null, "completeTime": null, "costTime": null
        })),
    );
    let record = client(&fake)
        .record_info(&TaskId("asked".into()))
        .await
        .unwrap();
    assert_eq!(record.task_id.0, "asked");
    assert_eq!(record.state, TaskState::Queuing);
    assert_eq!((record.create_time, record.cost_time), (None, None));
}

#[tokio::test]
async fn a_task_can_be_unknown_for_a_while() {
    let fake = FakeProvider::start().await;
    fake.set_new_tasks_unknown_for(2);
    let client = client(&fake);
    let task = client.create_task(&full_input()).await.unwrap();
    for _ in 0..2 {
        let err = client.record_info(&task).await.unwrap_err();
        assert!(matches!(err, SeedanceError::NotFound { .. }), "{err:?}");
    }
    assert_eq!(
        client.record_info(&task).await.unwrap().state,
        TaskState::Waiting
    );
    assert_eq!(fake.status_calls(&task.0), 3);
}
