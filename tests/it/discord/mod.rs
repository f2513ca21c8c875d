//! The bot through the real serenity client against the local Discord double.
//!
//! `TestBot` runs the framework alone with test commands; `TestApp` runs the whole bot
//! (`app::App`: store, ledger, job queue, reporter, commands) against the double and the
//! fake provider, on a temp data directory.

mod answer_first;
mod approval;
mod autocomplete;
mod bot;
mod buttons;
mod context_menu;
mod crash;
mod delivery;
mod double;
mod http_endpoint;
mod i18n;
mod messages;
mod restart;
mod role_caps;
mod roles;
mod run_again;
mod shutdown;
pub mod video;
mod video_refusals;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use seedance_bot::app::{App, AppError};
use seedance_bot::config::Config;
use seedance_bot::credits::{Actor, Balance, Ledger, LedgerSettings};
use seedance_bot::discord::{self, Command, Data, DiscordError, DiscordReporter};
use seedance_bot::ids::GuildId;
use seedance_bot::jobs::{Jobs, JobsSettings, LogReporter, Provider};
use seedance_bot::store::StoreError;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::discord_double::{DiscordDouble, Request};
use crate::support::fake_provider::FakeProvider;

/// The bot token the tests use; it must never show up anywhere but the Authorization header.
pub const TOKEN: &str = "Bot.SECRET-DISCORD-TOKEN-xyz";
/// The part of the token that must not leak.
pub const TOKEN_SECRET: &str = "SECRET-DISCORD-TOKEN";
pub const GUILD: u64 = 900_000_000_000_000_001;
pub const CHANNEL: u64 = 900_000_000_000_000_002;
/// What an English-speaking member reads when the bot turns them away while restarting.
pub const RESTARTING: &str = "The bot is restarting; try again in a minute.";
pub const MEMBER: u64 = 900_000_000_000_000_003;
pub const OTHER_MEMBER: u64 = 900_000_000_000_000_004;
pub const ROLE: u64 = 900_000_000_000_000_005;

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The configuration of a bot talking to `double`, registering commands in `GUILD`.
pub fn config_for(double: &DiscordDouble, guilds: &[u64]) -> Arc<Config> {
    let guilds: Vec<String> = guilds.iter().map(u64::to_string).collect();
    let toml = format!(
        "[discord]\ntoken = \"{TOKEN}\"\napi_base_url = \"{}\"\ncommand_guild_ids = [{}]\nowner_ids = [{MEMBER}]\n[members]\ncommands_per_window = 0",
        double.base_url(),
        guilds.join(", ")
    );
    Arc::new(Config::from_toml(&toml).expect("test config"))
}

/// `Data` for the framework alone: a simulated job queue on `dir` that only logs.
pub async fn test_data(config: Arc<Config>, dir: &Path) -> Data {
    let db = seedance_bot::store::open(dir).expect("store");
    let ledger = Ledger::open(&db, LedgerSettings::default()).expect("ledger");
    let mut seedance = config.seedance.clone();
    seedance.mode = seedance_bot::config::ProviderMode::Simulate;
    let provider = Provider::from_config(&seedance).expect("provider");
    let jobs = Jobs::start(
        ledger,
        provider,
        JobsSettings::from_config(config.clone()),
        Arc::new(LogReporter),
    )
    .await
    .expect("jobs");
    let http = Arc::new(discord::build_http(&config.discord));
    let reporter = Arc::new(DiscordReporter::new(http, &config.discord));
    Data {
        config,
        jobs,
        reporter,
        health: Arc::default(),
    }
}

/// The framework running in the background against the double, with test commands.
pub struct TestBot {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), DiscordError>>,
    _dir: tempfile::TempDir,
}

impl TestBot {
    /// Starts the framework runner with `commands` and waits until it is connected.
    pub async fn start(double: &DiscordDouble, guilds: &[u64], commands: Vec<Command>) -> TestBot {
        let config = config_for(double, guilds);
        let dir = tempfile::tempdir().expect("temp dir");
        let data = test_data(config, dir.path()).await;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(discord::run(data, commands, async {
            let _ = rx.await;
        }));
        double.wait_ready(secs(10)).await;
        TestBot {
            shutdown: Some(tx),
            task,
            _dir: dir,
        }
    }

