//! Per-server settings chosen by a server's admins, stored in their own sled tree, and the
//! in-memory per-member command rate limit. Knows nothing of Discord.
//!
//! - [`ServerSettings`]: where `/video` may be used, the largest video allowed, the
//!   defaults, the cooldown between a member's jobs, `web_search`, the content filter, the
//!   roles whose members may make videos, the language of the server's public messages, and
//!   the price above which a job waits for approval (and who may give it).
//! - [`policy`]: the rules those settings impose on a job, each refusal saying what to do.
//! - [`rate`]: a token bucket per member for commands.

pub mod policy;
pub mod rate;

use crate::store::{Store, TxFail};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::ids::{ChannelId, GuildId};
use crate::video::{Ratio, Resolution};

pub use policy::SettingsRefusal;
pub use rate::{CommandRate, RateLimited};

/// The sled tree holding one [`SettingsRecord`] per server, keyed by the guild id (big endian).
pub const TREE: &str = "guild_settings";
/// The layout version of stored settings.
pub const SETTINGS_VERSION: u32 = 1;

/// When the provider's content filter (`nsfw_checker`) may be off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentFilter {
    /// On for every job (the default).
    #[default]
    Always,
    /// Off for jobs asked for in age-restricted channels; on everywhere else.
    OffInAgeRestricted,
}

impl ContentFilter {
    /// Whether the filter is on for a job asked for in a channel that is (or is not)
    /// age-restricted.
    pub fn applies(self, age_restricted_channel: bool) -> bool {
        !(self == ContentFilter::OffInAgeRestricted && age_restricted_channel)
    }
}

/// A server's settings. The default is "no restriction beyond the bot's configuration".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Channels where `/video` may be used (a thread counts as its parent); empty = all.
    pub allowed_channels: Vec<ChannelId>,
    pub max_resolution: Option<Resolution>,
    /// Longest video in seconds.
    pub max_duration: Option<u32>,
    pub default_resolution: Option<Resolution>,
    pub default_ratio: Option<Ratio>,
    pub default_duration: Option<u32>,
    /// Seconds a member waits between starting two jobs; 0 = none.
    pub cooldown_secs: u64,
    /// Whether members may ask for `web_search`.
    pub web_search_allowed: bool,
    pub content_filter: ContentFilter,
    /// Roles whose members may use `/video` and "Run again" (any one of them); empty =
    /// everyone.
    #[serde(default)]
    pub allowed_roles: Vec<u64>,
    /// The language of the server's public messages, as its admins chose it; `None`: the
    /// server's own Discord locale, else English.
    #[serde(default)]
    pub language: Option<Lang>,
    /// The server's Discord locale as last seen in an interaction (`guild_locale`), so
    /// messages sent without one (the job's updates) can follow it.
    #[serde(default)]
    pub guild_locale: Option<String>,
    /// Jobs costing more than this many credits wait for a decision by a member with
    /// Manage Server (or the approver role) before they are queued; 0 = never.
    #[serde(default)]
    pub approval_above: u64,
    /// The role whose members may approve or reject held jobs, besides Manage Server.
    #[serde(default)]
    pub approver_role: Option<u64>,
}

impl ServerSettings {
    /// The settings a server has before its admins change anything.
    pub fn new() -> ServerSettings {
        ServerSettings {
            web_search_allowed: true,
            ..ServerSettings::default()
        }
    }

    /// Whether a job costing `cost` credits waits for approval before it is queued.
    pub fn needs_approval(&self, cost: u64) -> bool {
        self.approval_above > 0 && cost > self.approval_above
    }

    /// Whether `/video` may be used in `channel` (or, for a thread, in its `parent`).
    pub fn allows_channel(&self, channel: ChannelId, parent: Option<ChannelId>) -> bool {
        self.allowed_channels.is_empty()
            || self.allowed_channels.contains(&channel)
            || parent.is_some_and(|p| self.allowed_channels.contains(&p))
    }
}

/// The stored form: the settings with their layout version.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SettingsRecord {
    version: u32,
    settings: ServerSettings,
}

/// Why settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("server settings could not be stored: {0}")]
    Storage(#[from] crate::store::StorageError),
    #[error("stored server settings are unreadable (server {guild}): {source}")]
    Corrupt {
        guild: GuildId,
        source: serde_json::Error,
    },
    #[error(
        "stored server settings have layout {found}, newer than this build reads ({SETTINGS_VERSION})"
    )]
    TooNew { found: u32 },
}

