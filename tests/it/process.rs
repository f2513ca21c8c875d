//! The real binary, run the way an operator runs it: configured by the environment, against
//! the local Discord double and the fake provider. `/healthz`, `/metrics` and `healthcheck`
//! answer; logs are JSON lines without secrets; SIGTERM stops it cleanly with the store intact,
//! after the commands being handled finish, answering new ones "restarting".

use crate::discord::RESTARTING;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::discord::video::{COST, RESULT_URL, callback, card_id, final_message, video};
use crate::discord::{CHANNEL, GUILD, OTHER_MEMBER, TOKEN, TOKEN_SECRET};
use crate::support::discord_double::{DiscordDouble, Opt, SlashCommand};
use crate::support::fake_provider::{FakeProvider, Step};

const API_KEY: &str = "sk-PROCESS-SECRET-KEY";

/// The environment of a bot on `dir` talking to `double` and `provider`, serving `listen`.
pub fn environment(
    double: &DiscordDouble,
    provider: &FakeProvider,
    dir: &Path,
    listen: &str,
) -> Vec<(String, String)> {
    [
        ("DISCORD_TOKEN", TOKEN.to_owned()),
        ("SEEDANCE_API_KEY", API_KEY.to_owned()),
        (
            "SEEDANCE_BOT__DISCORD__API_BASE_URL",
            double.base_url().to_owned(),
        ),
        (
            "SEEDANCE_BOT__DISCORD__COMMAND_GUILD_IDS",
            format!("[{GUILD}]"),
        ),
        ("SEEDANCE_BOT__SEEDANCE__BASE_URL", provider.base_url()),
        ("SEEDANCE_BOT__JOBS__POLL_INITIAL", "20ms".to_owned()),
        ("SEEDANCE_BOT__JOBS__POLL_MAX", "100ms".to_owned()),
        ("SEEDANCE_BOT__STORAGE__PATH", dir.display().to_string()),
        ("SEEDANCE_BOT__HTTP__LISTEN", listen.to_owned()),
        ("SEEDANCE_BOT__LOGGING__FORMAT", "json".to_owned()),
        ("RUST_LOG", "info,seedance_bot=debug".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub fn bot(env: &[(String, String)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedance-bot"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SEEDANCE_BOT__") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

pub fn output(env: &[(String, String)], args: &[&str]) -> Output {
    bot(env, args).output().expect("run seedance-bot")
}

/// Gives the test server credits through the offline CLI, as an operator would before a start.
pub fn grant_before_the_run(env: &[(String, String)], amount: u64) {
    let (guild, amount) = (GUILD.to_string(), amount.to_string());
    let granted = output(
        env,
        &[
            "credits",
            "grant",
            "--guild",
            &guild,
            "--amount",
            &amount,
            "--reason",
            "before the run",
            "--create",
        ],
    );
    assert!(granted.status.success(), "{granted:?}");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The running bot and the lines it wrote to stderr so far.
pub struct Running {
    pub child: Child,
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl Running {
    pub fn spawn(env: &[(String, String)]) -> Running {
        Running::spawn_command(bot(env, &["run"]))
    }

    /// Starts `cmd` (a `run`), collecting its stderr lines.
    pub fn spawn_command(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start seedance-bot run");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Running { child, logs }
    }

    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// The exit code, waiting at most `timeout`.
    pub async fn exit_code(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                panic!(
                    "still running after {timeout:?}:\n{}",
                    self.logs.lock().unwrap().join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn wait_healthy(base: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(res) = reqwest::get(format!("{base}/healthz")).await
            && res.status() == 200
        {
            return res.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "/healthz never answered 200");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_health_metrics_json_logs_and_stops_cleanly_on_sigterm() {
    let double = DiscordDouble::start().await;
    // Heartbeats soon, so the gateway latency gauge has a value within the test.
    double.set_heartbeat_interval(Duration::from_millis(200));
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![Step::waiting(), Step::success([RESULT_URL])]);
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let env = environment(&double, &provider, dir.path(), &listen);
    grant_before_the_run(&env, 1000);
    let guild = GUILD.to_string();

    let mut bot = Running::spawn(&env);
    double.wait_ready(Duration::from_secs(10)).await;
    let health = wait_healthy(&base).await;
    assert_eq!(health["status"], "ok", "{health}");
    let check = output(&env, &["healthcheck"]);
    assert!(check.status.success(), "{check:?}");

    // One video, start to finish, through the process.
    let injected = double.inject(&video("a boat from the binary")).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    let done = final_message(&double, card).await;
    assert!(
        done["content"].as_str().unwrap().contains(RESULT_URL),
        "{done}"
    );
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"seedance_interactions_total{command="video",outcome="ok"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("seedance_interaction_answer_seconds_bucket"),
        "{metrics}"
    );
    // serenity heartbeats once connected; the gauge follows within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let metrics = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains(r#"seedance_gateway_latency_seconds{shard="0"}"#) {
            break;
        }
        assert!(Instant::now() < deadline, "no gateway latency: {metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    bot.terminate();
    assert_eq!(bot.exit_code(Duration::from_secs(5)).await, Some(0));
    let check = output(&env, &["healthcheck", "--url", &format!("{base}/healthz")]);
    assert_eq!(
        check.status.code(),
        Some(1),
        "nothing answers any more: {check:?}"
    );

    // The store opens again, with the grant and the settled video.
    let shown = output(&env, &["credits", "show", "--guild", &guild]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{shown:?}");
    assert!(
        text.contains(&format!("available:   {}", 1000 - COST)),
        "{text}"
    );
    assert!(text.contains(&format!("settled:     {COST}")), "{text}");

    // Logs: JSON lines, no secret, and the job's lines carry its id, server and member.
    let logs = bot.logs.lock().unwrap().clone();
    assert!(
        logs.iter().any(|l| l.contains("shutdown requested")),
        "{logs:#?}"
    );
    let job = injected.id.to_string();
    let mut job_lines = 0;
    for line in &logs {
        let value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            !line.contains(TOKEN_SECRET) && !line.contains(API_KEY),
            "a secret in: {line}"
        );
        if value["span"]["job_id"] == job.as_str() {
            assert_eq!(value["span"]["guild"], guild.as_str(), "{line}");
            assert!(value["span"]["member"].is_string(), "{line}");
            job_lines += 1;
        }
    }
    assert!(
        job_lines > 0,
        "no line carries the job's id:\n{}",
        logs.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_command_in_flight_finish_and_turns_new_ones_away() {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![Step::waiting()]);
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let env = environment(&double, &provider, dir.path(), &listen);
    grant_before_the_run(&env, 1000);
    let guild = GUILD.to_string();
    let mut bot = Running::spawn(&env);
    double.wait_ready(Duration::from_secs(10)).await;
    wait_healthy(&format!("http://{listen}")).await;

    // The first command is being handled (its answer held by a slow Discord) at SIGTERM.
    double.delay_next(
        "POST /interactions/*/*/callback",
        Duration::from_millis(1500),
    );
    let first = double.inject(&video("a boat caught by the restart")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    bot.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = double
        .inject(
            &SlashCommand::in_guild("video", GUILD, CHANNEL, OTHER_MEMBER)
                .option(Opt::string("prompt", "too late")),
        )
        .await;
    let turned_away = callback(&double, &second).await;
    assert_eq!(turned_away["data"]["content"], RESTARTING, "{turned_away}");
    assert_eq!(turned_away["data"]["flags"], 64, "{turned_away}");
    assert_eq!(bot.exit_code(Duration::from_secs(5)).await, Some(0));

    // The first one finished: its card went out and its hold is in the store.
    let card = callback(&double, &first).await;
    assert!(
        card["data"]["embeds"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{card}"
    );
    let shown = output(&env, &["credits", "show", "--guild", &guild]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{shown:?}");
    assert!(
        text.contains(&format!("available:   {}", 1000 - COST)),
        "{text}"
    );
    assert!(text.contains(&format!("pending:     {COST}")), "{text}");
    let logs = bot.logs.lock().unwrap().join("\n");
    assert!(logs.contains("turned away: restarting"), "{logs}");
}
