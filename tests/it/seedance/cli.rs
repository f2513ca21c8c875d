//! `seedance-bot generate` and `status` as a process, against the fake provider.

use std::process::Output;

use serde_json::{Value, json};

use super::KEY;
use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted, Step};

/// Runs the binary in an empty temp dir (no stray config.toml) with only the environment
/// it needs, pointed at the fake.
async fn run(fake: &FakeProvider, key: &str, args: &[&str]) -> Output {
    run_with(fake, key, args, &[]).await
}

/// [`run`] with extra (or overriding) environment variables.
async fn run_with(fake: &FakeProvider, key: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_seedance-bot"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("SEEDANCE_BOT__SEEDANCE__BASE_URL", fake.base_url())
        .env("SEEDANCE_API_KEY", key)
        .env("SEEDANCE_BOT__JOBS__POLL_INITIAL", "50ms")
        .env("SEEDANCE_BOT__JOBS__POLL_MAX", "100ms")
        .env("SEEDANCE_BOT__JOBS__DEADLINE", "10s")
        .env("SEEDANCE_BOT__SEEDANCE__REQUEST_TIMEOUT", "2s")
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the key is nowhere in the output and returns (stdout, stderr, exit code).
fn outcome(output: &Output) -> (String, String, i32) {
    let (out, err) = (text(&output.stdout), text(&output.stderr));
    assert!(!out.contains(KEY) && !err.contains(KEY), "{out}\n{err}");
    (out, err, output.status.code().unwrap_or(-1))
}

#[tokio::test]
async fn generate_prints_the_cost_then_the_url_and_exits_0() {
    let fake = FakeProvider::start().await;
    fake.require_api_key(KEY);
    let output = run(
        &fake,
        KEY,
        &[
            "generate",
            "--prompt",
            "a cat",
            "--image",
            "https://cdn.test/a.png",
        ],
    )
    .await;
    let (out, err, code) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "https://results.fake.test/task_fake_0001.mp4\n");
    // The cost is announced before the task exists, and called charged only once it does.
    let will = err
        .find("will cost: 400 credits (720p, 5 s, 16:9)")
        .expect(&err);
    let charged = err
        .find("charged: 400 credits (task task_fake_0001)")
        .expect(&err);
    assert!(will < charged, "{err}");
    let body = fake.task_request("task_fake_0001").unwrap();
    assert_eq!(
        body["input"],
        json!({"prompt": "a cat", "reference_image_urls": ["https://cdn.test/a.png"],
               "ratio": "16:9", "resolution": "720p", "duration": 5})
    );
    assert_eq!(fake.count(Endpoint::RecordInfo), 3);
}

#[tokio::test]
async fn generate_rides_out_rate_limits_faults_and_a_late_task_then_prints_json() {
    let fake = FakeProvider::start().await;
    fake.set_new_tasks_unknown_for(1);
    fake.push(
        Endpoint::CreateTask,
        Scripted::error(429, "slow down").retry_after("0"),
    );
    fake.push(
        Endpoint::RecordInfo,
        Scripted::error(429, "slow down").retry_after("0"),
    );
    fake.push(
        Endpoint::RecordInfo,
        Scripted::raw(502, "<html>bad gateway</html>"),
    );
    fake.push(
        Endpoint::RecordInfo,
        Scripted::raw(200, "<html>cdn hiccup</html>"),
    );
    let output = run(
        &fake,
        KEY,
        &[
            "generate",
            "--prompt",
            "a dog",
            "--resolution",
            "1080p",
            "--duration",
            "4",
            "--ratio",
            "9:16",
            "--generate-audio",
            "--web-search",
            "--nsfw-checker",
            "--json",
        ],
    )
    .await;
    let (out, err, code) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    // 1080p is 160/s, and audio adds 160/s more: 4 s cost 1280, not 640.
    assert!(
        err.contains("will cost: 1280 credits (1080p, 4 s, 9:16, with audio)"),
        "{err}"
    );
    let value: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        value,
        json!({"task_id": "task_fake_0001", "state": "success",
               "result_urls": ["https://results.fake.test/task_fake_0001.mp4"]})
    );
    let input = &fake.task_request("task_fake_0001").unwrap()["input"];
    assert_eq!(input["generate_audio"], true);
    assert_eq!(input["nsfw_checker"], true);
    assert_eq!(fake.count(Endpoint::CreateTask), 2);
}

