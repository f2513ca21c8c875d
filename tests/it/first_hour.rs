//! The operator's first hour (issue 15), each trap run through the real binary: audio in the
//! price, the start line, a bot that cannot reach Discord, SIGTERM before the gateway
//! connected, metrics from the first scrape, config errors listed all at once.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::discord::video::{RESULT_URL, callback, card_id, final_message, video};
use crate::discord::{GUILD, MEMBER};
use crate::process::{Running, bot, environment, free_port, grant_before_the_run, output};
use crate::support::discord_double::{DiscordDouble, Opt};
use crate::support::fake_provider::{FakeProvider, Step};

/// `run` in `dir` (so no stray config.toml is read) with `env`.
fn run_in(dir: &Path, env: &[(String, String)]) -> Running {
    let mut cmd = bot(env, &["run"]);
    cmd.current_dir(dir);
    Running::spawn_command(cmd)
}

fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_owned(), value.to_owned()));
}

/// Waits until a log line satisfies `wanted` and returns it.
async fn wait_log(bot: &Running, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(line) = bot.logs.lock().unwrap().iter().find(|l| wanted(l)) {
            return line.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no such line in:\n{}",
            bot.logs.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The trap: `generate_audio` was free for members, the surcharge fell on the operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_is_priced_on_the_card_and_in_the_ledger() {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![Step::waiting(), Step::success([RESULT_URL])]);
    let dir = tempfile::tempdir().unwrap();
    let env = environment(&double, &provider, dir.path(), "");
    grant_before_the_run(&env, 2000);
    let mut bot = run_in(dir.path(), &env);
    double.wait_ready(Duration::from_secs(10)).await;

    // 720p for 5 s: 80/s for the picture and 80/s for the audio.
    let asked =
        video("a boat with its engine running").option(Opt::boolean("generate_audio", true));
    let injected = double.inject(&asked).await;
    let card = callback(&double, &injected).await;
    let cost = card["data"]["embeds"][0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "Cost"))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no cost on the card: {card}"))
        .to_owned();
    assert!(cost.starts_with("800 credits"), "{cost}");
    final_message(&double, card_id(&double, &injected)).await;
    bot.terminate();
    assert_eq!(bot.exit_code(Duration::from_secs(5)).await, Some(0));

    let guild = GUILD.to_string();
    let shown = output(&env, &["credits", "show", "--guild", &guild]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("available:   1200"), "{text}");
    assert!(text.contains("settled:     800"), "{text}");
    let journal = output(
        &env,
        &["credits", "export", "--guild", &guild, "--format", "jsonl"],
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&journal.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        rows.iter()
            .any(|r| r["kind"] == "reserve" && r["member"] == MEMBER && r["amount"] == 800),
        "{rows:#?}"
    );
}

/// The traps: the first lines named no version, config, data directory or mode; poise
/// warned about owners on every start; `/metrics` lacked series until they were first used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_line_says_what_runs_where_and_metrics_start_at_zero() {
    let double = DiscordDouble::start().await;
    // poise used to ask for the application's owners (and warn when that failed).
    double.fail_next(
        "GET /oauth2/applications/@me",
        500,
        serde_json::json!({"message": "oops", "code": 0}),
    );
    let provider = FakeProvider::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let env = environment(&double, &provider, &data, &listen);
    let mut bot = run_in(dir.path(), &env);
    double.wait_ready(Duration::from_secs(10)).await;
    let metrics = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    bot.terminate();
    assert_eq!(bot.exit_code(Duration::from_secs(5)).await, Some(0));

    let logs = bot.logs.lock().unwrap().clone();
    let starts: Vec<Value> = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "seedance-bot starting")
        .collect();
    assert_eq!(starts.len(), 1, "{logs:#?}");
    let start = &starts[0];
    assert_eq!(start["version"], env!("CARGO_PKG_VERSION"), "{start}");
    assert_eq!(
        start["config"], "built-in defaults + environment",
        "{start}"
    );
    assert_eq!(start["data_dir"], data.display().to_string(), "{start}");
    assert_eq!(start["store"], "created (first start)", "{start}");
    assert_eq!(start["backend"], "sled 0.34.7", "{start}");
    assert_eq!(start["mode"], "live", "{start}");
    assert_eq!(start["commands"], format!("in servers {GUILD}"), "{start}");
    assert!(seedance_bot::store::exists(&data));
    assert!(
        !logs.iter().any(|l| l.contains("owners")),
        "{}",
        logs.join("\n")
    );

    for series in [
        r#"seedance_interactions_total{command="video",outcome="refused"} 0"#,
        r#"seedance_interactions_total{command="credits balance",outcome="ok"} 0"#,
        r#"seedance_jobs_finished_total{state="timed_out"} 0"#,
        r#"seedance_provider_calls_total{endpoint="createTask",outcome="rate_limited"} 0"#,
        r#"seedance_jobs{state="running"} 0"#,
        "seedance_credits_refunded_total 0",
        "# HELP seedance_credits_settled_total",
    ] {
        assert!(metrics.contains(series), "no {series} in:\n{metrics}");
    }
}

/// The traps: an unreachable Discord showed only serenity's warnings every 5 s, SIGTERM
/// before the gateway connected took 5 s, and logs written to a pipe kept colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_discord_is_explained_and_sigterm_stops_at_once() {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = environment(&double, &provider, dir.path(), "");
    // Nothing listens there.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    set(&mut env, "SEEDANCE_BOT__DISCORD__API_BASE_URL", &nowhere);
    set(&mut env, "SEEDANCE_BOT__LOGGING__FORMAT", "text");
    let mut bot = run_in(dir.path(), &env);
    let said = wait_log(&bot, |l| l.contains("cannot reach Discord")).await;
    assert!(said.contains(&nowhere), "{said}");
    assert!(said.contains("discord.api_base_url"), "{said}");
    assert!(said.contains("retry_in"), "{said}");

    let asked = Instant::now();
    bot.terminate();
    // Generous: the point is "not serenity's 5 s pause", not a speed figure.
    assert_eq!(bot.exit_code(Duration::from_secs(3)).await, Some(0));
    eprintln!(
        "SIGTERM before Discord answered: exited after {:?}",
        asked.elapsed()
    );
    let logs = bot.logs.lock().unwrap().join("\n");
    assert!(!logs.contains('\u{1b}'), "colour codes in a pipe:\n{logs}");
    assert!(!logs.contains("Shard Queuer"), "{logs}");
}
