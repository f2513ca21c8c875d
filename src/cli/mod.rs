//! The command line: `run`, `register-commands`, `generate`, `status`, `check-config`,
//! `healthcheck`, `credits ...`, `jobs export`.
//!
//! Only this module (and `main.rs`) prints to stdout/stderr directly; everything else logs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::config::Config;

mod credits;
mod generate;
mod healthcheck;
mod jobs;
mod progress;
mod store;

#[derive(Debug, Parser)]
#[command(
    name = "seedance-bot",
    version,
    about = "Seedance 2.0 videos for Discord servers, paid from a shared credit pool"
)]
pub struct Cli {
    /// Configuration file (default: config.toml when it exists, else defaults + environment).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot: connect to Discord, serve the commands and follow jobs until Ctrl-C or SIGTERM.
    Run,
    /// Run only the job scheduler and final reports, without a Discord gateway, beside
    /// other bot processes sharing one PostgreSQL store (add workers for failover).
    Worker,
    /// Register the slash commands (in `discord.command_guild_ids`, else globally) and exit.
    RegisterCommands,
    /// Check the configuration and say what is missing, without starting anything.
    CheckConfig,
    /// Make one video from the command line: checks the API key and shows the cost.
    Generate(generate::GenerateArgs),
    /// Ask the running bot's /healthz: exit 0 when it answers 200 within 2 s, 1 otherwise.
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Show the state of a provider task.
    Status(generate::StatusArgs),
    /// Move an installation between stores (`store copy --from sled:PATH --to postgres:URL`).
    Store {
        #[command(subcommand)]
        command: store::StoreCommand,
    },
    /// Create or update the store's tables (PostgreSQL; `run` does it too) and exit.
    Migrate,
    /// Manage credit pools (sled: while the bot is stopped; PostgreSQL: any time).
    Credits {
        #[command(subcommand)]
        command: credits::CreditsCommand,
    },
    /// Read the job audit trail (sled: while the bot is stopped; PostgreSQL: any time).
    Jobs {
        #[command(subcommand)]
        command: jobs::JobsCommand,
    },
}

/// Parses arguments, loads the configuration and runs the chosen command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            // A container's HEALTHCHECK reads 1 as unhealthy; 2 is reserved there.
            return match cli.command {
                Command::Healthcheck(_) => ExitCode::FAILURE,
                _ => ExitCode::from(2),
            };
        }
    };
    // The bot logs what it does; the one-shot commands talk to a person: only warnings and
    // errors unless RUST_LOG asks.
    let level = match cli.command {
        Command::Run | Command::Worker | Command::RegisterCommands => "info",
        _ => "warn",
    };
    crate::telemetry::init(config.logging.format, level);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(dispatch(cli.command, config))
}

async fn dispatch(command: Command, config: Config) -> ExitCode {
    match command {
        Command::Run => run(config, false).await,
        Command::Worker => run(config, true).await,
        Command::RegisterCommands => register_commands(&config).await,
        Command::CheckConfig => check_config(&config),
        Command::Generate(args) => generate::generate(args, &config).await,
        Command::Status(args) => generate::status(args, &config).await,
        Command::Healthcheck(args) => healthcheck::run(args, &config).await,
        Command::Credits { command } => credits::run(command, &config).await,
        Command::Jobs { command } => jobs::run(command, &config).await,
        Command::Migrate => migrate(&config).await,
        Command::Store { command } => store::run(command, &config).await,
    }
}

/// Sets up or updates the store: the PostgreSQL tables, or a sled data directory.
async fn migrate(config: &Config) -> ExitCode {
    match crate::store::open_configured(&config.storage, crate::store::Missing::Create).await {
        Ok(store) => {
            println!("the {} store is up to date", store.backend());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The most threads the runtime runs blocking work on (store transactions, file copies).
/// The work is short and mostly CPU: more threads than this only contend for the same
/// records and keep their own memory. A burst of submissions waits its turn instead.
pub const BLOCKING_THREADS: usize = 16;

/// How many malloc arenas the process keeps (glibc's default is eight per core). Each
/// thread that allocates gets an arena of its own up to that number, and memory freed in
/// one is not reused by the others: with the runtime's workers and blocking threads, the
/// freed memory of a burst stayed with the process (BENCHMARKS.md, "Memory").
const MALLOC_ARENAS: i32 = 2;
/// Freed memory above this much at the top of an arena goes back to the system (glibc's
/// default grows up to 32 MiB with the largest block freed so far).
const MALLOC_TRIM_THRESHOLD: i32 = 128 * 1024;

/// Sets the allocator up for a long-running process with many threads (glibc only), unless
/// the operator set glibc's own `MALLOC_ARENA_MAX` / `MALLOC_TRIM_THRESHOLD_`. Call it
/// before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes glibc's malloc parameters; it is called on the main
        // thread before the runtime starts any other.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe { libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS) };
        }
        if std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_none() {
            unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD) };
        }
    }
}

/// The async runtime every command runs on: one worker thread per core and at most
/// [`BLOCKING_THREADS`] threads for blocking work, on a tuned allocator
/// ([`tune_allocator`]).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
}

fn check_config(config: &Config) -> ExitCode {
    let missing = config.missing_secrets();
    if missing.is_empty() {
        println!("configuration is valid");
        ExitCode::SUCCESS
    } else {
        println!(
            "configuration is valid, but the bot cannot start without: {}",
            missing.join(", ")
        );
        ExitCode::from(2)
    }
}

async fn run(config: Config, worker: bool) -> ExitCode {
    if worker && config.storage.backend != crate::config::StorageBackend::Postgres {
        eprintln!(
            "error: `seedance-bot worker` shares the work of other bot processes through a PostgreSQL store: set storage.backend = \"postgres\" and storage.postgres_url (or DATABASE_URL)"
        );
        return ExitCode::from(2);
    }
    let config = std::sync::Arc::new(config);
    let built = crate::app::App::build(config).await;
    let app = match built.map(|app| if worker { app.into_worker() } else { app }) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {}", crate::telemetry::explain(&e));
            return ExitCode::from(2);
        }
    };
    match app.run(crate::app::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", crate::telemetry::explain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn register_commands(config: &Config) -> ExitCode {
    if config.discord.token.expose_secret().trim().is_empty() {
        eprintln!("error: registering commands needs discord.token (or DISCORD_TOKEN)");
        return ExitCode::from(2);
    }
    let commands = crate::discord::commands::all(config);
    match crate::discord::register_commands(&config.discord, &commands).await {
        Ok(done) => {
            let scope = if done.guilds.is_empty() {
                "globally (Discord may take up to an hour to show them)".to_owned()
            } else {
                let ids: Vec<String> = done.guilds.iter().map(ToString::to_string).collect();
                format!("in server(s) {}", ids.join(", "))
            };
            println!("registered /{} {scope}", done.commands.join(", /"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: {}: check discord.token (or DISCORD_TOKEN), the network, and discord.api_base_url (empty for Discord itself)",
                crate::telemetry::explain(&e)
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// The trap: options like `--guild`, `--amount`, `--reason` and `--with` had no help.
    #[test]
    fn every_command_and_option_has_help_text() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            if command.get_about().is_none() {
                missing.push(path.clone());
            }
            for arg in command.get_arguments() {
                if arg.get_help().is_none() && !matches!(arg.get_id().as_str(), "help" | "version")
                {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }
}