#[tokio::test]
async fn a_failed_task_prints_one_error_line_and_exits_1() {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![
        Step::generating(),
        Step::fail(1003, "the prompt was flagged"),
    ]);
    let output = run(&fake, KEY, &["generate", "--prompt", "a cat"]).await;
    let (out, err, code) = outcome(&output);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        errors,
        [
            "error: the video failed: the prompt was flagged (code 1003): \
          change the prompt or references and try again"
        ]
    );
}

#[tokio::test]
async fn a_rejected_key_says_so_in_one_line_and_exits_2() {
    let fake = FakeProvider::start().await;
    fake.require_api_key("sk-the-right-one");
    let output = run(&fake, KEY, &["generate", "--prompt", "a cat"]).await;
    let (_, err, code) = outcome(&output);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.lines().last().unwrap(),
        "error: the API key was rejected (Invalid API key): check SEEDANCE_API_KEY"
    );
    assert_eq!(fake.count(Endpoint::RecordInfo), 0);
}

#[tokio::test]
async fn bad_input_and_a_missing_key_are_refused_before_any_request() {
    let fake = FakeProvider::start().await;
    let output = run(
        &fake,
        KEY,
        &["generate", "--prompt", "x", "--duration", "20"],
    )
    .await;
    let (_, err, code) = outcome(&output);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: a duration of 20 s is not allowed here: choose between 4 and 15 seconds\n"
    );

    let output = run(
        &fake,
        KEY,
        &["generate", "--prompt", "x", "--image", "file:///etc/passwd"],
    )
    .await;
    assert_eq!(outcome(&output).2, 2);

    let output = run(&fake, "", &["generate", "--prompt", "x"]).await;
    let (_, err, code) = outcome(&output);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: no Seedance API key is configured: set SEEDANCE_API_KEY"),
        "{err}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn no_wait_prints_the_task_id_only() {
    let fake = FakeProvider::start().await;
    let output = run(&fake, KEY, &["generate", "--prompt", "x", "--no-wait"]).await;
    let (out, err, code) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "task_fake_0001\n");
    assert_eq!(fake.count(Endpoint::RecordInfo), 0);
}

#[tokio::test]
async fn status_shows_urls_json_or_the_failure() {
    let fake = FakeProvider::start().await;
    fake.add_task(
        "ok1",
        vec![Step::success(["https://r/1.mp4", "https://r/2.mp4"])],
    );
    fake.add_task("bad1", vec![Step::fail("E42", "no luck")]);

    let (out, _, code) = outcome(&run(&fake, KEY, &["status", "ok1"]).await);
    assert_eq!(code, 0);
    assert_eq!(out, "ok1: success\nhttps://r/1.mp4\nhttps://r/2.mp4\n");

    let (out, _, code) = outcome(&run(&fake, KEY, &["status", "ok1", "--json"]).await);
    assert_eq!(code, 0);
    let value: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        value["result_urls"],
        json!(["https://r/1.mp4", "https://r/2.mp4"])
    );

    let (out, err, code) = outcome(&run(&fake, KEY, &["status", "bad1"]).await);
    assert_eq!(code, 1);
    assert_eq!(out, "bad1: fail\n");
    assert!(err.contains("no luck (code E42)"), "{err}");

    let (_, err, code) = outcome(&run(&fake, KEY, &["status", "nope"]).await);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: the provider does not know this task"),
        "{err}"
    );
}

#[tokio::test]
async fn a_task_past_the_deadline_exits_1_with_a_hint() {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::waiting(), Step::state("rendering")]);
    let output = run_with(
        &fake,
        KEY,
        &["generate", "--prompt", "x"],
        &[("SEEDANCE_BOT__JOBS__DEADLINE", "400ms")],
    )
    .await;
    let (out, err, code) = outcome(&output);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("rendering after"),
        "unknown states show as progress: {err}"
    );
    assert_eq!(
        err.lines().last().unwrap(),
        "error: task task_fake_0001 did not finish within 400ms: \
         check it later with `seedance-bot status <task id>`"
    );
}

