//! The bot's configuration: one typed struct, layered defaults -> TOML file -> environment.
//!
//! Every key can be set as `SEEDANCE_BOT__SECTION__KEY`; the two secrets also as
//! `DISCORD_TOKEN` and `SEEDANCE_API_KEY`. Durations are human strings (`"250ms"`, `"3s"`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::video::{Ratio, Resolution};

mod extract;
mod validate;

pub use validate::public_key;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub discord: DiscordConfig,
    pub seedance: SeedanceConfig,
    pub jobs: JobsConfig,
    pub credits: CreditsConfig,
    pub video: VideoConfig,
    pub storage: StorageConfig,
    pub http: HttpConfig,
    pub logging: LoggingConfig,
    pub members: MembersConfig,
    /// Where the configuration came from (for the start line); not a key.
    #[serde(skip)]
    pub source: ConfigSource,
}

/// Where a configuration was read from; the environment always applies on top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConfigSource {
    /// No file: the built-in defaults.
    #[default]
    Defaults,
    /// This file (absolute path).
    File(PathBuf),
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::Defaults => f.write_str("built-in defaults + environment"),
            ConfigSource::File(path) => write!(f, "{} + environment", path.display()),
        }
    }
}

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

/// Why the configuration could not be used. The message names the key, the value and what
/// is allowed; it never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path} could not be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("invalid configuration{0}")]
    Invalid(Problems),
}

/// Every problem found, each "what is wrong: what to do".
#[derive(Debug)]
pub struct Problems(pub Vec<String>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, ": {one}"),
            many => {
                write!(f, ", {} problems:", many.len())?;
                for p in many {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// The built-in defaults, as TOML: the single source of every default value (the same
/// keys and values `config.example.toml` documents).
const DEFAULTS: &str = include_str!("defaults.toml");

impl Config {
    /// Loads defaults, then `file` (or `config.toml` when it exists), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        let source = match file {
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError::Unreadable {
                        path: path.to_owned(),
                        reason: "no such file".into(),
                    });
                }
                figment = figment.merge(Toml::file(path));
                ConfigSource::File(crate::store::absolute(path))
            }
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file(DEFAULT_CONFIG_FILE));
                ConfigSource::File(crate::store::absolute(Path::new(DEFAULT_CONFIG_FILE)))
            }
            None => ConfigSource::Defaults,
        };
        let mut config = Self::from_figment(figment.merge(environment()))?;
        config.source = source;
        Ok(config)
    }

    /// Loads from TOML text over the defaults, without the environment (for tests and tools).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(DEFAULTS)).merge(Toml::string(text)))
    }

    /// The defaults alone.
    pub fn defaults() -> Config {
        Self::from_toml("").expect("built-in defaults are valid")
    }

    fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let config = extract::all(figment, &mut problems);
        if let Some(config) = &config {
            problems.extend(config.problems());
        }
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError::Invalid(Problems(problems))),
        }
    }

    /// Problems that do not stop the CLI but stop the bot (a missing secret).
    pub fn missing_secrets(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.discord.token.expose_secret().trim().is_empty() {
            missing.push("discord.token (or DISCORD_TOKEN)");
        }
        if self.seedance.mode == ProviderMode::Live
            && self.seedance.api_key.expose_secret().trim().is_empty()
        {
            missing.push("seedance.api_key (or SEEDANCE_API_KEY)");
        }
        missing
    }
}

/// The environment's layer. Secrets are taken as the exact text of their variables: figment
/// would read `12345678` as a number (and refuse it as a string) or `0123` as 123.
fn environment() -> Figment {
    let mut figment = Figment::new().merge(
        Env::prefixed("SEEDANCE_BOT__")
            .filter(|k| {
                !k.as_str().eq_ignore_ascii_case("discord__token")
                    && !k.as_str().eq_ignore_ascii_case("seedance__api_key")
                    && !k.as_str().eq_ignore_ascii_case("storage__postgres_url")
            })
            .split("__"),
    );
    for (var, key) in [
        ("SEEDANCE_BOT__DISCORD__TOKEN", "discord.token"),
        ("DISCORD_TOKEN", "discord.token"),
        ("SEEDANCE_BOT__SEEDANCE__API_KEY", "seedance.api_key"),
        ("SEEDANCE_API_KEY", "seedance.api_key"),
        ("DATABASE_URL", "storage.postgres_url"),
        (
            "SEEDANCE_BOT__STORAGE__POSTGRES_URL",
            "storage.postgres_url",
        ),
    ] {
        if let Ok(text) = std::env::var(var) {
            figment = figment.merge(Serialized::default(key, text));
        }
    }
    figment
}

