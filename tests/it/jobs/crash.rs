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
/// Set instead of `DIR_VAR`: the child's store is this PostgreSQL database.
const DB_VAR: &str = "SEEDANCE_JOBS_CRASH_DATABASE";
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

fn cfg(url: &str, shared: bool) -> Arc<seedance_bot::config::Config> {
    config_with(url, move |c| {
        c.seedance.max_running = 3;
        c.jobs.max_active_per_user = 2;
        if shared {
            // A short createTask timeout makes a short scheduler lease (2 x (1 s + 1 s)):
            // the next child takes over from a killed one within seconds.
            c.seedance.request_timeout = ms(1000);
            // A new holder waits out the last holder's createTask window (see `jobs::fleet`):
            // a short one, so the children keep starting jobs between kills.
            c.seedance.create_window = ms(1000);
        }
    })
}

/// The store the test's children share: a sled directory, or a PostgreSQL database.
#[derive(Clone)]
enum Place {
    Dir(std::path::PathBuf),
    Database(String),
}

impl Place {
    fn ledger(&self) -> Ledger {
        match self {
            Place::Dir(dir) => {
                let db = seedance_bot::store::open(dir).unwrap();
                Ledger::open(&db, LedgerSettings::default()).unwrap()
            }
            Place::Database(url) => {
                let pg = seedance_bot::store::postgres::PgStore::connect(
                    &secrecy::SecretString::from(url.clone()),
                )
                .unwrap();
                Ledger::open(
                    seedance_bot::store::Store::Postgres(pg),
                    LedgerSettings::default(),
                )
                .unwrap()
            }
        }
    }

    fn env(&self) -> (&'static str, &std::ffi::OsStr) {
        match self {
            Place::Dir(dir) => (DIR_VAR, dir.as_os_str()),
            Place::Database(url) => (DB_VAR, std::ffi::OsStr::new(url.as_str())),
        }
    }
}

/// The child: submits jobs from many members until killed (`submit`), or runs what is
/// stored to the end and prints `DRAINED` (`drain`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by kill_nine_while_jobs_run_ends_every_job_once"]
async fn child_runs_jobs_for_crash_test() {
    let Ok(url) = std::env::var(URL_VAR) else {
        return;
    };
    let place = match (std::env::var_os(DIR_VAR), std::env::var(DB_VAR)) {
        (Some(dir), _) => Place::Dir(dir.into()),
        (None, Ok(db)) => Place::Database(db),
        _ => return,
    };
    let drain = std::env::var(MODE_VAR).as_deref() == Ok("drain");
    let config = cfg(&url, matches!(place, Place::Database(_)));
    let ledger = place.ledger();
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

/// The child in `mode` (`submit` or `drain`), on the store at `place`.
fn spawn_child(place: &Place, url: &str, mode: &str) -> ChildTest {
    let env = [
        place.env(),
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
fn check_store(place: &Place) -> BTreeMap<String, &'static str> {
    let ledger = place.ledger();
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
    let dir = tempfile::tempdir().unwrap();
    kill_nine_while_jobs_run(&Place::Dir(dir.path().to_owned()), 150..700);
}

/// The same on PostgreSQL: each child is a new process that takes the scheduler lease over
/// from the killed one once it runs out, so the children live longer.
#[test]
fn kill_nine_while_jobs_run_ends_every_job_once_postgres() {
    use secrecy::ExposeSecret;
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let place = Place::Database(url.expose_secret().to_owned());
    kill_nine_while_jobs_run(&place, 1_500..5_000);
}

fn kill_nine_while_jobs_run(place: &Place, lives_ms: std::ops::Range<u64>) {
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
    let url = fake.base_url();
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut finals: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen_states = BTreeSet::new();
    for _ in 0..KILLS {
        let child = spawn_child(place, &url, "submit");
        std::thread::sleep(ms(rng.gen_range(lives_ms.clone())));
        // Every line the child wrote, up to the end of the pipe.
        for line in child.kill() {
            record_finals(&line, &mut finals);
        }
        seen_states.extend(check_store(place).into_values());
    }
    let child = spawn_child(place, &url, "drain");
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
    let states = check_store(place);
    eprintln!(
        "jobs crash test: {} jobs, {KILLS} kills, states seen at a kill: {seen_states:?}",
        states.len()
    );
    assert!(states.len() > 10, "only {} jobs were made", states.len());
    assert!(
        seen_states.contains("queued") && seen_states.contains("running"),
        "the kills never caught a queued and a running job: {seen_states:?}"
    );
    let ledger = place.ledger();
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