/// The trap: "trying it without spending anything" ended in a refusal.
#[tokio::test]
async fn generate_and_status_work_in_simulate_mode_and_say_so() {
    let fake = FakeProvider::start().await;
    let simulate = [
        ("SEEDANCE_BOT__SEEDANCE__MODE", "simulate"),
        ("SEEDANCE_BOT__SEEDANCE__SIMULATE__DURATION", "300ms"),
    ];
    // No API key at all: the simulation needs none.
    let output = run_with(
        &fake,
        "",
        &["generate", "--prompt", "a cat", "--generate-audio"],
        &simulate,
    )
    .await;
    let (out, err, code) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "https://example.com/seedance-bot/simulated.mp4\n");
    assert!(
        err.contains(
            "simulated: would cost 800 credits (720p, 5 s, 16:9, with audio); nothing is spent"
        ),
        "{err}"
    );
    assert!(err.contains(": nothing was charged"), "{err}");
    assert!(!err.contains("charged: "), "{err}");
    let task = err
        .split_whitespace()
        .find(|w| w.starts_with("sim-"))
        .unwrap_or_else(|| panic!("no task id in {err}"))
        .trim_end_matches(':')
        .to_owned();

    let output = run_with(&fake, "", &["status", &task], &simulate).await;
    let (out, err, code) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("{task}: success (simulated)\nhttps://example.com/seedance-bot/simulated.mp4\n")
    );
    let output = run_with(&fake, "", &["status", &task, "--json"], &simulate).await;
    let value: Value = serde_json::from_str(outcome(&output).0.trim()).unwrap();
    assert_eq!(value["simulated"], true, "{value}");
    assert!(fake.requests().is_empty(), "the provider was called");
}

/// The trap: `generate` accepted what `/video` refuses, so it was no check of what members
/// can do.
#[tokio::test]
async fn generate_refuses_what_video_refuses_before_any_request() {
    let fake = FakeProvider::start().await;
    let ten_images: Vec<String> = (0..10)
        .flat_map(|i| ["--image".to_owned(), format!("https://cdn.test/{i}.png")])
        .collect();
    let mut many = vec!["generate".to_owned(), "--prompt".into(), "x".into()];
    many.extend(ten_images);
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    for (args, said) in [
        (
            &[
                "generate",
                "--prompt",
                "x",
                "--audio",
                "https://cdn.test/a.mp3",
            ][..],
            "audio needs at least one image or video reference",
        ),
        (&many[..], "10 image references were given; at most 9"),
        (
            &[
                "generate",
                "--prompt",
                "x",
                "--image",
                "http://cdn.test/a.png",
            ],
            "only https:// links are accepted",
        ),
        (
            &[
                "generate",
                "--prompt",
                "x",
                "--image",
                "https://127.0.0.1/a.png",
            ],
            "private or local address",
        ),
        (&["generate", "--prompt", " "], "the prompt is empty"),
    ] {
        let (_, err, code) = outcome(&run(&fake, KEY, args).await);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(said),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn generate_sends_create_task_of_unknown_outcome_at_most_create_attempts_times() {
    let fake = FakeProvider::start().await;
    fake.push_n(
        Endpoint::CreateTask,
        10,
        Scripted::error(500, "upstream down"),
    );
    let output = run_with(
        &fake,
        KEY,
        &["generate", "--prompt", "a cat"],
        &[("SEEDANCE_BOT__JOBS__CREATE_ATTEMPTS", "2")],
    )
    .await;
    let (_, err, code) = outcome(&output);
    assert_eq!(code, 1, "{err}");
    // Each try may have started a paid task: the bound is the bot's own.
    assert_eq!(fake.count(Endpoint::CreateTask), 2, "{err}");
    assert!(err.contains("a task may have been made upstream"), "{err}");
    assert!(!err.contains("charged"), "{err}");
}
