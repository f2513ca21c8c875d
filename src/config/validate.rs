//! Checks across keys that types alone cannot express, and the ranges numbers must stay in.
//! Every problem is collected (an operator fixes them all in one go); each names the key,
//! the bad value and what is allowed.

use std::time::Duration;

use crate::video::Resolution;

use super::Config;

/// The provider's documented output durations, in seconds (Seedance 2.0: 4 to 15 s).
pub const PROVIDER_DURATIONS: std::ops::RangeInclusive<u32> = 4..=15;
/// The most credits per second a price table may ask (keeps every price far from overflow).
pub const MAX_PRICE_PER_SECOND: u64 = 1_000_000;

impl Config {
    /// Every problem with the values, in key order of the file; empty when all is well.
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, value: &dyn std::fmt::Display, allowed: &str| {
            problems.push(format!("`{key}` is {value}, but {allowed}"));
        };
        let secs = |d: Duration| humantime::format_duration(d).to_string();

        let d = &self.discord;
        if !d.api_base_url.is_empty() && !http_url(&d.api_base_url) {
            bad(
                "discord.api_base_url",
                &format!("`{}`", d.api_base_url),
                "it must be empty (Discord itself) or an http(s) URL",
            );
        }
        for (key, ids) in [
            ("discord.command_guild_ids", &d.command_guild_ids),
            ("discord.owner_ids", &d.owner_ids),
        ] {
            if ids.contains(&0) {
                bad(
                    key,
                    &"0 in the list",
                    "Discord ids are never 0: copy them with Developer Mode on",
                );
            }
        }
        match shard_range(&d.shards) {
            Err(why) => bad("discord.shards", &format!("`{}`", d.shards), &why),
            Ok(Some(_)) if d.mode == super::DiscordMode::Http => bad(
                "discord.shards",
                &format!("`{}`", d.shards),
                "shards are gateway connections: in http mode leave it empty (Discord spreads interactions over the endpoint's instances)",
            ),
            Ok(_) => {}
        }
        if d.mode == super::DiscordMode::Http {
            if let Err(why) = public_key(&d.public_key) {
                bad(
                    "discord.public_key",
                    &format!("`{}`", d.public_key),
                    &format!(
                        "discord.mode = \"http\" needs the application's public key from the developer portal (General Information): {why}"
                    ),
                );
            }
            if self.http.listen.trim().is_empty() {
                bad(
                    "http.listen",
                    &"empty",
                    "discord.mode = \"http\" serves /interactions there: set host:port (e.g. \"0.0.0.0:8080\")",
                );
            }
        }

        let s = &self.seedance;
        if !http_url(&s.base_url) {
            bad(
                "seedance.base_url",
                &format!("`{}`", s.base_url),
                "it must be an http(s) URL",
            );
        }
        if s.model.trim().is_empty() {
            bad("seedance.model", &"empty", "it must name the model");
        }
        if s.request_timeout.is_zero() || s.request_timeout > Duration::from_secs(600) {
            bad(
                "seedance.request_timeout",
                &secs(s.request_timeout),
                "it must be more than 0s and at most 10m",
            );
        }
        // The upper bounds only catch a slip of the keyboard; a gateway or a fleet may
        // allow far more than one provider account does.
        for (key, value, most) in [
            ("seedance.create_per_window", s.create_per_window, 100_000),
            ("seedance.status_per_second", s.status_per_second, 10_000),
            ("seedance.max_running", s.max_running, 1_000_000),
        ] {
            if !(1..=most).contains(&value) {
                bad(key, &value, &format!("it must be between 1 and {most}"));
            }
        }
        if s.create_window.is_zero() {
            bad("seedance.create_window", &"0s", "it must be more than 0s");
        }
        if !(0.0..=1.0).contains(&s.simulate.failure_rate) {
            bad(
                "seedance.simulate.failure_rate",
                &s.simulate.failure_rate,
                "it must be between 0.0 and 1.0",
            );
        }
        if !http_url(&s.simulate.result_url) {
            bad(
                "seedance.simulate.result_url",
                &format!("`{}`", s.simulate.result_url),
                "it must be an http(s) URL",
            );
        }

        let j = &self.jobs;
        if j.poll_initial.is_zero() || j.poll_initial > j.poll_max {
            bad(
                "jobs.poll_initial",
                &secs(j.poll_initial),
                &format!(
                    "it must be more than 0s and at most jobs.poll_max ({})",
                    secs(j.poll_max)
                ),
            );
        }
        if j.deadline < j.poll_max {
            bad(
                "jobs.deadline",
                &secs(j.deadline),
                &format!("it must be at least jobs.poll_max ({})", secs(j.poll_max)),
            );
        }
        if !(1..=100).contains(&j.max_active_per_user) {
            bad(
                "jobs.max_active_per_user",
                &j.max_active_per_user,
                "it must be between 1 and 100",
            );
        }
        if j.approval_timeout.is_zero() || j.approval_timeout > Duration::from_secs(30 * 86_400) {
            bad(
                "jobs.approval_timeout",
                &secs(j.approval_timeout),
                "it must be more than 0s and at most 30 days",
            );
        }
        if !(1..=10).contains(&j.create_attempts) {
            bad(
                "jobs.create_attempts",
                &j.create_attempts,
                "it must be between 1 and 10 (each try may start a paid task upstream)",
            );
        }

        for (table, prices) in [
            ("price_per_second", &self.credits.price_per_second),
            (
                "audio_price_per_second",
                &self.credits.audio_price_per_second,
            ),
        ] {
            for r in Resolution::ALL {
                match prices.get(&r) {
                    None => bad(
                        &format!("credits.{table}.{r}"),
                        &"missing",
                        "every resolution (480p, 720p, 1080p) needs a price",
                    ),
                    Some(&p) if p > MAX_PRICE_PER_SECOND => bad(
                        &format!("credits.{table}.{r}"),
                        &p,
                        &format!("it must be at most {MAX_PRICE_PER_SECOND}"),
                    ),
                    Some(_) => {}
                }
            }
        }