/// The settings of every server, and the command rate limit. Cheap to clone.
#[derive(Clone)]
pub struct GuildSettings {
    store: Store,
    tree: crate::store::Tree,
    rate: std::sync::Arc<CommandRate>,
}

impl From<sled::Error> for SettingsError {
    fn from(e: sled::Error) -> SettingsError {
        SettingsError::Storage(e.into())
    }
}

impl GuildSettings {
    /// Opens the settings tree of `store` (the store the ledger uses), with `rate` for
    /// commands.
    pub fn open(
        store: impl Into<Store>,
        rate: CommandRate,
    ) -> Result<GuildSettings, SettingsError> {
        let store = store.into();
        Ok(GuildSettings {
            tree: store.tree(TREE)?,
            store,
            rate: std::sync::Arc::new(rate),
        })
    }

    /// The per-member command rate limit.
    pub fn command_rate(&self) -> &CommandRate {
        &self.rate
    }

    /// A server's settings ([`ServerSettings::new`] until changed).
    pub fn get(&self, guild: GuildId) -> Result<ServerSettings, SettingsError> {
        match self.tree.get(guild.0.to_be_bytes())? {
            Some(bytes) => decode(guild, &bytes),
            None => Ok(ServerSettings::new()),
        }
    }

    /// Changes a server's settings with `change` and returns them, durably written.
    #[tracing::instrument(skip_all, fields(guild = guild.0))]
    pub async fn update(
        &self,
        guild: GuildId,
        change: impl Fn(&mut ServerSettings) + Send + Sync + 'static,
    ) -> Result<ServerSettings, SettingsError> {
        let store = self.store.clone();
        let key = guild.0.to_be_bytes();
        let changed = tokio::task::spawn_blocking(move || {
            store.transact(&[TREE], |kv| {
                let mut settings = match kv.get(0, &key)? {
                    Some(bytes) => decode(guild, &bytes).map_err(TxFail::Abort)?,
                    None => ServerSettings::new(),
                };
                change(&mut settings);
                kv.insert(0, &key, &encode(&settings))?;
                Ok(settings)
            })
        })
        .await
        .map_err(|e| SettingsError::Storage(std::io::Error::other(e.to_string()).into()))?
        .map_err(|fail| match fail {
            TxFail::Abort(e) => e,
            TxFail::Storage(e) => SettingsError::Storage(e),
            TxFail::Conflict => {
                SettingsError::Storage(std::io::Error::other("conflicting writes").into())
            }
        })?;
        self.store.flush().await?;
        tracing::info!("server settings changed");
        Ok(changed)
    }
}

fn encode(settings: &ServerSettings) -> Vec<u8> {
    serde_json::to_vec(&SettingsRecord {
        version: SETTINGS_VERSION,
        settings: settings.clone(),
    })
    .expect("settings always serialize")
}

fn decode(guild: GuildId, bytes: &[u8]) -> Result<ServerSettings, SettingsError> {
    let record: SettingsRecord =
        serde_json::from_slice(bytes).map_err(|source| SettingsError::Corrupt { guild, source })?;
    if record.version > SETTINGS_VERSION {
        return Err(SettingsError::TooNew {
            found: record.version,
        });
    }
    Ok(record.settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_survive_a_reopen_and_start_unrestricted() {
        let dir = tempfile::tempdir().unwrap();
        let guild = GuildId(7);
        {
            let db = crate::store::open(dir.path()).unwrap();
            let s =
                GuildSettings::open(&db, CommandRate::new(5, std::time::Duration::from_secs(10)))
                    .unwrap();
            let fresh = s.get(guild).unwrap();
            assert!(fresh.web_search_allowed && fresh.allowed_channels.is_empty());
            s.update(guild, |s| s.cooldown_secs = 60).await.unwrap();
        }
        let db = crate::store::open(dir.path()).unwrap();
        let s = GuildSettings::open(&db, CommandRate::new(5, std::time::Duration::from_secs(10)))
            .unwrap();
        assert_eq!(s.get(guild).unwrap().cooldown_secs, 60);
        assert_eq!(s.get(GuildId(8)).unwrap(), ServerSettings::new());
    }

    #[test]
    fn the_filter_is_off_only_when_allowed_and_age_restricted() {
        assert!(ContentFilter::Always.applies(true));
        assert!(ContentFilter::OffInAgeRestricted.applies(false));
        assert!(!ContentFilter::OffInAgeRestricted.applies(true));
    }
}
