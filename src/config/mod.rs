//! The bot's configuration: one typed struct, layered defaults -> TOML file -> environment.
//!
//! Every key can be set as `SEEDANCE_BOT__SECTION__KEY`; the two secrets also as
//! `DISCORD_TOKEN` and `SEEDANCE_API_KEY`. Durations are human strings (`"250ms"`, `"3s"`).
//!
//! Here the root (`Config`, where it came from, the built-in defaults); its sections in
//! `sections.rs`; reading the layers in `load.rs` (and every problem at once in
//! `extract.rs`); how secrets and durations are written in `formats.rs`; cross-key checks
//! and ranges in `validate.rs`.

use std::path::PathBuf;

use secrecy::ExposeSecret;
use serde::Deserialize;

mod extract;
mod formats;
mod load;
mod sections;
mod validate;

pub use formats::human_duration;
pub use load::{ConfigError, DEFAULT_CONFIG_FILE, Problems};
pub use sections::{
    CreditsConfig, DiscordConfig, DiscordMode, HttpConfig, JobsConfig, LogFormat, LoggingConfig,
    MembersConfig, ProviderMode, SeedanceConfig, SimulateConfig, StorageBackend, StorageConfig,
    VideoConfig,
};
pub use validate::public_key;

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

/// The built-in defaults, as TOML: the single source of every default value (the same
/// keys and values `config.example.toml` documents).
const DEFAULTS: &str = include_str!("defaults.toml");

impl Config {
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

#[cfg(test)]
mod tests;
