//! The two store backends side by side, in one run: a burst of BURST members submitting a
//! `/video` at once (each submission's time from the start of the burst to its answer,
//! the admit transaction included), on sled and on PostgreSQL (the tests' throwaway server,
//! or `DATABASE_URL`). Medians of RUNS runs.
//!
//! Run: `cargo bench --bench store` (BURST=500 RUNS=3 to change).

#[path = "../tests/it/support/fake_provider.rs"]
mod fake_provider;
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_provider::{FakeProvider, Step};
use futures::future::BoxFuture;
use seedance_bot::config::Config;
use seedance_bot::credits::{Actor, Ledger, LedgerSettings};
use seedance_bot::ids::{ChannelId, GuildId, MemberId};
use seedance_bot::jobs::{
    JobEvent, JobRecord, JobRequest, Jobs, JobsSettings, Provider, ReportError, Reporter,
};
use seedance_bot::store::Store;
use seedance_bot::video::{Ratio, Resolution};

struct Quiet;

impl Reporter for Quiet {
    fn report<'a>(
        &'a self,
        _job: &'a JobRecord,
        _event: JobEvent,
    ) -> BoxFuture<'a, Result<(), ReportError>> {
        Box::pin(async { Ok(()) })
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn request(key: String, member: u64) -> JobRequest {
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// One burst on `store`: (p50, p99, all answered) in ms.
async fn burst(store: Store, provider_url: &str, size: usize) -> (f64, f64, f64) {
    let config = Arc::new(
        Config::from_toml(&format!(
            "[seedance]\napi_key = \"sk-bench\"\nbase_url = \"{provider_url}\"\ncreate_per_window = 100000\ncreate_window = \"1s\"\nmax_running = 100000\n[jobs]\npoll_initial = \"30s\"\npoll_max = \"60s\"\ndeadline = \"2h\"\n"
        ))
        .unwrap(),
    );
    let ledger = Ledger::open(store, LedgerSettings::default()).unwrap();
    ledger
        .grant(GuildId(1), 1_000_000_000, Actor::Cli, "bench")
        .await
        .unwrap();
    let provider = Provider::from_config(&config.seedance).unwrap();
    let jobs = Jobs::start(
        ledger,
        provider,
        JobsSettings::from_config(config),
        Arc::new(Quiet),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut answers = futures::future::join_all((0..size).map(|i| {
        let jobs = jobs.clone();
        async move {
            jobs.submit(request(format!("burst-{i}"), 900_000 + i as u64))
                .await
                .unwrap();
            started.elapsed()
        }
    }))
    .await;
    let total = started.elapsed();
    answers.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(percentile(&answers, 0.5)),
        ms(percentile(&answers, 0.99)),
        ms(total),
    )
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() {
    let size = env_or("BURST", 500);
    let runs = env_or("RUNS", 3);
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::generating()]);
    println!("burst of {size} concurrent submits, medians of {runs} runs");
    for backend in ["sled", "postgres"] {
        let mut results = Vec::new();
        for _ in 0..runs {
            let (store, _dir) = if backend == "sled" {
                let dir = tempfile::tempdir().unwrap();
                let db = seedance_bot::store::open(dir.path()).unwrap();
                (Store::from(db), Some(dir))
            } else {
                match postgres_server::store() {
                    Some(store) => (store, None),
                    None => break,
                }
            };
            results.push(burst(store, &fake.base_url(), size).await);
        }
        if results.is_empty() {
            println!("{backend:>9}: skipped (no PostgreSQL binaries and no DATABASE_URL)");
            continue;
        }
        println!(
            "{backend:>9}: answer p50 {:.1} ms, p99 {:.1} ms, all answered in {:.0} ms",
            median(results.iter().map(|r| r.0).collect()),
            median(results.iter().map(|r| r.1).collect()),
            median(results.iter().map(|r| r.2).collect()),
        );
    }
}
