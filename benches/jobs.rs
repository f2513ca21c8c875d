//! Tracks many running jobs against a local fake provider and reports what the bot costs:
//! resident memory, CPU while the jobs wait, status calls per second against the budget,
//! and the lag from the provider finishing a task to the final report, beside the poll
//! interval the scheduler was using for that task.
//!
//! The fake provider runs in a child process (this same binary, started again with
//! `JOBS_BENCH_ROLE=fake`), so the memory and CPU read from `/proc/self` are the bot's
//! alone: its scheduler, store, HTTP client and runtime (the one `seedance-bot run` builds),
//! plus this driver's few vectors.
//! The child is driven over its stdin/stdout, one line per command.
//!
//! Run: `cargo bench --bench jobs` (JOBS=10000 BURST=500 STATUS_PER_SECOND=500 SAMPLES=200
//! CACHE_MB=16 to change; PROFILE_MEMORY=1 stops right after the memory figure).

mod common;
#[path = "../tests/it/support/fake_provider.rs"]
mod fake_provider;

use common::{cpu_seconds, env_or, percentile, request, rss_mib};

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_provider::{Endpoint, FakeProvider, Step};
use futures::future::BoxFuture;
use seedance_bot::config::Config;
use seedance_bot::credits::{Actor, Ledger, LedgerSettings};
use seedance_bot::ids::GuildId;
use seedance_bot::jobs::{
    JobEvent, JobId, JobRecord, JobState, Jobs, JobsSettings, Provider, ReportError, Reporter,
};
use seedance_bot::store::{Missing, open_configured};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Set (to `fake`) in the child process that serves the fake provider.
const ROLE: &str = "JOBS_BENCH_ROLE";

fn main() {
    if std::env::var(ROLE).as_deref() == Ok("fake") {
        fake_main();
    } else {
        // The bot's own runtime, as `seedance-bot run` builds it.
        let runtime = seedance_bot::cli::runtime().expect("the bot's runtime");
        runtime.block_on(bot_main());
    }
}

