//! The bot through the real serenity client against the local Discord double.

mod bot;
mod double;
mod messages;

use std::sync::Arc;
use std::time::Duration;

use seedance_bot::config::Config;
use seedance_bot::discord::{self, Command, Data, DiscordError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::discord_double::DiscordDouble;

/// The bot token the tests use; it must never show up anywhere but the Authorization header.
pub const TOKEN: &str = "Bot.SECRET-DISCORD-TOKEN-xyz";
/// The part of the token that must not leak.
pub const TOKEN_SECRET: &str = "SECRET-DISCORD-TOKEN";
pub const GUILD: u64 = 900_000_000_000_000_001;
pub const CHANNEL: u64 = 900_000_000_000_000_002;
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
        "[discord]\ntoken = \"{TOKEN}\"\napi_base_url = \"{}\"\ncommand_guild_ids = [{}]\nowner_ids = [{MEMBER}]",
        double.base_url(),
        guilds.join(", ")
    );
    Arc::new(Config::from_toml(&toml).expect("test config"))
}

/// The bot running in the background against the double.
pub struct TestBot {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), DiscordError>>,
}

impl TestBot {
    /// Starts the framework runner with `commands` and waits until it is connected.
    pub async fn start(double: &DiscordDouble, guilds: &[u64], commands: Vec<Command>) -> TestBot {
        let config = config_for(double, guilds);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(discord::run(Data { config }, commands, async {
            let _ = rx.await;
        }));
        double.wait_ready(secs(10)).await;
        TestBot {
            shutdown: Some(tx),
            task,
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
