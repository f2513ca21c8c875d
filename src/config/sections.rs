//! The configuration's sections, one struct a `[section]` of the file, with the choices
//! their keys take and the few answers they give of their own values (a shard range, a
//! price).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::formats::{human_duration, secret_text};
use super::validate;
use crate::video::{Ratio, Resolution};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The bot token. Never printed.
    #[serde(deserialize_with = "secret_text")]
    pub token: SecretString,
    /// Empty: Discord itself. Otherwise every REST call goes to this base (a REST proxy or a
    /// local Discord double) and serenity's own rate limiter is turned off.
    pub api_base_url: String,
    /// Register commands in these servers at start; empty registers them globally.
    pub command_guild_ids: Vec<u64>,
    /// The bot's operators: they may grant credits and link pools.
    pub owner_ids: Vec<u64>,
    /// Also upload finished videos to Discord when they fit, so they outlive the provider's link.
    pub rehost_results: bool,
    /// How interactions reach the bot: a gateway connection, or signed HTTP POSTs to
    /// `/interactions` on `http.listen`.
    pub mode: DiscordMode,
    /// The application's public key (hex, from the developer portal), which signs the
    /// interactions Discord POSTs; needed in `http` mode.
    pub public_key: String,
    /// The gateway shards this process runs, `"FIRST-LAST/TOTAL"` (e.g. `"0-1/4"`) or
    /// `"SHARD/TOTAL"`, so several gateway processes split the servers between them; empty:
    /// one process, one shard.
    pub shards: String,
}

impl DiscordConfig {
    /// The shard range as (first, last, total), `None` when not set.
    pub fn shard_range(&self) -> Result<Option<(u32, u32, u32)>, String> {
        validate::shard_range(&self.shards)
    }
}

/// How interactions reach the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscordMode {
    /// A gateway connection (websocket) delivers them.
    Gateway,
    /// Discord POSTs them, signed, to the Interactions Endpoint URL: no gateway connection.
    Http,
}

impl DiscordMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DiscordMode::Gateway => "gateway",
            DiscordMode::Http => "http",
        }
    }
}

/// Where videos are made: the real provider, or a built-in simulation that spends nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderMode {
    Live,
    Simulate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedanceConfig {
    /// The provider's API key. Never printed.
    #[serde(deserialize_with = "secret_text")]
    pub api_key: SecretString,
    pub base_url: String,
    pub model: String,
    #[serde(with = "human_duration")]
    pub request_timeout: Duration,
    pub mode: ProviderMode,
    /// createTask calls allowed per `create_window`.
    pub create_per_window: u32,
    #[serde(with = "human_duration")]
    pub create_window: Duration,
    /// recordInfo calls allowed per second.
    pub status_per_second: u32,
    /// Tasks running upstream at once.
    pub max_running: u32,
    pub simulate: SimulateConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateConfig {
    /// How long a simulated task takes from creation to its end.
    #[serde(with = "human_duration")]
    pub duration: Duration,
    pub result_url: String,
    /// Share of simulated tasks that fail, from 0.0 to 1.0.
    pub failure_rate: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    #[serde(with = "human_duration")]
    pub poll_initial: Duration,
    #[serde(with = "human_duration")]
    pub poll_max: Duration,
    #[serde(with = "human_duration")]
    pub deadline: Duration,
    pub max_active_per_user: u32,
    /// The most createTask calls with an unknown outcome (timeout, 5xx, broken connection)
    /// one job may make before it fails and is refunded: each may start a paid task.
    pub create_attempts: u32,
    /// How long a job held for approval (`/video-admin approval`) waits for a decision
    /// before it is refunded.
    #[serde(with = "human_duration")]
    pub approval_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditsConfig {
    /// Credits per second of output video, by resolution.
    pub price_per_second: BTreeMap<Resolution, u64>,
    /// Credits per second added when the video has generated audio (`generate_audio`), by
    /// resolution: the provider bills the audio setting too.
    pub audio_price_per_second: BTreeMap<Resolution, u64>,
    /// Credits a member may spend per UTC day in a pool with no cap of its own; 0 = no cap.
    pub default_daily_cap: u64,
}

impl CreditsConfig {
    /// The price of a video (with the audio surcharge when `audio` is on), or `None` when a
    /// table has no entry for its resolution.
    pub fn price(&self, resolution: Resolution, seconds: u32, audio: bool) -> Option<u64> {
        let mut per_second = *self.price_per_second.get(&resolution)?;
        if audio {
            per_second = per_second.checked_add(*self.audio_price_per_second.get(&resolution)?)?;
        }
        per_second.checked_mul(u64::from(seconds))
    }

    /// The price per second of each resolution, with the audio surcharge, as members read
    /// it: `720p: 80/s (+80/s with audio)`.
    pub fn describe_prices(&self) -> Vec<String> {
        self.price_per_second
            .iter()
            .map(|(r, p)| match self.audio_price_per_second.get(r) {
                Some(&a) if a > 0 => format!("{r}: {p}/s (+{a}/s with audio)"),
                _ => format!("{r}: {p}/s"),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoConfig {
    pub default_resolution: Resolution,
    pub default_ratio: Ratio,
    pub default_duration: u32,
    pub min_duration: u32,
    pub max_duration: u32,
}

/// What one member may do: the per-member command rate limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersConfig {
    /// Commands a member may use per `command_window`; 0 turns the limit off.
    pub commands_per_window: u32,
    #[serde(with = "human_duration")]
    pub command_window: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Where the ledger, jobs and settings live: `sled` (the data directory, one process)
    /// or `postgres` (a database several processes share).
    pub backend: StorageBackend,
    /// The data directory holding the sled store.
    pub path: PathBuf,
    /// The most memory sled may use to cache the store, in MiB.
    pub cache_mb: u64,
    /// The PostgreSQL URL (`postgres://user:password@host/db`), also `DATABASE_URL`. A
    /// secret: shown only with its password masked.
    #[serde(deserialize_with = "secret_text")]
    pub postgres_url: SecretString,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Sled,
    Postgres,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port` for /healthz and /metrics; empty turns the endpoint off.
    pub listen: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    pub format: LogFormat,
}