/// A secret written as text, or as a whole number (an unquoted `12345678` in the file):
/// both are the same characters. Its value never appears in an error.
fn secret_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    match Written::deserialize(d) {
        Ok(Written::Text(s)) => Ok(SecretString::from(s)),
        Ok(Written::Unsigned(n)) => Ok(SecretString::from(n.to_string())),
        Ok(Written::Signed(n)) => Ok(SecretString::from(n.to_string())),
        Err(_) => Err(serde::de::Error::custom(
            "it must be text: write it in quotes (it is never shown)",
        )),
    }
}

/// Durations written as human strings: "250ms", "3s", "30m", "1h 30m".
pub mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim()).map_err(|e| {
            D::Error::custom(format!(
                "`{text}` is not a duration ({e}); write it like \"250ms\", \"3s\", \"30m\" or \"1h\""
            ))
        })
    }

    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*value).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses_and_documents_every_default() {
        let text = include_str!("../../config.example.toml");
        let example = Config::from_toml(text).expect("config.example.toml must parse");
        let defaults = Config::defaults();
        // The example shows the defaults: loading it must change nothing.
        assert_eq!(format!("{example:?}"), format!("{defaults:?}"));
        // Every key of the built-in defaults is written in the example.
        let documented: toml_keys::Keys = toml_keys::collect(text);
        for key in toml_keys::collect(DEFAULTS) {
            assert!(
                documented.contains(&key),
                "config.example.toml does not document `{key}`"
            );
        }
    }

    /// Dotted key paths of a TOML document, e.g. `jobs.poll_initial`.
    mod toml_keys {
        pub type Keys = Vec<String>;

        pub fn collect(text: &str) -> Keys {
            let value: toml::Value = toml::from_str(text).expect("valid TOML");
            let mut keys = Vec::new();
            walk(&value, "", &mut keys);
            keys
        }

        fn walk(value: &toml::Value, prefix: &str, keys: &mut Keys) {
            if let toml::Value::Table(table) = value {
                for (k, v) in table {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(v, &path, keys);
                    keys.push(path);
                }
            }
        }
    }

    #[test]
    fn http_mode_needs_a_valid_public_key_and_an_address() {
        let c = Config::defaults();
        assert_eq!(c.discord.mode, DiscordMode::Gateway);
        assert_eq!(c.discord.public_key, "");

        let err = Config::from_toml("[discord]\nmode = \"http\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`discord.public_key` is ``"), "{err}");
        assert!(err.contains("64 hex digits"), "{err}");
        assert!(err.contains("`http.listen` is empty"), "{err}");

        let not_hex = "zz".repeat(32);
        let err = Config::from_toml(&format!(
            "[discord]\nmode = \"http\"\npublic_key = \"{not_hex}\"\n[http]\nlisten = \"127.0.0.1:0\""
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("discord.public_key"), "{err}");
        assert!(err.contains("hex digits only"), "{err}");
        assert!(!err.contains("http.listen"), "{err}");

        let err = Config::from_toml("[discord]\nmode = \"webhook\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("discord.mode"), "{err}");

        // The key of RFC 8032's first test vector.
        let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        let c = Config::from_toml(&format!(
            "[discord]\nmode = \"http\"\npublic_key = \"{key}\"\n[http]\nlisten = \"127.0.0.1:0\""
        ))
        .expect("a valid http configuration");
        assert_eq!(c.discord.mode, DiscordMode::Http);
        assert_eq!(public_key(key).map(|k| k[0]), Ok(0xd7));
        // A key is not checked in gateway mode.
        Config::from_toml("[discord]\npublic_key = \"nope\"").expect("gateway ignores it");
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = Config::defaults();
        assert_eq!(c.seedance.base_url, "https://aigptimage.com");
        assert_eq!(c.seedance.model, "seedance-2.0-reference-to-video");
        assert_eq!(c.credits.price(Resolution::P480, 1, false), Some(40));
        assert_eq!(c.credits.price(Resolution::P720, 5, false), Some(400));
        assert_eq!(c.credits.price(Resolution::P1080, 10, false), Some(1600));
        // Audio adds its own per-second price.
        assert_eq!(c.credits.price(Resolution::P720, 5, true), Some(800));
        assert_eq!(c.jobs.poll_initial, Duration::from_secs(3));
        assert_eq!(c.video.default_ratio, Ratio::Landscape);
    }

    #[test]
    fn bad_duration_names_key_value_and_form() {
        let err = Config::from_toml("[jobs]\npoll_initial = \"soon\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("jobs.poll_initial"), "{err}");
        assert!(err.contains("soon"), "{err}");
        assert!(err.contains("\"250ms\""), "{err}");
    }

    #[test]
    fn bad_enum_and_range_are_named() {
        let err = Config::from_toml("[video]\ndefault_resolution = \"4k\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("video.default_resolution"), "{err}");
        let err = Config::from_toml("[video]\ndefault_duration = 60")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("video.default_duration")
                && err.contains("60")
                && err.contains("between 4 and 15"),
            "{err}"
        );
        let err = Config::from_toml("[jobs]\nmax_active = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_active"), "{err}");
    }

    /// The trap: only the first problem was reported, in serde's words.
    #[test]
    fn every_problem_is_reported_at_once_in_plain_words() {
        let err = Config::from_toml(
            "[video]\nmax_duration = -5\n[jobs]\nmax_active = 3\n[members]\ncommand_window = \"0s\"\n[storage]\npath = \"\"\n[seedance]\nmode = \"dry\"",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("invalid configuration, 5 problems:"),
            "{err}"
        );
        assert!(
            err.contains("`video.max_duration` is -5, but it must be a whole number, 0 or more"),
            "{err}"
        );
        assert!(
            err.contains(
                "`jobs.max_active` is not a setting: remove it, or use one of jobs.poll_initial,"
            ),
            "{err}"
        );
        assert!(err.contains("`members.command_window` is 0s"), "{err}");
        assert!(err.contains("`storage.path` is empty"), "{err}");
        assert!(
            err.contains("`seedance.mode` is \"dry\", but it must be one of live, simulate"),
            "{err}"
        );
        assert!(!err.contains("``"), "nested backticks: {err}");
    }

    #[test]
    fn numbers_are_range_checked() {
        let err = Config::from_toml("[video]\nmax_duration = 60")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "`video.max_duration` is 60, but the provider makes videos of 4 to 15 seconds"
            ),
            "{err}"
        );
        let err = Config::from_toml("[jobs]\nmax_active_per_user = 1000")
            .unwrap_err()
            .to_string();
        assert!(err.contains("between 1 and 100"), "{err}");
        let err = Config::from_toml("[credits.audio_price_per_second]\n720p = 2000000")
            .unwrap_err()
            .to_string();
        assert!(err.contains("credits.audio_price_per_second.720p"), "{err}");
        // A zero-length window is fine when the limit is off anyway.
        Config::from_toml("[members]\ncommands_per_window = 0\ncommand_window = \"0s\"").unwrap();
    }

    #[test]
    fn a_host_name_listen_and_a_number_like_secret_are_accepted() {
        let c = Config::from_toml(
            "[http]\nlisten = \"localhost:8080\"\n[seedance]\napi_key = 12345678",
        )
        .unwrap();
        assert_eq!(c.seedance.api_key.expose_secret(), "12345678");
        assert!(Config::from_toml("[http]\nlisten = \"8080\"").is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_or_errors() {
        let c = Config::from_toml(
            "[discord]\ntoken = \"tok-SECRET-1\"\n[seedance]\napi_key = \"key-SECRET-2\"",
        )
        .unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        let err = Config::from_toml("[seedance]\napi_key = 12345.678")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("12345"), "{err}");
        assert!(err.contains("seedance.api_key` must be text"), "{err}");
    }
}