        let v = &self.video;
        let (lo, hi) = (*PROVIDER_DURATIONS.start(), *PROVIDER_DURATIONS.end());
        for (key, value) in [
            ("video.min_duration", v.min_duration),
            ("video.max_duration", v.max_duration),
        ] {
            if !PROVIDER_DURATIONS.contains(&value) {
                bad(
                    key,
                    &value,
                    &format!(
                        "the provider makes videos of {lo} to {hi} seconds: set it within that"
                    ),
                );
            }
        }
        if v.min_duration > v.max_duration {
            bad(
                "video.min_duration",
                &v.min_duration,
                &format!("it must be at most video.max_duration ({})", v.max_duration),
            );
        } else if !(v.min_duration..=v.max_duration).contains(&v.default_duration) {
            bad(
                "video.default_duration",
                &v.default_duration,
                &format!(
                    "it must be between {} and {}",
                    v.min_duration, v.max_duration
                ),
            );
        }

        let m = &self.members;
        if m.commands_per_window > 0 && m.command_window.is_zero() {
            bad(
                "members.command_window",
                &"0s",
                "a window of 0s would turn the rate limit off unseen: give it a length like \"10s\", or set members.commands_per_window = 0 to turn the limit off",
            );
        }
        if m.commands_per_window > 1000 {
            bad(
                "members.commands_per_window",
                &m.commands_per_window,
                "it must be between 0 (no limit) and 1000",
            );
        }

        if !(1..=65_536).contains(&self.storage.cache_mb) {
            bad(
                "storage.cache_mb",
                &self.storage.cache_mb,
                "it must be between 1 and 65536 (MiB)",
            );
        }
        if self.storage.path.as_os_str().is_empty() {
            bad(
                "storage.path",
                &"empty",
                "it must name the data directory (e.g. \"data\" or \"/var/lib/seedance-bot\"); empty would scatter the store's files in the working directory",
            );
        }
        if self.storage.backend == super::StorageBackend::Postgres {
            use secrecy::ExposeSecret;
            let url = self.storage.postgres_url.expose_secret().trim();
            if url.is_empty() {
                bad(
                    "storage.postgres_url",
                    &"empty",
                    "storage.backend is \"postgres\": set the database URL (postgres://user:password@host:5432/db), here or in DATABASE_URL",
                );
            } else if url.parse::<postgres::Config>().is_err() {
                bad(
                    "storage.postgres_url",
                    &crate::store::postgres::mask_url(url),
                    "it must be a PostgreSQL URL: postgres://user:password@host:5432/db",
                );
            }
        }
        if !self.http.listen.is_empty() && !host_port(&self.http.listen) {
            bad(
                "http.listen",
                &format!("`{}`", self.http.listen),
                "it must be empty or host:port, e.g. 0.0.0.0:8080 or localhost:8080",
            );
        }
        problems
    }
}

fn http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// `host:port` with a port number: an address (`0.0.0.0:8080`, `[::]:8080`) or a name
/// (`localhost:8080`), resolved when the bot binds it.
pub fn host_port(text: &str) -> bool {
    if text.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    match text.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && port.parse::<u16>().is_ok()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        }
        None => false,
    }
}

/// The application's public key from its hex form: 64 hex digits making a valid Ed25519
/// public key.
/// `"FIRST-LAST/TOTAL"` or `"SHARD/TOTAL"` as (first, last, total); empty is `None`.
pub fn shard_range(text: &str) -> Result<Option<(u32, u32, u32)>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        format!(
            "`{text}` is not a shard range: write FIRST-LAST/TOTAL (e.g. \"0-1/4\") or SHARD/TOTAL, with FIRST <= LAST < TOTAL"
        )
    };
    let (range, total) = text.split_once('/').ok_or_else(bad)?;
    let total: u32 = total.trim().parse().map_err(|_| bad())?;
    let (first, last) = match range.split_once('-') {
        Some((a, b)) => (a.trim().parse::<u32>(), b.trim().parse::<u32>()),
        None => (range.trim().parse::<u32>(), range.trim().parse::<u32>()),
    };
    let (first, last) = (first.map_err(|_| bad())?, last.map_err(|_| bad())?);
    if total == 0 || first > last || last >= total {
        return Err(bad());
    }
    Ok(Some((first, last, total)))
}

pub fn public_key(hex: &str) -> Result<[u8; 32], String> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return Err(format!(
            "it must be 64 hex digits (32 bytes), not {}",
            hex.len()
        ));
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = hex
            .get(2 * i..2 * i + 2)
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            .ok_or("it must hold hex digits only (0-9, a-f)")?;
    }
    serenity::interactions_endpoint::Verifier::try_new(key)
        .map_err(|_| "it is not a valid Ed25519 public key".to_owned())?;
    Ok(key)
}

#[cfg(test)]
mod shard_tests {
    use super::shard_range;

    #[test]
    fn shard_ranges_are_first_last_total() {
        assert_eq!(shard_range(""), Ok(None));
        assert_eq!(shard_range("0-1/4"), Ok(Some((0, 1, 4))));
        assert_eq!(shard_range(" 3/4 "), Ok(Some((3, 3, 4))));
        for bad in ["4/4", "2-1/4", "0-1", "a-b/4", "0/0", "1-5/4"] {
            let err = shard_range(bad).unwrap_err();
            assert!(err.contains("FIRST-LAST/TOTAL"), "{bad}: {err}");
        }
    }
}
