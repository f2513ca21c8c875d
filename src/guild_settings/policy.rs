//! The rules a server's settings impose on a job, checked before anything is charged.
//! Each refusal names the rule and says what to do.

use super::ServerSettings;
use crate::ids::ChannelId;
use crate::video::Resolution;

/// Why a server's settings refused a job; the text is shown to the member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsRefusal {
    #[error(
        "this server allows `/video` only in {allowed}: use it there (a server admin can change this with `/video-admin allow-channel`)"
    )]
    Channel { allowed: String },
    #[error(
        "this server allows videos up to {max} only: choose {max} or lower (a server admin can change this with `/video-admin limits`)"
    )]
    Resolution { max: Resolution },
    #[error(
        "this server allows videos up to {max} seconds only: choose a shorter duration (a server admin can change this with `/video-admin limits`)"
    )]
    Duration { max: u32 },
    #[error(
        "this server does not allow `web_search`: leave it off (a server admin can change this with `/video-admin web-search`)"
    )]
    WebSearch,
    #[error(
        "this server asks members to wait {cooldown_secs} s between videos: try again in {wait_secs} s"
    )]
    Cooldown { cooldown_secs: u64, wait_secs: u64 },
    #[error(
        "this server lets members with one of these roles make videos: {roles} (a server admin can change this with `/video-admin allow-role`)"
    )]
    Role { roles: String },
}

/// The channels a refusal lists, as Discord mentions.
pub fn channel_list(channels: &[ChannelId]) -> String {
    channels
        .iter()
        .map(|c| format!("<#{c}>"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The roles a refusal lists, as Discord mentions.
pub fn role_list(roles: &[u64]) -> String {
    roles
        .iter()
        .map(|r| format!("<@&{r}>"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a member's roles (as Discord lists them in the interaction, so a change counts from
/// the next command) against the roles allowed to make videos.
pub fn check_roles(settings: &ServerSettings, member_roles: &[u64]) -> Result<(), SettingsRefusal> {
    if settings.allowed_roles.is_empty()
        || member_roles
            .iter()
            .any(|r| settings.allowed_roles.contains(r))
    {
        Ok(())
    } else {
        Err(SettingsRefusal::Role {
            roles: role_list(&settings.allowed_roles),
        })
    }
}

/// Checks `channel` (or, for a thread, its `parent`) against the allowed channels.
pub fn check_channel(
    settings: &ServerSettings,
    channel: ChannelId,
    parent: Option<ChannelId>,
) -> Result<(), SettingsRefusal> {
    if settings.allows_channel(channel, parent) {
        Ok(())
    } else {
        Err(SettingsRefusal::Channel {
            allowed: channel_list(&settings.allowed_channels),
        })
    }
}

/// What a job asks for that a server's settings may limit: the plain fields [`check_job`]
/// reads. The jobs module calls the rules, so they take these rather than its request type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub resolution: Resolution,
    /// Seconds.
    pub duration: u32,
    pub web_search: bool,
}

/// Checks a job's parameters and the member's cooldown. `last_job_at` is when the member's
/// previous job in this server was made (unix ms), `now` the current time.
pub fn check_job(
    settings: &ServerSettings,
    req: Asked,
    last_job_at: Option<i64>,
    now: i64,
) -> Result<(), SettingsRefusal> {
    if let Some(max) = settings.max_resolution
        && req.resolution > max
    {
        return Err(SettingsRefusal::Resolution { max });
    }
    if let Some(max) = settings.max_duration
        && req.duration > max
    {
        return Err(SettingsRefusal::Duration { max });
    }
    if req.web_search && !settings.web_search_allowed {
        return Err(SettingsRefusal::WebSearch);
    }
    if settings.cooldown_secs > 0
        && let Some(last) = last_job_at
    {
        let ready_at =
            last.saturating_add(i64::try_from(settings.cooldown_secs * 1000).unwrap_or(i64::MAX));
        if now < ready_at {
            let wait_ms = u64::try_from(ready_at - now).unwrap_or(0);
            return Err(SettingsRefusal::Cooldown {
                cooldown_secs: settings.cooldown_secs,
                wait_secs: wait_ms.div_ceil(1000),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Asked {
        Asked {
            resolution: Resolution::P1080,
            duration: 10,
            web_search: true,
        }
    }

    #[test]
    fn each_setting_refuses_what_it_names() {
        let open = ServerSettings::new();
        assert_eq!(check_job(&open, request(), Some(0), 1), Ok(()));
        let s = ServerSettings {
            max_resolution: Some(Resolution::P720),
            ..ServerSettings::new()
        };
        assert!(matches!(
            check_job(&s, request(), None, 0),
            Err(SettingsRefusal::Resolution { .. })
        ));
        let s = ServerSettings {
            max_duration: Some(5),
            ..ServerSettings::new()
        };
        assert!(matches!(
            check_job(&s, request(), None, 0),
            Err(SettingsRefusal::Duration { max: 5 })
        ));
        let s = ServerSettings {
            web_search_allowed: false,
            ..ServerSettings::new()
        };
        assert_eq!(
            check_job(&s, request(), None, 0),
            Err(SettingsRefusal::WebSearch)
        );
        let s = ServerSettings {
            cooldown_secs: 60,
            ..ServerSettings::new()
        };
        assert_eq!(
            check_job(&s, request(), Some(1_000), 31_000),
            Err(SettingsRefusal::Cooldown {
                cooldown_secs: 60,
                wait_secs: 30
            })
        );
        assert_eq!(check_job(&s, request(), Some(1_000), 61_000), Ok(()));
    }

    #[test]
    fn a_thread_counts_as_its_parent_channel() {
        let s = ServerSettings {
            allowed_channels: vec![ChannelId(10)],
            ..ServerSettings::new()
        };
        assert!(check_channel(&s, ChannelId(10), None).is_ok());
        assert!(check_channel(&s, ChannelId(11), Some(ChannelId(10))).is_ok());
        let e = check_channel(&s, ChannelId(12), None).unwrap_err();
        assert!(e.to_string().contains("<#10>"), "{e}");
    }
}
