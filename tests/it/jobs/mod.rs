//! The job queue against the fake provider: real sled on a temp dir, real HTTP on loopback.
//! Timings are shortened through the config; nothing here sleeps blindly for a result.

mod approval;
mod crash;
mod faults;
mod handover;
mod lifecycle;
mod limits;
mod restart;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use seedance_bot::config::Config;
use seedance_bot::store::Store;

pub use crate::credits::Backend;
use seedance_bot::credits::{Actor, Ledger, LedgerSettings};
use seedance_bot::ids::{ChannelId, GuildId, MemberId};
use seedance_bot::jobs::{
    JobEvent, JobId, JobRecord, JobRequest, JobState, Jobs, JobsSettings, Provider, ReportError,
    Reporter,
};
use seedance_bot::video::{Ratio, Resolution};
use tokio::sync::{Notify, oneshot};

/// What the reporter received: the job's state at the time, and the event.
#[derive(Debug, Clone)]
pub struct Seen {
    pub job: JobId,
    pub state: JobState,
    pub event: JobEvent,
}

/// A reporter that records everything and can refuse final reports, as a Discord outage would.
#[derive(Default)]
pub struct RecordingReporter {
    pub seen: Mutex<Vec<Seen>>,
    /// How many final reports to refuse before accepting.
    pub refuse_finals: Mutex<usize>,
    /// Refused final reports ask to wait this long first (as a 429's `retry_after` does).
    pub refuse_asking: Mutex<Option<Duration>>,
    /// Refuse every final report for good (the channel is gone).
    pub refuse_for_good: Mutex<bool>,
    /// When each final report was tried, accepted or not.
    pub final_tries: Mutex<Vec<(JobId, tokio::time::Instant)>>,
    pub changed: Notify,
}

impl Reporter for RecordingReporter {
    fn report<'a>(
        &'a self,
        job: &'a JobRecord,
        event: JobEvent,
    ) -> BoxFuture<'a, Result<(), ReportError>> {
        Box::pin(async move {
            if event.is_final() {
                self.final_tries
                    .lock()
                    .unwrap()
                    .push((job.id.clone(), tokio::time::Instant::now()));
                if *self.refuse_for_good.lock().unwrap() {
                    self.changed.notify_waiters();
                    return Err(ReportError::Permanent {
                        reason: "Unknown Channel (10003)".into(),
                    });
                }
                let mut refuse = self.refuse_finals.lock().unwrap();
                if *refuse > 0 {
                    *refuse -= 1;
                    self.changed.notify_waiters();
                    return Err(ReportError::Transient {
                        reason: "discord is down".into(),
                        retry_after: *self.refuse_asking.lock().unwrap(),
                    });
                }
            }
            self.seen.lock().unwrap().push(Seen {
                job: job.id.clone(),
                state: job.state.clone(),
                event,
            });
            self.changed.notify_waiters();
            Ok(())
        })
    }
}

impl RecordingReporter {
    /// When the final report of `job` was tried, in order.
    pub fn tries_of(&self, job: &JobId) -> Vec<tokio::time::Instant> {
        let tries = self.final_tries.lock().unwrap();
        tries
            .iter()
            .filter(|(id, _)| id == job)
            .map(|(_, at)| *at)
            .collect()
    }

    pub fn finals(&self, job: &JobId) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| &s.job == job && s.event.is_final())
            .cloned()
            .collect()
    }

    /// Waits (up to `limit`) for the job's final report and returns it.
    pub async fn final_of(&self, job: &JobId, limit: Duration) -> Seen {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            if let Some(seen) = self.finals(job).into_iter().next() {
                return seen;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!(
                    "no final report for {job} within {limit:?}: {:?}",
                    self.seen.lock().unwrap()
                );
            }
        }
    }
}

/// Config for tests: fast polling, the fake's address, a recognisable key.
pub fn config(base_url: &str) -> Arc<Config> {
    config_with(base_url, |_| {})
}

