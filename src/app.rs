//! The wiring: the store, the ledger, the provider, the job queue reporting through Discord,
//! and the Discord client, run together until a shutdown signal.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::{Config, DiscordMode};
use crate::credits::{Ledger, LedgerError, LedgerSettings};
use crate::discord::interactions::{self, Endpoint};
use crate::discord::{self, Data, DiscordError, DiscordReporter, commands};
use crate::http::{self, Health};
use crate::jobs::{Jobs, JobsSettings, Provider};
use crate::seedance::SeedanceError;
use crate::store::{self, StoreError};

/// Why the bot could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the bot cannot start without: {0}")]
    MissingSecrets(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the credit ledger could not be opened")]
    Ledger(#[from] LedgerError),
    #[error("the video provider could not be set up")]
    Provider(#[from] SeedanceError),
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error("the health endpoint could not listen: {0}")]
    Http(std::io::Error),
    #[error(transparent)]
    PublicKey(#[from] interactions::BadKey),
}

/// The bot, built and ready to run.
pub struct App {
    config: Arc<Config>,
    store: store::Store,
    health: Arc<Health>,
    /// Bound at build time so a taken port fails the start, not the first scrape.
    http: Option<tokio::net::TcpListener>,
    jobs: Jobs,
    reporter: Arc<DiscordReporter>,
    /// `seedance-bot worker`: the scheduler and final reports, no Discord gateway.
    worker: bool,
    /// The REST client of the reporter, which also answers HTTP interactions.
    discord_http: Arc<discord::Http>,
    /// In http mode, the check of the interactions' signatures (`discord.public_key`).
    verifier: Option<interactions::Verifier>,
}

impl App {
    /// Opens the data directory and the ledger, sets up the provider and starts the job
    /// queue (applying the restart policy). Nothing talks to Discord yet.
    pub async fn build(config: Arc<Config>) -> Result<App, AppError> {
        let missing = config.missing_secrets();
        if !missing.is_empty() {
            return Err(AppError::MissingSecrets(missing.join(", ")));
        }
        let created = config.storage.backend == crate::config::StorageBackend::Sled
            && !store::exists(&config.storage.path);
        let db = store::open_configured(&config.storage, store::Missing::Create).await?;
        log_start(&config, created);
        let ledger = Ledger::open(
            &db,
            LedgerSettings {
                default_daily_cap: config.credits.default_daily_cap,
            },
        )?;
        let http_mode = config.discord.mode == DiscordMode::Http;
        let verifier = if http_mode {
            Some(interactions::verifier(&config.discord.public_key)?)
        } else {
            None
        };
        let health = Arc::new(Health::default().with_http_mode(http_mode));
        let provider = Provider::from_config(&config.seedance)?.with_health(health.clone());
        let endpoint = match config.http.listen.as_str() {
            "" => None,
            // http::bind takes an address: a name (`localhost:8080`) is resolved here.
            listen => {
                let addr = tokio::net::lookup_host(listen)
                    .await
                    .map_err(AppError::Http)?
                    .next()
                    .ok_or_else(|| {
                        AppError::Http(std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            format!("http.listen `{listen}` names no address"),
                        ))
                    })?;
                Some(
                    http::bind(&addr.to_string())
                        .await
                        .map_err(AppError::Http)?,
                )
            }
        };
        // One Http for the reporter and (in http mode) the interactions; the gateway client
        // builds its own from the same config.
        let http = Arc::new(discord::build_http(&config.discord));
        let reporter = Arc::new(DiscordReporter::new(http.clone(), &config.discord));
        let jobs = Jobs::start(
            ledger,
            provider,
            JobsSettings::from_config(config.clone()),
            reporter.clone(),
        )
        .await?;
        reporter.attach(jobs.clone());
        Ok(App {
            config,
            store: db,
            health,
            http: endpoint,
            jobs,
            reporter,
            worker: false,
            discord_http: http,
            verifier,
        })
    }

    /// Runs as a worker: the scheduler (taking its turn at the scheduler lease) and the
    /// final reports, without a Discord gateway or interactions endpoint. Only with a
    /// shared store (PostgreSQL).
    pub fn into_worker(mut self) -> App {
        debug_assert!(self.store.is_shared(), "a worker needs a shared store");
        self.worker = true;
        self.verifier = None;
        self.health.set_worker();
        self
    }

    /// Where `http.listen` was bound (`None` when it is off), e.g. for tests that listened
    /// on port 0.
    pub fn http_address(&self) -> Option<std::net::SocketAddr> {
        self.http.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// What every command can reach.
    fn data(&self) -> Data {
        Data {
            config: self.config.clone(),
            jobs: self.jobs.clone(),
            reporter: self.reporter.clone(),
            health: self.health.clone(),
        }
    }

    /// The job queue, e.g. for tests to look at jobs.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Runs the scheduler and the Discord client until `shutdown` resolves or the gateway
    /// ends; then stops both and returns how the Discord client ended.
    pub async fn run(mut self, shutdown: impl Future<Output = ()> + Send) -> Result<(), AppError> {
        let (stop, stopped) = watch::channel(false);
        let signal = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let jobs = self.jobs.clone();
        let scheduler = tokio::spawn({
            let signal = signal(stopped.clone());
            async move { jobs.run(signal).await }
        });
        // The endpoint outlives the Discord client, so that monitoring sees "draining".
        let (stop_http, http_stopped) = watch::channel(false);
        if self.http.is_some() {
            crate::telemetry::register_metrics(&interaction_labels(&commands::all(&self.config)));
        }
        // In http mode the interactions come to the endpoint, and no gateway is opened.
        let interactions = self.verifier.take().map(|verifier| {
            Arc::new(Endpoint::new(
                verifier,
                Arc::new(self.data()),
                self.discord_http.clone(),
                commands::all(&self.config),
            ))
        });
        let endpoint = self.http.take().map(|listener| {
            let what = if interactions.is_some() {
                "serving /interactions, /healthz and /metrics"
            } else {
                "serving /healthz and /metrics"
            };
            tracing::info!(address = ?listener.local_addr().ok(), "{what}");
            tokio::spawn(http::serve_with(
                listener,
                self.health.clone(),
                self.store.clone(),
                interactions.clone().map(Endpoint::router),
                signal(http_stopped),
            ))
        });
        let worker = self.worker;
        let client = async {
            match &interactions {
                None if worker => {
                    tracing::info!("running as a worker: no Discord gateway");
                    signal(stopped).await;
                    Ok(())
                }
                None => {
                    discord::run(self.data(), commands::all(&self.config), signal(stopped)).await
                }
                Some(endpoint) => {
                    discord::client::run_http(
                        &self.discord_http,
                        &self.config.discord,
                        &commands::all(&self.config),
                        &self.health,
                        &endpoint.in_flight(),
                        signal(stopped),
                    )
                    .await
                }
            }
        };
        tokio::pin!(client);
        tokio::pin!(shutdown);
        let result = tokio::select! {
            result = &mut client => result,
            () = &mut shutdown => {
                tracing::info!("shutdown requested");
                let _ = stop.send(true);
                client.await
            }
        };
        let _ = stop.send(true);
        if let Err(e) = scheduler.await {
            tracing::error!(error = %e, "the job scheduler task failed");
        }
        match &result {
            Ok(()) => tracing::info!("the Discord client stopped"),
            Err(e) => {
                tracing::error!(cause = %discord::errors::cause_chain(e), "the Discord client stopped with an error");
            }
        }
        let _ = stop_http.send(true);
        if let Some(endpoint) = endpoint {
            let _ = endpoint.await;
        }
        self.reporter.detach();
        // Every money-moving write was flushed when it was made; this covers the rest
        // (delivery marks, provider states) before the process exits.
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "could not flush the store on shutdown");
        }
        result.map_err(AppError::from)
    }
}

