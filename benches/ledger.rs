//! Reserve+settle pairs per second, durable (flushed) and not, with 1 and 64 callers.
//! Run with `cargo bench --bench ledger`; prints the median of five one-second runs and,
//! for 64 callers, how far durability costs: no-flush over flushed (group commit's target
//! is at most 1.5). Then the same pairs on PostgreSQL. Each line says how many
//! transactions one commit covered on average (group transactions, `store/batch.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use seedance_bot::credits::{Actor, Ledger, LedgerSettings, Reserve};
use seedance_bot::ids::{GuildId, MemberId};
use seedance_bot::store::Store;

/// The tests' throwaway PostgreSQL server (or `DATABASE_URL`), for the same figures on the
/// PostgreSQL backend.
#[allow(dead_code)]
#[path = "../tests/it/support/postgres.rs"]
mod postgres_server;

const RUNS: usize = 5;
const RUN_FOR: Duration = Duration::from_secs(1);
const GUILD: GuildId = GuildId(1);

/// One run: `callers` tasks loop reserve+settle until the time is up; returns pairs/s and
/// how many transactions one sled transaction covered on average (group transactions).
async fn run_once(callers: u64, durable: bool) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::from(seedance_bot::store::open(dir.path()).unwrap());
    let mut ledger = Ledger::open(&store, LedgerSettings::default()).unwrap();
    if !durable {
        ledger = ledger.without_flush_for_bench();
    }
    per_commit(&store, pairs_per_second(ledger, callers)).await
}

/// The pairs/s of `run`, and how many transactions one commit of `store` covered meanwhile.
async fn per_commit(store: &Store, run: impl std::future::Future<Output = f64>) -> (f64, f64) {
    let before = store.batch_counts();
    let pairs = run.await;
    let after = store.batch_counts();
    let per_commit =
        (after.bodies - before.bodies) as f64 / (after.commits - before.commits).max(1) as f64;
    (pairs, per_commit)
}

/// One run on a fresh PostgreSQL database (commits are durable: `synchronous_commit` on):
/// pairs/s and how many transactions one COMMIT covered on average (group commit).
async fn run_once_postgres(callers: u64) -> Option<(f64, f64)> {
    let store = postgres_server::store()?;
    let ledger = Ledger::open(&store, LedgerSettings::default()).unwrap();
    Some(per_commit(&store, pairs_per_second(ledger, callers)).await)
}

async fn pairs_per_second(ledger: Ledger, callers: u64) -> f64 {
    ledger
        .grant(GUILD, 1_000_000_000, Actor::System, "bench")
        .await
        .unwrap();
    let pairs = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let (ledger, pairs) = (ledger.clone(), pairs.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while started.elapsed() < RUN_FOR {
                    let key = format!("{caller}-{n}");
                    let req = Reserve {
                        key: key.clone(),
                        guild: GUILD,
                        member: MemberId(caller),
                        amount: 400,
                        memo: "video 720p 5s".into(),
                    };
                    ledger.reserve(req, None).await.unwrap();
                    ledger.settle(&key, 400, None).await.unwrap();
                    pairs.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    pairs.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("ledger: reserve+settle pairs per second, median of {RUNS} runs of {RUN_FOR:?}");
    let mut at_64 = Vec::new();
    for durable in [true, false] {
        for callers in [1, 64] {
            let (runs, per_commit): (Vec<f64>, Vec<f64>) = (0..RUNS)
                .map(|_| runtime.block_on(run_once(callers, durable)))
                .unzip();
            let mode = if durable { "flushed" } else { "no flush" };
            if callers == 64 {
                at_64.push(median(runs.clone()));
            }
            let all: Vec<String> = runs.iter().map(|r| format!("{r:.0}")).collect();
            println!(
                "{mode:>9}, {callers:>2} callers: {:>8.0} pairs/s   (runs: {}; {:.1} transactions per commit)",
                median(runs.clone()),
                all.join(", "),
                median(per_commit)
            );
        }
    }
    println!(
        "64 callers: no flush / flushed = {:.2}",
        at_64[1] / at_64[0]
    );
    for callers in [1, 64] {
        let runs: Option<Vec<(f64, f64)>> = (0..RUNS)
            .map(|_| runtime.block_on(run_once_postgres(callers)))
            .collect();
        let Some(runs) = runs else {
            println!("postgres: skipped (no PostgreSQL binaries and no DATABASE_URL)");
            break;
        };
        let (runs, per_commit): (Vec<f64>, Vec<f64>) = runs.into_iter().unzip();
        let all: Vec<String> = runs.iter().map(|r| format!("{r:.0}")).collect();
        println!(
            " postgres, {callers:>2} callers: {:>8.0} pairs/s   (runs: {}; {:.1} transactions per commit)",
            median(runs.clone()),
            all.join(", "),
            median(per_commit)
        );
    }
}