/// [`config`] with some values changed.
pub fn config_with(base_url: &str, tweak: impl FnOnce(&mut Config)) -> Arc<Config> {
    let text = format!(
        "[seedance]\napi_key = \"sk-JOBS-TEST\"\nbase_url = \"{base_url}\"\nrequest_timeout = \"2s\"\n\
         [jobs]\npoll_initial = \"20ms\"\npoll_max = \"100ms\"\n"
    );
    let mut config = Config::from_toml(&text).expect("test config");
    tweak(&mut config);
    Arc::new(config)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A running job queue on a data directory.
pub struct Bot {
    pub jobs: Jobs,
    pub ledger: Ledger,
    pub reporter: Arc<RecordingReporter>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Bot {
    pub async fn start(
        dir: &std::path::Path,
        config: Arc<Config>,
        reporter: Arc<RecordingReporter>,
    ) -> Bot {
        let mut bot = Bot::open(dir, config, reporter).await;
        bot.resume();
        bot
    }

    /// A running queue on a fresh store of `backend`, with `credits` granted to server 1;
    /// keep the directory alive as long as the bot. `None`: no PostgreSQL here.
    pub async fn funded_on(
        backend: Backend,
        config: Arc<Config>,
        credits: i64,
    ) -> Option<(Option<tempfile::TempDir>, Bot)> {
        let (store, dir) = match backend {
            Backend::Sled => {
                let dir = tempfile::tempdir().expect("temp dir");
                let db = seedance_bot::store::open(dir.path()).expect("open store");
                (Store::from(db), Some(dir))
            }
            Backend::Postgres => (crate::support::postgres::store()?, None),
        };
        let mut bot = Bot::open_store(store, config, Arc::default()).await;
        bot.resume();
        bot.grant(1, credits).await;
        Some((dir, bot))
    }

    /// Opens the queue on the store at `at` without driving it (a new "process" each time).
    pub async fn open_at(
        at: &StoreAt,
        config: Arc<Config>,
        reporter: Arc<RecordingReporter>,
    ) -> Bot {
        Bot::open_store(at.open(), config, reporter).await
    }

    /// [`Bot::open_at`], driving the scheduler.
    pub async fn start_at(
        at: &StoreAt,
        config: Arc<Config>,
        reporter: Arc<RecordingReporter>,
    ) -> Bot {
        let mut bot = Bot::open_at(at, config, reporter).await;
        bot.resume();
        bot
    }

    /// Waits until this process runs the scheduler (at once on sled; on a shared store, once
    /// it holds the scheduler lease, e.g. after a killed holder's lease expired).
    pub async fn wait_leading(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.jobs.runs_scheduler() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never took the scheduler lease"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Opens the queue without driving it: submissions wait until [`Bot::resume`].
    pub async fn open(
        dir: &std::path::Path,
        config: Arc<Config>,
        reporter: Arc<RecordingReporter>,
    ) -> Bot {
        let db = seedance_bot::store::open(dir).expect("open store");
        Bot::open_store(Store::from(db), config, reporter).await
    }

    /// Opens the queue on `store` without driving it.
    pub async fn open_store(
        store: Store,
        config: Arc<Config>,
        reporter: Arc<RecordingReporter>,
    ) -> Bot {
        let ledger = Ledger::open(
            store,
            LedgerSettings {
                default_daily_cap: config.credits.default_daily_cap,
            },
        )
        .expect("open ledger");
        let provider = Provider::from_config(&config.seedance).expect("provider");
        let jobs = Jobs::start(
            ledger.clone(),
            provider,
            JobsSettings::from_config(config),
            reporter.clone(),
        )
        .await
        .expect("start jobs");
        Bot {
            jobs,
            ledger,
            reporter,
            stop: None,
            task: None,
        }
    }

    /// Two processes on the PostgreSQL database at `url`: the first drives the scheduler
    /// (and so holds its lease), the second only admits, cancels and decides.
    pub async fn two_on_postgres(url: &secrecy::SecretString, config: Arc<Config>) -> (Bot, Bot) {
        let mut first = Bot::on_postgres(url, config.clone()).await;
        first.resume();
        (first, Bot::on_postgres(url, config).await)
    }

    /// Opens the queue on the PostgreSQL database at `url` (a process of its own) without
    /// driving it.
    pub async fn on_postgres(url: &secrecy::SecretString, config: Arc<Config>) -> Bot {
        let store = Store::Postgres(seedance_bot::store::postgres::PgStore::connect(url).unwrap());
        Bot::open_store(store, config, Default::default()).await
    }

    /// Starts driving the scheduler.
    pub fn resume(&mut self) {
        let (stop, stopped) = oneshot::channel::<()>();
        let runner = self.jobs.clone();
        self.task = Some(tokio::spawn(async move {
            runner
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        }));
        self.stop = Some(stop);
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub async fn grant(&self, guild: u64, amount: i64) {
        self.ledger
            .grant(GuildId(guild), amount, Actor::Cli, "test top-up")
            .await
            .expect("grant");
    }

    /// Waits until the stored job satisfies `pred`.
    pub async fn wait_job(
        &self,
        id: &JobId,
        limit: Duration,
        pred: impl Fn(&JobRecord) -> bool,
    ) -> JobRecord {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(job) = self.jobs.get(id).filter(|j| pred(j)) {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} never reached the expected state: {:?}",
                self.jobs.get(id)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A plain 480p, 5 s request (200 credits at the default price).
pub fn request(key: &str, guild: u64, member: u64) -> JobRequest {
    JobRequest {
        key: key.into(),
        guild: GuildId(guild),
        member: MemberId(member),
        channel: ChannelId(900),
        prompt: format!("a paper boat in the rain ({key})"),
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

pub const COST: u64 = 200;
/// Where a test's store lives across the bot's restarts: a sled directory, or a database of
/// its own on the test PostgreSQL server.
pub enum StoreAt {
    Sled(tempfile::TempDir),
    Postgres(secrecy::SecretString),
}

impl StoreAt {
    /// A fresh, empty store of `backend` (`None`: no PostgreSQL here, said loudly).
    pub fn fresh(backend: Backend) -> Option<StoreAt> {
        Some(match backend {
            Backend::Sled => StoreAt::Sled(tempfile::tempdir().expect("temp dir")),
            Backend::Postgres => StoreAt::Postgres(crate::support::postgres::database_url()?),
        })
    }

    /// Opens it, as a newly started process would.
    pub fn open(&self) -> Store {
        match self {
            StoreAt::Sled(dir) => {
                Store::from(seedance_bot::store::open(dir.path()).expect("open store"))
            }
            StoreAt::Postgres(url) => Store::Postgres(
                seedance_bot::store::postgres::PgStore::connect(url).expect("connect"),
            ),
        }
    }
}

pub const WAIT: Duration = Duration::from_secs(10);