/// The `command` labels interactions are counted under: each command's name (what a
/// turned-away interaction is counted as), each subcommand's qualified name, and `button`.
fn interaction_labels(commands: &[discord::Command]) -> Vec<String> {
    // poise fills `qualified_name` only when the framework is built: compose it here.
    fn walk(command: &discord::Command, parent: &str, labels: &mut Vec<String>) {
        let name = if parent.is_empty() {
            command.name.to_string()
        } else {
            format!("{parent} {}", command.name)
        };
        for sub in &command.subcommands {
            walk(sub, &name, labels);
        }
        labels.push(name);
    }
    let mut labels = vec!["button".to_owned()];
    for command in commands {
        walk(command, "", &mut labels);
    }
    labels
}

/// The one line that says what this bot is and where it works, before anything connects.
fn log_start(config: &Config, created: bool) {
    let mode = match config.seedance.mode {
        crate::config::ProviderMode::Live => "live",
        crate::config::ProviderMode::Simulate => "simulate",
    };
    let guilds = &config.discord.command_guild_ids;
    let commands = if guilds.is_empty() {
        "globally".to_owned()
    } else {
        let ids: Vec<String> = guilds.iter().map(ToString::to_string).collect();
        format!("in servers {}", ids.join(", "))
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        config = %config.source,
        data_dir = %store_place(config),
        store = if created { "created (first start)" } else { "opened" },
        backend = match config.storage.backend {
            crate::config::StorageBackend::Sled => "sled 0.34.7",
            crate::config::StorageBackend::Postgres => "postgres",
        },
        mode,
        discord = config.discord.mode.as_str(),
        commands = %commands,
        "seedance-bot starting"
    );
}

/// Where the store is, as it may be shown: the data directory, or the database URL with its
/// password masked.
fn store_place(config: &Config) -> String {
    match config.storage.backend {
        crate::config::StorageBackend::Sled => {
            store::absolute(&config.storage.path).display().to_string()
        }
        crate::config::StorageBackend::Postgres => {
            use secrecy::ExposeSecret;
            store::postgres::mask_url(config.storage.postgres_url.expose_secret())
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