    /// Signals shutdown and waits for the runner to return.
    pub async fn stop(mut self) -> Result<(), DiscordError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(secs(10), &mut self.task)
            .await
            .expect("the runner stops within 10 s")
            .expect("the runner does not panic")
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How the bot under test gets its interactions: the scenario tests run in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Dispatched on the double's gateway (`discord.mode = "gateway"`).
    Gateway,
    /// POSTed, signed, to the bot's `/interactions` (`discord.mode = "http"`).
    Http,
}

/// Runs each named `async fn(Mode)` scenario as two tests, `NAME::gateway` and
/// `NAME::http`.
#[macro_export]
macro_rules! in_both_modes {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn gateway() {
                super::$name($crate::discord::Mode::Gateway).await;
            }
            #[tokio::test]
            async fn http() {
                super::$name($crate::discord::Mode::Http).await;
            }
        }
    )+};
}

/// The configuration of the whole bot: the double, the fake provider, fast polling,
/// `dir` as the data directory, then `extra` TOML lines (e.g. `[credits]` settings).
pub fn app_config(
    double: &DiscordDouble,
    provider: &FakeProvider,
    dir: &Path,
    extra: &str,
) -> Arc<Config> {
    app_config_in(Mode::Gateway, double, provider, dir, extra)
}

/// [`app_config`] for `mode`: in `Http`, `discord.public_key` is the double's test key and
/// `http.listen` a free port of 127.0.0.1 (`extra` must then not have an `[http]` table).
pub fn app_config_in(
    mode: Mode,
    double: &DiscordDouble,
    provider: &FakeProvider,
    dir: &Path,
    extra: &str,
) -> Arc<Config> {
    let http = match mode {
        Mode::Gateway => String::new(),
        Mode::Http => format!(
            "mode = \"http\"\npublic_key = \"{}\"\n[http]\nlisten = \"127.0.0.1:0\"",
            crate::support::discord_double::public_key_hex()
        ),
    };
    let toml = format!(
        r#"
[discord]
token = "{TOKEN}"
api_base_url = "{}"
command_guild_ids = [{GUILD}]
owner_ids = [{MEMBER}]
{http}

[seedance]
api_key = "sk-DISCORD-TEST"
base_url = "{}"
request_timeout = "2s"

[jobs]
poll_initial = "20ms"
poll_max = "100ms"

[members]
# Tests inject commands faster than members could; the rate limit has its own test.
commands_per_window = 0

[storage]
path = '{}'
{extra}
"#,
        double.base_url(),
        provider.base_url(),
        dir.display()
    );
    Arc::new(Config::from_toml(&toml).expect("test config"))
}

/// The whole bot running against the double and the fake provider.
pub struct TestApp {
    pub jobs: Jobs,
    pub ledger: Ledger,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), AppError>>>,
    /// Where `http.listen` was bound, if it is on.
    pub address: Option<std::net::SocketAddr>,
}

/// How many command registrations the bot has sent, answered or refused.
fn registration_attempts(double: &DiscordDouble) -> usize {
    double
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .count()
}

/// How many command registrations the double has answered.
fn registrations(double: &DiscordDouble) -> usize {
    double
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/commands") && r.status == 200)
        .count()
}

