//! Tracks many running jobs in one process against a local fake provider and reports what
//! it costs: resident memory, CPU while the jobs wait, status calls per second against the
//! budget, and the lag from the provider finishing a task to the success report.
//!
//! Run: `cargo bench --bench jobs` (JOBS=10000 BURST=500 STATUS_PER_SECOND=500 SAMPLES=200 to
//! change).

#[path = "../tests/it/support/fake_provider.rs"]
mod fake_provider;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_provider::{Endpoint, FakeProvider, Step};
use futures::future::BoxFuture;
use seedance_bot::config::Config;
use seedance_bot::credits::{Actor, Ledger, LedgerSettings};
use seedance_bot::ids::{ChannelId, GuildId, MemberId};
use seedance_bot::jobs::{
    JobEvent, JobId, JobRecord, JobRequest, JobState, Jobs, JobsSettings, Provider, ReportError,
    Reporter,
};
use seedance_bot::video::{Ratio, Resolution};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Records when each success report arrives.
#[derive(Default)]
struct Arrivals {
    at: Mutex<HashMap<JobId, Instant>>,
}

impl Reporter for Arrivals {
    fn report<'a>(
        &'a self,
        job: &'a JobRecord,
        event: JobEvent,
    ) -> BoxFuture<'a, Result<(), ReportError>> {
        Box::pin(async move {
            if event.is_final() {
                self.at
                    .lock()
                    .unwrap()
                    .insert(job.id.clone(), Instant::now());
            }
            Ok(())
        })
    }
}

/// Resident memory of this process, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
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

/// One member's plain 480p, 5 s video in server 1.
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

#[tokio::main]
async fn main() {
    let n = env_or("JOBS", 10_000);
    let burst = env_or("BURST", 500);
    let budget = env_or("STATUS_PER_SECOND", 500);
    let samples = env_or("SAMPLES", 200).min(n);
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::generating()]);
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(
        Config::from_toml(&format!(
            r#"
[seedance]
api_key = "sk-bench"
base_url = "{}"
status_per_second = {budget}
create_per_window = 100000
create_window = "1s"
max_running = {}
[jobs]
poll_initial = "2s"
poll_max = "30s"
deadline = "2h"
"#,
            fake.base_url(),
            n + burst + 1
        ))
        .unwrap(),
    );
    let db = seedance_bot::store::open(dir.path()).unwrap();
    let ledger = Ledger::open(
        &db,
        LedgerSettings {
            default_daily_cap: 0,
        },
    )
    .unwrap();
    ledger
        .grant(GuildId(1), 1_000_000_000, Actor::Cli, "bench")
        .await
        .unwrap();
    let arrivals = Arc::new(Arrivals::default());
    let provider = Provider::from_config(&config.seedance).unwrap();
    let jobs = Jobs::start(
        ledger,
        provider,
        JobsSettings::from_config(config),
        arrivals.clone(),
    )
    .await
    .unwrap();
    let runner = jobs.clone();
    tokio::spawn(async move { runner.run(std::future::pending()).await });
    let idle_rss = rss_mib();

    // A burst: BURST members submit at once (as a burst of /video does); each submission's
    // time from the start of the burst to its answer.
    let burst_started = Instant::now();
    let answers = futures::future::join_all((0..burst).map(|i| {
        let jobs = jobs.clone();
        async move {
            jobs.submit(request(format!("burst-{i}"), 900_000 + i as u64))
                .await
                .unwrap();
            burst_started.elapsed()
        }
    }))
    .await;
    let burst_total = burst_started.elapsed();
    let mut answers = answers;
    answers.sort();

    let started = Instant::now();
    let mut submit_each = Vec::with_capacity(n);
    for i in 0..n {
        let req = request(format!("bench-{i}"), 1_000 + i as u64);
        let one = Instant::now();
        jobs.submit(req).await.unwrap();
        submit_each.push(one.elapsed());
    }
    let submit_time = started.elapsed();
    while fake.created_task_ids().len() < n + burst {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all_running = started.elapsed();
    // Let polling settle into its backed-off rhythm, then measure a quiet window.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (calls0, cpu0, t0) = (
        fake.count(Endpoint::RecordInfo),
        cpu_seconds(),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let window = t0.elapsed().as_secs_f64();
    let calls_per_s = (fake.count(Endpoint::RecordInfo) - calls0) as f64 / window;
    let cpu_share = (cpu_seconds() - cpu0) / window * 100.0;
    let busy_rss = rss_mib();

    // Flip a sample of tasks to success and time the reports.
    let ids = fake.created_task_ids();
    let mut flipped = HashMap::new();
    let by_task: HashMap<String, JobId> = jobs
        .recent(GuildId(1), None, n + burst)
        .into_iter()
        .filter_map(|j| match j.state {
            JobState::Running { task_id, .. } => Some((task_id, j.id)),
            _ => None,
        })
        .collect();
    for task in ids.iter().step_by((n / samples).max(1)).take(samples) {
        fake.set_task_state(task, Step::success(["https://results.fake.test/{id}.mp4"]));
        flipped.insert(by_task[task].clone(), Instant::now());
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while arrivals.at.lock().unwrap().len() < flipped.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let arrived = arrivals.at.lock().unwrap().clone();
    let mut lags: Vec<Duration> = flipped
        .iter()
        .filter_map(|(id, at)| arrived.get(id).map(|done| done.duration_since(*at)))
        .collect();
    lags.sort();

    println!(
        "burst of {burst} concurrent submits: all answered in {:.0} ms; answer p50 {:.1} ms, p99 {:.1} ms",
        burst_total.as_secs_f64() * 1000.0,
        percentile(&answers, 0.5).as_secs_f64() * 1000.0,
        percentile(&answers, 0.99).as_secs_f64() * 1000.0
    );
    println!("jobs tracked:                 {n}");
    println!(
        "submit (validate+reserve+store, sequential): {:.1} s ({:.2} ms/job)",
        submit_time.as_secs_f64(),
        submit_time.as_secs_f64() * 1000.0 / n as f64
    );
    // The cost of one submission with few live jobs against with nearly all of them live.
    let edge = (n / 10).clamp(1, 100);
    let median_ms = |slice: &[Duration]| {
        let mut v = slice.to_vec();
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1000.0
    };
    let (early, late) = (
        median_ms(&submit_each[..edge]),
        median_ms(&submit_each[n - edge..]),
    );
    println!(
        "submit, median of the first {edge}: {early:.3} ms; of the last {edge}: {late:.3} ms ({:.2}x)",
        late / early
    );
    println!(
        "all running upstream after:   {:.1} s",
        all_running.as_secs_f64()
    );
    println!("resident memory idle:         {idle_rss:.1} MiB");
    println!(
        "resident memory, {n} running: {busy_rss:.1} MiB ({:.1} KiB/job, fake provider included)",
        (busy_rss - idle_rss) * 1024.0 / n as f64
    );
    println!("CPU while jobs wait:          {cpu_share:.1}% of one core (fake provider included)");
    println!("status calls per second:      {calls_per_s:.1} (budget {budget})");
    if lags.is_empty() {
        println!("success-report lag:           no reports arrived");
    } else {
        println!(
            "success-report lag:           median {:.2} s, p99 {:.2} s over {} tasks",
            percentile(&lags, 0.5).as_secs_f64(),
            percentile(&lags, 0.99).as_secs_f64(),
            lags.len()
        );
    }
}
