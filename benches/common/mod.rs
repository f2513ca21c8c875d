//! What the benchmarks share: the knobs from the environment, one member's plain video
//! request, percentiles, a process's memory and CPU time. Not every bench uses every piece.

#![allow(dead_code)]

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

/// Resident memory of process `pid` (`self` for this one), in MiB.
pub fn rss_mib(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) process `pid` (`self` for this one) has used.
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime 11, stime 12 (clock ticks, 100/s).
    (ticks(11) + ticks(12)) / 100.0
}
