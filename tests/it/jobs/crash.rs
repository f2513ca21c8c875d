//! kill -9 at random moments while many jobs run: after every crash each job's hold agrees
//! with its state (the ending and the money are one transaction), and after the last one
//! every job ends, its final report was delivered with one outcome only (a resend after a
//! crash carries the same outcome, so the receiver's idempotent create makes it one
//! message), and the ledger verifies. The child is this test binary, re-executed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rand::{Rng, SeedableRng};
use seedance_bot::credits::{Actor, HoldState, Ledger, LedgerSettings};
use seedance_bot::ids::GuildId;
use seedance_bot::jobs::{
    JobEvent, JobRecord, JobState, Jobs, JobsSettings, Provider, ReportError, Reporter,
};

use super::restart::fake_provider;
use super::{config_with, ms, request};
use crate::support::child::ChildTest;
use crate::support::fake_provider::{Endpoint, Scripted, Step};

const DIR_VAR: &str = "SEEDANCE_JOBS_CRASH_DIR";
const URL_VAR: &str = "SEEDANCE_JOBS_CRASH_PROVIDER";
const MODE_VAR: &str = "SEEDANCE_JOBS_CRASH_MODE";
const CHILD: &str = "jobs::crash::child_runs_jobs_for_crash_test";
const KILLS: usize = 8;
const SEED: u64 = 0x5eed_da9c;
const GUILDS: u64 = 3;

/// Prints each final report as `FINAL <job> <state>` once it is out, as Discord would
/// show it; a little slow, as a real receiver is.
struct PrintingReporter;

impl Reporter for PrintingReporter {
    fn report<'a>(
        &'a self,
        job: &'a JobRecord,
        event: JobEvent,
    ) -> BoxFuture<'a, Result<(), ReportError>> {
        Box::pin(async move {
            if event.is_final() {
                tokio::time::sleep(ms(30)).await;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "FINAL {} {}", job.id, job.state.label());
                let _ = out.flush();
            }
            Ok(())
        })
    }
}

fn cfg(url: &str) -> Arc<seedance_bot::config::Config> {
    config_with(url, |c| {
        c.seedance.max_running = 3;
        c.jobs.max_active_per_user = 2;
    })
}

/// The child: submits jobs from many members until killed (`submit`), or runs what is
/// stored to the end and prints `DRAINED` (`drain`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by kill_nine_while_jobs_run_ends_every_job_once"]
async fn child_runs_jobs_for_crash_test() {
    let (Some(dir), Ok(url)) = (std::env::var_os(DIR_VAR), std::env::var(URL_VAR)) else {
        return;
    };
    let drain = std::env::var(MODE_VAR).as_deref() == Ok("drain");
    let config = cfg(&url);
    let db = seedance_bot::store::open(dir.as_ref()).unwrap();
    let ledger = Ledger::open(&db, LedgerSettings::default()).unwrap();
    let provider = Provider::from_config(&config.seedance).unwrap();
    let settings = JobsSettings::from_config(config);
    let jobs = Jobs::start(
        ledger.clone(),
        provider,
        settings,
        Arc::new(PrintingReporter),
    )
    .await
    .unwrap();
    let runner = jobs.clone();
    tokio::spawn(async move { runner.run(std::future::pending()).await });
    if drain {
        loop {
            let all_done = ledger.jobs_tree().iter().values().all(|v| {
                let job = JobRecord::from_bytes(&v.unwrap()).unwrap();
                job.state.is_terminal() && job.final_delivered
            });
            if all_done {
                println!("DRAINED");
                return;
            }
            tokio::time::sleep(ms(20)).await;
        }
    }
    for guild in 1..=GUILDS {
        ledger
            .grant(GuildId(guild), 100_000, Actor::Cli, "crash test")
            .await
            .unwrap();
    }
    let pid = std::process::id();
    for n in 0u64.. {
        let key = format!("{pid}-{n}");
        let _ = jobs.submit(request(&key, 1 + n % GUILDS, 1 + n % 20)).await;
        tokio::time::sleep(ms(15)).await;
    }
}

/// The child in `mode` (`submit` or `drain`), on the store in `dir`.
fn spawn_child(dir: &std::path::Path, url: &str, mode: &str) -> ChildTest {
    let env = [
        (DIR_VAR, dir.as_os_str()),
        (URL_VAR, std::ffi::OsStr::new(url)),
        (MODE_VAR, std::ffi::OsStr::new(mode)),
    ];
    ChildTest::spawn(CHILD, &env)
}

