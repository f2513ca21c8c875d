//! Reading the configuration: the built-in defaults, then the file, then the environment
//! (secrets as the exact text of their variables), and the error naming every problem.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

use super::{Config, ConfigSource, DEFAULTS, extract};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

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