/// The child: the fake provider on loopback, its address on the first line of stdout, then
/// one answer line per command line on stdin.
#[tokio::main]
async fn fake_main() {
    let fake = FakeProvider::start().await;
    fake.set_default_script(vec![Step::generating()]);
    println!("{}", fake.base_url());
    let mut flipped_at = None;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut words = line.split_whitespace();
        let answer = match words.next() {
            Some("created") => fake.created_task_ids().len().to_string(),
            Some("calls") => fake.count(Endpoint::RecordInfo).to_string(),
            Some("tasks") => fake.created_task_ids().join(" "),
            // Tasks not yet asked about: their first status (a recorded provider state) is
            // still to come.
            Some("unpolled") => fake
                .created_task_ids()
                .iter()
                .filter(|t| fake.status_calls(t) == 0)
                .count()
                .to_string(),
            // Finishes the tasks named; answers, for each, the time between the last two
            // status calls it had (the interval its poller was using), in ms, or `-`.
            Some("flip") => {
                let tasks: Vec<&str> = words.collect();
                let mut last: HashMap<&str, (Option<Instant>, Option<Instant>)> =
                    tasks.iter().map(|t| (*t, (None, None))).collect();
                for r in fake.requests_to(Endpoint::RecordInfo) {
                    if let Some(seen) = r.task_id.as_deref().and_then(|t| last.get_mut(t)) {
                        *seen = (seen.1, Some(r.at_std));
                    }
                }
                for task in &tasks {
                    fake.set_task_state(
                        task,
                        Step::success(["https://results.fake.test/{id}.mp4"]),
                    );
                }
                flipped_at = Some(Instant::now());
                tasks
                    .iter()
                    .map(|t| match last[t] {
                        (Some(a), Some(b)) => b.duration_since(a).as_millis().to_string(),
                        _ => "-".into(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            // For each task named: the poll interval it was in when it finished, from its
            // last status call before the `flip` to its first one after, in ms, or `-`.
            Some("around") => {
                let tasks: Vec<&str> = words.collect();
                let mut seen: HashMap<&str, (Option<Instant>, Option<Instant>)> =
                    tasks.iter().map(|t| (*t, (None, None))).collect();
                let flip = flipped_at.unwrap_or_else(Instant::now);
                for r in fake.requests_to(Endpoint::RecordInfo) {
                    if let Some(s) = r.task_id.as_deref().and_then(|t| seen.get_mut(t)) {
                        if r.at_std <= flip {
                            s.0 = Some(r.at_std);
                        } else if s.1.is_none() {
                            s.1 = Some(r.at_std);
                        }
                    }
                }
                tasks
                    .iter()
                    .map(|t| match seen[t] {
                        (Some(a), Some(b)) => b.duration_since(a).as_millis().to_string(),
                        _ => "-".into(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            _ => "?".into(),
        };
        println!("{answer}");
    }
}

/// The fake provider in its own process.
struct FakeChild {
    _child: Child,
    pid: u32,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    base_url: String,
}

impl FakeChild {
    async fn start() -> FakeChild {
        let mut child = Command::new(std::env::current_exe().expect("this bench's path"))
            .env(ROLE, "fake")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the fake provider");
        let pid = child.id().expect("the fake provider's pid");
        let stdin = child.stdin.take().expect("its stdin");
        let mut lines = BufReader::new(child.stdout.take().expect("its stdout")).lines();
        let base_url = lines
            .next_line()
            .await
            .ok()
            .flatten()
            .expect("the fake provider's address");
        FakeChild {
            _child: child,
            pid,
            stdin,
            lines,
            base_url,
        }
    }

    async fn ask(&mut self, command: &str) -> String {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("write to the fake provider");
        self.stdin
            .flush()
            .await
            .expect("flush to the fake provider");
        self.lines
            .next_line()
            .await
            .ok()
            .flatten()
            .expect("an answer from the fake provider")
    }

    async fn number(&mut self, command: &str) -> usize {
        self.ask(command).await.parse().expect("a number")
    }
}

/// Records when each final report arrives.
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

fn median(sorted: &[f64]) -> f64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

async fn bot_main() {
    let n = env_or("JOBS", 10_000);
    let burst = env_or("BURST", 500);
    let budget = env_or("STATUS_PER_SECOND", 500);
    let samples = env_or("SAMPLES", 200).min(n);
    let mut fake = FakeChild::start().await;
    let fake_pid = fake.pid.to_string();
    let dir = tempfile::tempdir().unwrap();
    // The store's cache: the configuration's default unless CACHE_MB says otherwise.
    let cache = std::env::var("CACHE_MB")
        .map(|mb| format!("cache_mb = {mb}"))
        .unwrap_or_default();
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
[storage]
path = "{}"
{cache}
"#,
            fake.base_url,
            n + burst + 1,
            dir.path().display()
        ))
        .unwrap(),
    );
    let db = open_configured(&config.storage, Missing::Create)
        .await
        .unwrap();
    let ledger = Ledger::open(
        db,
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
        JobsSettings::from_config(config.clone()),
        arrivals.clone(),
    )
    .await
    .unwrap();
    let runner = jobs.clone();
    tokio::spawn(async move { runner.run(std::future::pending()).await });
    let idle_rss = rss_mib("self");

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
    while fake.number("created").await < n + burst {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let all_running = started.elapsed();
    // Let polling settle into its backed-off rhythm, then measure a quiet window.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (calls0, cpu0, fake_cpu0, t0) = (
        fake.number("calls").await,
        cpu_seconds("self"),
        cpu_seconds(&fake_pid),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (cpu1, fake_cpu1) = (cpu_seconds("self"), cpu_seconds(&fake_pid));
    let window = t0.elapsed().as_secs_f64();
    let calls_per_s = (fake.number("calls").await - calls0) as f64 / window;
    let cpu_share = (cpu1 - cpu0) / window * 100.0;
    let fake_cpu_share = (fake_cpu1 - fake_cpu0) / window * 100.0;
    let busy_rss = rss_mib("self");
    let fake_rss = rss_mib(&fake_pid);
    // The window above may still see first polls (each records the task's state durably).
    // Once every task has had its first, a second window measures plain waiting.
    while fake.number("unpolled").await > 0 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (calls0, cpu0, t0) = (
        fake.number("calls").await,
        cpu_seconds("self"),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu1 = cpu_seconds("self");
    let window = t0.elapsed().as_secs_f64();
    let steady_calls_per_s = (fake.number("calls").await - calls0) as f64 / window;
    let steady_cpu_share = (cpu1 - cpu0) / window * 100.0;
    // For a heap profiler (`PROFILE_MEMORY=1 heaptrack ...`): stop at the memory figure, so
    // what is still allocated at the exit is what the bot held then.
    if std::env::var_os("PROFILE_MEMORY").is_some() {
        println!("resident memory, {} running: {busy_rss:.1} MiB", n + burst);
        let threads = std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
        // SAFETY: mallinfo2 only reads the allocator's counters.
        let heap = unsafe { libc::mallinfo2() };
        let mib = |b: usize| b as f64 / 1024.0 / 1024.0;
        println!(
            "threads {threads}; malloc: in use {:.1} MiB, free but held {:.1} MiB, mmapped {:.1} MiB",
            mib(heap.uordblks),
            mib(heap.fordblks),
            mib(heap.hblkhd)
        );
        std::process::exit(0);
    }

    // Finish a sample of tasks and time their final reports.
    let tasks = fake.ask("tasks").await;
    let by_task: HashMap<String, JobId> = jobs
        .recent(GuildId(1), None, n + burst)
        .into_iter()
        .filter_map(|j| match j.state {
            JobState::Running { task_id, .. } => Some((task_id, j.id)),
            _ => None,
        })
        .collect();
    let sample: Vec<&str> = tasks
        .split_whitespace()
        .step_by((n / samples).max(1))
        .take(samples)
        .collect();
    let flipped_at = Instant::now();
    let gaps = fake.ask(&format!("flip {}", sample.join(" "))).await;
    let gaps: HashMap<&str, Option<f64>> = sample
        .iter()
        .copied()
        .zip(gaps.split_whitespace().map(|g| g.parse::<f64>().ok()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    while arrivals.at.lock().unwrap().len() < sample.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let arrived = arrivals.at.lock().unwrap().clone();
    let around = fake.ask(&format!("around {}", sample.join(" "))).await;
    let around: HashMap<&str, Option<f64>> = sample
        .iter()
        .copied()
        .zip(around.split_whitespace().map(|g| g.parse::<f64>().ok()))
        .collect();
    let mut lags = Vec::new();
    let mut intervals = Vec::new();
    let mut ratios = Vec::new();
    let mut current = Vec::new();
    let mut current_ratios = Vec::new();
    for task in &sample {
        let Some(done) = by_task.get(*task).and_then(|id| arrived.get(id)) else {
            continue;
        };
        let lag = done.duration_since(flipped_at);
        lags.push(lag);
        if let Some(gap_ms) = gaps[task] {
            intervals.push(gap_ms / 1000.0);
            ratios.push(lag.as_secs_f64() * 1000.0 / gap_ms);
        }
        if let Some(gap_ms) = around[task] {
            current.push(gap_ms / 1000.0);
            current_ratios.push(lag.as_secs_f64() * 1000.0 / gap_ms);
        }
    }
    current.sort_by(f64::total_cmp);
    current_ratios.sort_by(f64::total_cmp);
    lags.sort();
    intervals.sort_by(f64::total_cmp);
    ratios.sort_by(f64::total_cmp);

    println!(
        "burst of {burst} concurrent submits: all answered in {:.0} ms; answer p50 {:.1} ms, p99 {:.1} ms",
        burst_total.as_secs_f64() * 1000.0,
        percentile(&answers, 0.5).as_secs_f64() * 1000.0,
        percentile(&answers, 0.99).as_secs_f64() * 1000.0
    );
    println!(
        "jobs tracked:                 {n} (+{burst} from the burst), storage.cache_mb = {}",
        config.storage.cache_mb
    );
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
    println!("resident memory idle:         {idle_rss:.1} MiB (bot alone)");
    println!(
        "resident memory, {} running: {busy_rss:.1} MiB ({:.1} KiB/job, bot alone; fake provider process {fake_rss:.1} MiB)",
        n + burst,
        (busy_rss - idle_rss) * 1024.0 / (n + burst) as f64
    );
    println!(
        "CPU while jobs wait:          {cpu_share:.1}% of one core (bot alone; fake provider process {fake_cpu_share:.1}%)"
    );
    println!("status calls per second:      {calls_per_s:.1} (budget {budget})");
    println!(
        "CPU once every task was polled: {steady_cpu_share:.1}% of one core (bot alone), {steady_calls_per_s:.1} status calls/s"
    );
    if lags.is_empty() {
        println!("success-report lag:           no reports arrived");
    } else {
        println!(
            "success-report lag:           median {:.2} s, p99 {:.2} s over {} tasks",
            percentile(&lags, 0.5).as_secs_f64(),
            percentile(&lags, 0.99).as_secs_f64(),
            lags.len()
        );
        println!(
            "poll interval at the finish:  median {:.2} s (last status call before it to the first after)",
            median(&current)
        );
        println!(
            "lag / that interval:          median {:.2} (per task), {:.2} (median lag / median interval)",
            median(&current_ratios),
            percentile(&lags, 0.5).as_secs_f64() / median(&current)
        );
        println!(
            "previous interval:            median {:.2} s (the last two status calls before the finish); lag / it: median {:.2}",
            median(&intervals),
            median(&ratios)
        );
    }
}
