//! Several real bot processes sharing one PostgreSQL store: one with the Discord gateway and
//! two `worker`s, against the local Discord double and the fake provider. The ledger is one
//! truth for all of them, the provider's budget holds for the fleet, and a worker killed
//! with SIGKILL while it runs the scheduler loses no job: another process takes the
//! scheduler lease once it runs out, and every accepted job ends with exactly one final
//! message.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::discord::video::{COST, RESULT_URL};
use crate::discord::{CHANNEL, GUILD};
use crate::process::{Running, bot, environment, free_port, output, wait_healthy};
use crate::support::discord_double::{DiscordDouble, Opt, SlashCommand};
use crate::support::fake_provider::{Endpoint, FakeProvider, Step};

const MEMBERS: u64 = 20;
const AFFORDABLE: u64 = 7;
/// The fleet's createTask budget: at most this many in any window of a second.
const CREATES_PER_SECOND: usize = 2;

/// The environment every process of a PostgreSQL fleet test shares: the store, a short
/// createTask timeout (so a short scheduler lease: twice the timeout and a margin, and a
/// takeover after a kill within seconds), no command rate limit.
pub fn postgres_env(
    double: &DiscordDouble,
    provider: &FakeProvider,
    dir: &std::path::Path,
    url: &str,
) -> Vec<(String, String)> {
    let mut env = environment(double, provider, dir, &format!("127.0.0.1:{}", free_port()));
    env.extend(
        [
            ("SEEDANCE_BOT__STORAGE__BACKEND", "postgres"),
            ("DATABASE_URL", url),
            ("SEEDANCE_BOT__SEEDANCE__REQUEST_TIMEOUT", "1s"),
            ("SEEDANCE_BOT__MEMBERS__COMMANDS_PER_WINDOW", "0"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env
}

/// [`postgres_env`] with the fleet's createTask budget: 2 a second.
fn fleet_env(
    double: &DiscordDouble,
    provider: &FakeProvider,
    dir: &std::path::Path,
    url: &str,
) -> Vec<(String, String)> {
    let mut env = postgres_env(double, provider, dir, url);
    env.extend(
        [
            ("SEEDANCE_BOT__SEEDANCE__CREATE_PER_WINDOW", "2"),
            ("SEEDANCE_BOT__SEEDANCE__CREATE_WINDOW", "1s"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env
}

/// A process's listen address, from its environment.
fn health_base(env: &[(String, String)]) -> String {
    let listen = env
        .iter()
        .find(|(k, _)| k == "SEEDANCE_BOT__HTTP__LISTEN")
        .map(|(_, v)| v.clone())
        .unwrap();
    format!("http://{listen}")
}

/// `env` serving its own free port; and that listen address.
pub fn with_listen(env: &[(String, String)]) -> (Vec<(String, String)>, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut env = env.to_vec();
    for (k, v) in &mut env {
        if k == "SEEDANCE_BOT__HTTP__LISTEN" {
            v.clone_from(&listen);
        }
    }
    (env, listen)
}

/// Whether `process` has logged a line containing `what`.
pub fn logged(process: &Running, what: &str) -> bool {
    process
        .logs
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains(what))
}

pub fn leads(process: &Running) -> bool {
    logged(process, "this process now runs the scheduler")
}

pub async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The stored jobs of the test server, through `jobs export` (the store is shared: no need
/// to stop anything).
fn exported(env: &[(String, String)]) -> Vec<Value> {
    let out = output(
        env,
        &[
            "jobs",
            "export",
            "--guild",
            &GUILD.to_string(),
            "--format",
            "jsonl",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_ledger_and_survive_a_killed_scheduler() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let url = url.expose_secret().to_owned();
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    // Each video runs a few polls, so jobs are still running when the worker is killed.
    provider.set_default_script(vec![
        Step::waiting(),
        Step::waiting(),
        Step::waiting(),
        Step::success([RESULT_URL]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let env = fleet_env(&double, &provider, dir.path(), &url);

    // The pool affords exactly seven videos; granted through the CLI beside the fleet.
    let granted = output(
        &env,
        &[
            "credits",
            "grant",
            "--guild",
            &GUILD.to_string(),
            "--amount",
            &(COST * AFFORDABLE).to_string(),
            "--reason",
            "fleet test",
            "--create",
        ],
    );
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );

    // The first worker takes the scheduler lease; then the gateway process and a second
    // worker join.
    let (first, _) = with_listen(&env);
    let mut worker_a = Running::spawn_command(bot(&first, &["worker"]));
    wait_until("the first worker to lead", Duration::from_secs(10), || {
        leads(&worker_a)
    })
    .await;
    let (gateway_env, _) = with_listen(&env);
    let gateway = Running::spawn(&gateway_env);
    let (second, _) = with_listen(&env);
    let worker_b = Running::spawn_command(bot(&second, &["worker"]));
    wait_healthy(&health_base(&gateway_env)).await;
    wait_until(
        "the second worker to start",
        Duration::from_secs(10),
        || logged(&worker_b, "running as a worker"),
    )
    .await;
    double.wait_ready(Duration::from_secs(10)).await;

    // Twenty members ask at once.
    let injections = (0..MEMBERS).map(|i| {
        let command = SlashCommand::in_guild("video", GUILD, CHANNEL, 5_000 + i)
            .option(Opt::string("prompt", &format!("a lighthouse number {i}")));
        let double = &double;
        async move { double.inject(&command).await }
    });
    let injected = futures::future::join_all(injections).await;
    assert_eq!(injected.len() as u64, MEMBERS);

    // Once a few jobs run upstream, the scheduler's worker dies without a word.
    wait_until("three jobs upstream", Duration::from_secs(20), || {
        provider.count(Endpoint::CreateTask) >= 3
    })
    .await;
    worker_a.child.kill().unwrap();
    let _ = worker_a.child.wait();

    // Another process takes over and every accepted job ends, reported exactly once.
    let deadline = Instant::now() + Duration::from_secs(60);
    let jobs = loop {
        let jobs = exported(&env);
        let settled =
            jobs.len() as u64 == AFFORDABLE && jobs.iter().all(|j| j["delivery"] == "delivered");
        if settled {
            break jobs;
        }
        assert!(
            Instant::now() < deadline,
            "jobs never all delivered: {jobs:#?}\nworker b:\n{}\ngateway:\n{}",
            worker_b.logs.lock().unwrap().join("\n"),
            gateway.logs.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        leads(&worker_b) || leads(&gateway),
        "nobody took the scheduler lease over"
    );

    // Exactly seven of the twenty were accepted: one per member, never more than the pool.
    let members: BTreeSet<u64> = jobs.iter().map(|j| j["member"].as_u64().unwrap()).collect();
    assert_eq!(members.len() as u64, AFFORDABLE);
    // Each accepted job has exactly one final message, in its own thread.
    for job in &jobs {
        let id: u64 = job["job"].as_str().unwrap().parse().unwrap();
        let interaction = injected.iter().find(|i| i.id == id).expect("injected");
        let card = crate::discord::video::card_id(&double, interaction);
        let finals: Vec<Value> = double
            .messages_in(card)
            .into_iter()
            .filter(|m| m["content"].as_str().is_some_and(|c| c.contains("<@")))
            .collect();
        assert_eq!(finals.len(), 1, "job {id}: {finals:#?}");
    }
    // The fleet kept the provider's budget as one: never more createTask calls in a
    // second than one process may make. Measured on arrival at the provider, so the window
    // leaves 200 ms for the calls' own trips on a loaded machine (a first call opening its
    // connection arrives later than one on a pooled connection).
    assert!(
        provider.max_in_window(Endpoint::CreateTask, Duration::from_millis(800))
            <= CREATES_PER_SECOND,
        "{:?}",
        provider.requests_to(Endpoint::CreateTask)
    );

    // The shared ledger verifies while the fleet still runs, and the money adds up: what
    // succeeded is settled, what did not came back.
    let verified = output(&env, &["credits", "verify"]);
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    let succeeded = jobs.iter().filter(|j| j["state"] == "succeeded").count() as u64;
    let show = output(&env, &["credits", "show", "--guild", &GUILD.to_string()]);
    let shown = String::from_utf8_lossy(&show.stdout).to_string();
    let field = |name: &str| crate::fleet_http::credits_field(&shown, name);
    assert_eq!(field("settled"), succeeded * COST, "{shown}");
    assert_eq!(field("pending"), 0, "{shown}");
    assert_eq!(
        field("available"),
        (AFFORDABLE - succeeded) * COST,
        "{shown}"
    );
    drop(gateway);
    drop(worker_b);
}

/// The database password is a secret: a bot on PostgreSQL logs (at TRACE) where its store
/// is with the password masked, and a failed connection's error does not carry it either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_password_never_shows() {
    const PASSWORD: &str = "PgSecret-7781";
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    // The test server trusts every local connection, so any password is accepted.
    let with_password =
        url.expose_secret()
            .replacen("://postgres@", &format!("://postgres:{PASSWORD}@"), 1);
    assert!(with_password.contains(PASSWORD));
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = fleet_env(&double, &provider, dir.path(), &with_password);
    for (k, v) in &mut env {
        if k == "RUST_LOG" {
            *v = "trace".into();
        }
    }
    let mut running = Running::spawn(&env);
    wait_healthy(&health_base(&env)).await;
    running.terminate();
    assert_eq!(running.exit_code(Duration::from_secs(10)).await, Some(0));
    let logs = running.logs.lock().unwrap().join("\n");
    assert!(!logs.is_empty());
    assert!(!logs.contains(PASSWORD), "the password is in the logs");
    assert!(
        logs.contains("postgres://postgres:***@127.0.0.1"),
        "the start line names the store, masked"
    );

    // Nothing listens on this port: the connection fails, and says so without the password.
    let closed = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/nothing",
        free_port()
    );
    let mut env = env.clone();
    for (k, v) in &mut env {
        if k == "DATABASE_URL" {
            *v = closed.clone();
        }
    }
    let out = output(&env, &["credits", "show", "--guild", &GUILD.to_string()]);
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("PostgreSQL"), "{said}");
    assert!(!said.contains(PASSWORD), "{said}");
}
