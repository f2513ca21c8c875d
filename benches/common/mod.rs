//! What the job benchmarks share: the knobs from the environment, one member's plain
//! video request, percentiles.

use std::time::Duration;

use seedance_bot::ids::{ChannelId, GuildId, MemberId};
use seedance_bot::jobs::JobRequest;
use seedance_bot::video::{Ratio, Resolution};

/// `name` from the environment as a number, else `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One member's plain 480p, 5 s video in server 1.
pub fn request(key: String, member: u64) -> JobRequest {
    JobRequest {
        key,
        guild: GuildId(1),
        member: MemberId(member),
        channel: ChannelId(1),
        prompt: "a lighthouse at dusk, slow dolly in".into(),
        references: vec![],
        resolution: Resolution::P480,
        ratio: Ratio::Landscape,
        duration: 5,
        generate_audio: false,
        web_search: false,
        nsfw_checker: true,
        roles: vec![],
        interaction: None,
    }
}

/// The value at fraction `p` of `sorted`.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