fn record_finals(line: &str, finals: &mut BTreeMap<String, Vec<String>>) {
    // The test harness's own "test ... " line may precede the first report on its line.
    let Some(at) = line.find("FINAL ") else {
        return;
    };
    if let ["FINAL", id, state] = line[at..].split_whitespace().collect::<Vec<_>>().as_slice() {
        finals
            .entry(id.to_string())
            .or_default()
            .push(state.to_string());
    }
}

/// Opens the store as the next process would and checks that every job's hold agrees with
/// its state; returns each job's state label ("ended" for an ended job not yet reported).
fn check_store(dir: &std::path::Path) -> BTreeMap<String, &'static str> {
    let db = seedance_bot::store::open(dir).unwrap();
    let ledger = Ledger::open(&db, LedgerSettings::default()).unwrap();
    let mut states = BTreeMap::new();
    for value in ledger.jobs_tree().iter().values() {
        let job = JobRecord::from_bytes(&value.unwrap()).unwrap();
        let hold = ledger
            .hold(&job.id.0)
            .unwrap()
            .expect("every job has a hold");
        let expected = match &job.state {
            JobState::Succeeded { .. } => (HoldState::Settled, Some(job.cost)),
            s if s.is_terminal() => (HoldState::Voided, None),
            _ => (HoldState::Pending, None),
        };
        assert_eq!(
            (hold.state, hold.settled),
            expected,
            "{}: {:?}",
            job.id,
            job.state
        );
        let label = if job.state.is_terminal() && !job.final_delivered {
            "ended"
        } else {
            job.state.label()
        };
        states.insert(job.id.0.clone(), label);
    }
    assert_eq!(ledger.verify().unwrap(), Vec::<String>::new());
    let jobs_agree = seedance_bot::jobs::verify::verify(&ledger).unwrap();
    assert_eq!(jobs_agree, Vec::<String>::new());
    states
}

#[test]
fn kill_nine_while_jobs_run_ends_every_job_once() {
    let (_rt, fake) = fake_provider();
    fake.set_default_script(vec![
        Step::waiting(),
        Step::generating(),
        Step::success(["https://results.fake.test/{id}.mp4"]),
    ]);
    fake.set_create_delay(ms(40));
    // Some createTasks fail with an unknown outcome: jobs wait out their backoff, and a
    // few use up their tries and fail.
    fake.push_n(Endpoint::CreateTask, 12, Scripted::error(500, "hiccup"));
    let dir = tempfile::tempdir().unwrap();
    let url = fake.base_url();
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut finals: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen_states = BTreeSet::new();
    for _ in 0..KILLS {
        let child = spawn_child(dir.path(), &url, "submit");
        std::thread::sleep(ms(rng.gen_range(150..700)));
        // Every line the child wrote, up to the end of the pipe.
        for line in child.kill() {
            record_finals(&line, &mut finals);
        }
        seen_states.extend(check_store(dir.path()).into_values());
    }
    let child = spawn_child(dir.path(), &url, "drain");
    let mut drained = false;
    while let Ok(line) = child.lines.recv_timeout(Duration::from_secs(60)) {
        record_finals(&line, &mut finals);
        if line.ends_with("DRAINED") {
            drained = true;
            break;
        }
    }
    child.kill();
    assert!(drained, "the jobs never all ended");
    let states = check_store(dir.path());
    eprintln!(
        "jobs crash test: {} jobs, {KILLS} kills, states seen at a kill: {seen_states:?}",
        states.len()
    );
    assert!(states.len() > 10, "only {} jobs were made", states.len());
    assert!(
        seen_states.contains("queued") && seen_states.contains("running"),
        "the kills never caught a queued and a running job: {seen_states:?}"
    );
    let db = seedance_bot::store::open(dir.path()).unwrap();
    let ledger = Ledger::open(&db, LedgerSettings::default()).unwrap();
    let mut settled = 0;
    for value in ledger.jobs_tree().iter().values() {
        let job = JobRecord::from_bytes(&value.unwrap()).unwrap();
        assert!(job.state.is_terminal() && job.final_delivered, "{job:?}");
        let told = finals.get(&job.id.0).cloned().unwrap_or_default();
        assert!(
            !told.is_empty(),
            "job {} ended without a final report",
            job.id
        );
        assert!(
            told.iter().all(|s| s == job.state.label()),
            "job {} was reported as {told:?} but ended {}",
            job.id,
            job.state.label()
        );
        if matches!(job.state, JobState::Succeeded { .. }) {
            settled += job.cost;
        }
    }
    assert!(ledger.pending_holds().unwrap().is_empty());
    let total_settled: u64 = (1..=GUILDS)
        .map(|g| ledger.balance(GuildId(g)).unwrap().settled)
        .sum();
    assert_eq!(
        total_settled, settled,
        "charged for exactly the videos made"
    );
}