impl TestApp {
    /// Builds and starts the bot and waits until it is connected (in http mode: until its
    /// commands are registered, with interactions delivered to its endpoint). Waits (up to
    /// 10 s) for a previous run on the same directory to let go.
    pub async fn start(double: &DiscordDouble, config: Arc<Config>) -> TestApp {
        let sessions = double.sessions();
        let registered = registrations(double);
        let attempts = registration_attempts(double);
        let deadline = tokio::time::Instant::now() + secs(10);
        let app = loop {
            match App::build(config.clone()).await {
                Ok(app) => break app,
                Err(AppError::Store(StoreError::Locked(_)))
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("the bot did not start: {e}"),
            }
        };
        let jobs = app.jobs().clone();
        let ledger = jobs.ledger().clone();
        let http_mode = config.discord.mode == seedance_bot::config::DiscordMode::Http;
        let address = app.http_address();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        let deadline = tokio::time::Instant::now() + secs(10);
        if http_mode {
            let address = address.expect("http mode listens");
            double.deliver_over_http(&format!("http://{address}/interactions"));
            while registrations(double) == registered {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the bot never registered its commands"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            return TestApp {
                jobs,
                ledger,
                shutdown: Some(tx),
                task: Some(task),
                address: Some(address),
            };
        }
        while double.sessions() == sessions || !double.connected() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot never connected"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The commands are registered on READY, by the handler of that event: wait for the
        // bot to have tried, so a test reads the registration it made.
        while registration_attempts(double) == attempts {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot never registered its commands"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        TestApp {
            jobs,
            ledger,
            shutdown: Some(tx),
            task: Some(task),
            address,
        }
    }

    /// Sends the shutdown signal without waiting: the bot drains; `stop` then waits.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the bot and waits until it has let go of everything.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(secs(10), task)
                .await
                .expect("the bot stops within 10 s")
                .expect("the bot does not panic")
                .expect("the bot stops cleanly");
        }
    }

    pub async fn grant(&self, amount: i64) {
        self.ledger
            .grant(GuildId(GUILD), amount, Actor::Cli, "test top-up")
            .await
            .expect("grant");
    }

    pub fn balance(&self) -> Balance {
        self.ledger.balance(GuildId(GUILD)).expect("balance")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Every message-carrying request lets at most `member` be pinged: no `parse` of
/// everyone/roles/users, no roles, and no users but `member`.
pub fn assert_pings_only(double: &DiscordDouble, member: u64) {
    for r in double.requests() {
        let body = message_body(&r);
        let Some(body) = body else { continue };
        let am = &body["allowed_mentions"];
        assert!(
            am.is_object(),
            "{} {} has no allowed_mentions: {body}",
            r.method,
            r.path
        );
        assert_eq!(
            am["parse"],
            serde_json::json!([]),
            "{} {}: {am}",
            r.method,
            r.path
        );
        assert!(am["roles"].as_array().is_none_or(Vec::is_empty), "{am}");
        for u in am["users"].as_array().into_iter().flatten() {
            assert_eq!(
                u,
                &Value::String(member.to_string()),
                "{} {}: {am}",
                r.method,
                r.path
            );
        }
    }
}

/// Every message-carrying request lets at most one user be pinged (the member it answers),
/// never anyone by role or `@everyone`: for tests where several members act.
pub fn assert_pings_at_most_one(double: &DiscordDouble) {
    for r in double.requests() {
        let Some(body) = message_body(&r) else {
            continue;
        };
        let am = &body["allowed_mentions"];
        assert_eq!(
            am["parse"],
            serde_json::json!([]),
            "{} {}: {am}",
            r.method,
            r.path
        );
        assert!(am["roles"].as_array().is_none_or(Vec::is_empty), "{am}");
        assert!(am["users"].as_array().is_none_or(|u| u.len() <= 1), "{am}");
    }
}

/// The message a request creates or edits, if it carries text.
fn message_body(r: &Request) -> Option<Value> {
    let body = if r.path.starts_with("/interactions/") {
        r.body().get("data").cloned()?
    } else if r.method == "POST" && r.path.ends_with("/messages")
        || r.method == "PATCH" && r.path.contains("/messages/")
        || r.method == "POST" && r.path.starts_with("/webhooks/")
    {
        r.body().clone()
    } else {
        return None;
    };
    let has_text = body
        .get("content")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.is_empty())
        || body
            .get("embeds")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty());
    has_text.then_some(body)
}

/// Fails with the list when the double saw any broken rule or unknown route.
pub fn assert_no_violations(double: &DiscordDouble) {
    let v = double.violations();
    assert!(v.is_empty(), "{v:#?}");
}
