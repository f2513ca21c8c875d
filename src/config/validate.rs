//! Checks across keys that types alone cannot express; each message names the key, the bad
//! value and what is allowed.

use crate::video::Resolution;

use super::{Config, ConfigError};

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, value: &dyn std::fmt::Display, allowed: &str| {
            Err(ConfigError::Invalid(format!(
                "`{key}` is {value}, but {allowed}"
            )))
        };
        let v = &self.video;
        if v.min_duration == 0 || v.min_duration > v.max_duration {
            return bad(
                "video.min_duration",
                &v.min_duration,
                &format!(
                    "it must be at least 1 and at most video.max_duration ({})",
                    v.max_duration
                ),
            );
        }
        if !(v.min_duration..=v.max_duration).contains(&v.default_duration) {
            return bad(
                "video.default_duration",
                &v.default_duration,
                &format!(
                    "it must be between {} and {}",
                    v.min_duration, v.max_duration
                ),
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
                    None => {
                        return bad(
                            &format!("credits.{table}.{r}"),
                            &"missing",
                            "every resolution (480p, 720p, 1080p) needs a price",
                        );
                    }
                    Some(&p)
                        if self.credits.price(r, v.max_duration, true).is_none()
                            || p > 1_000_000 =>
                    {
                        return bad(
                            &format!("credits.{table}.{r}"),
                            &p,
                            "it must be at most 1000000",
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        let j = &self.jobs;
        if j.poll_initial.is_zero() || j.poll_initial > j.poll_max {
            return bad(
                "jobs.poll_initial",
                &humantime::format_duration(j.poll_initial),
                "it must be more than 0 and at most jobs.poll_max",
            );
        }
        if j.deadline < j.poll_max {
            return bad(
                "jobs.deadline",
                &humantime::format_duration(j.deadline),
                "it must be at least jobs.poll_max",
            );
        }
        if j.max_active_per_user == 0 {
            return bad("jobs.max_active_per_user", &0, "it must be at least 1");
        }
        let s = &self.seedance;
        if url::Url::parse(&s.base_url)
            .map(|u| !matches!(u.scheme(), "http" | "https"))
            .unwrap_or(true)
        {
            return bad(
                "seedance.base_url",
                &format!("`{}`", s.base_url),
                "it must be an http(s) URL",
            );
        }
        if s.model.trim().is_empty() {
            return bad("seedance.model", &"empty", "it must name the model");
        }
        if s.request_timeout.is_zero() {
            return bad("seedance.request_timeout", &"0s", "it must be more than 0");
        }
        for (key, value) in [
            ("seedance.create_per_window", s.create_per_window),
            ("seedance.status_per_second", s.status_per_second),
            ("seedance.max_running", s.max_running),
        ] {
            if value == 0 {
                return bad(key, &0, "it must be at least 1");
            }
        }
        if s.create_window.is_zero() {
            return bad("seedance.create_window", &"0s", "it must be more than 0");
        }
        if !(0.0..=1.0).contains(&s.simulate.failure_rate) {
            return bad(
                "seedance.simulate.failure_rate",
                &s.simulate.failure_rate,
                "it must be between 0.0 and 1.0",
            );
        }
        let d = &self.discord;
        if !d.api_base_url.is_empty()
            && url::Url::parse(&d.api_base_url)
                .map(|u| !matches!(u.scheme(), "http" | "https"))
                .unwrap_or(true)
        {
            return bad(
                "discord.api_base_url",
                &format!("`{}`", d.api_base_url),
                "it must be empty (Discord itself) or an http(s) URL",
            );
        }
        if !self.http.listen.is_empty() && self.http.listen.parse::<std::net::SocketAddr>().is_err()
        {
            return bad(
                "http.listen",
                &format!("`{}`", self.http.listen),
                "it must be empty or host:port, e.g. 0.0.0.0:8080",
            );
        }
        Ok(())
    }
}
