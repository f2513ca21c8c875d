//! `seedance-bot credits ...`: offline pool management, run while the bot is stopped (the
//! store admits one process at a time).

use std::process::ExitCode;

use crate::config::Config;
use crate::credits::{
    Actor, ExportFormat, JournalEntry, Ledger, LedgerError, LedgerSettings, PoolId, format_utc,
};
use crate::ids::{GuildId, MemberId};
use crate::store::Missing;

/// A server (guild) id: the number Discord shows with Developer Mode on (never 0).
pub(super) fn guild_id(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("0 is not a server id: copy the id with Developer Mode on".into()),
        Ok(id) => Ok(id),
        Err(_) => Err(format!(
            "`{text}` is not a server id: use the number Discord shows (Developer Mode, Copy Server ID)"
        )),
    }
}

/// A reason for the journal: something a person can later read.
fn reason(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("the reason is empty: say why, e.g. --reason \"May top-up\"".into())
    } else {
        Ok(text.to_owned())
    }
}

/// How many rows to show: at least 1.
fn limit(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("0 rows shows nothing: give at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of rows: give e.g. 20")),
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum CreditsCommand {
    /// Add credits to a guild's current pool (a negative amount takes them back).
    Grant {
        /// The server whose pool gets the credits.
        #[arg(long, value_name = "ID", value_parser = guild_id)]
        guild: u64,
        /// Credits to add; negative takes them back (never below what is available).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        amount: i64,
        /// Why, written to the journal (not empty).
        #[arg(long, value_name = "TEXT", value_parser = reason)]
        reason: String,
        /// Create the store when the data directory has none yet (a first grant before the
        /// bot ever ran); without it a missing store is an error, so a typo cannot hide
        /// credits where the bot never looks.
        #[arg(long)]
        create: bool,
    },
    /// Show a guild's pool: balance, default cap and the guilds sharing it.
    Show {
        /// The server whose pool to show.
        #[arg(long, value_name = "ID", value_parser = guild_id)]
        guild: u64,
    },
    /// The journal of a guild's current pool, newest first.
    History {
        /// The server whose pool's journal to show.
        #[arg(long, value_name = "ID", value_parser = guild_id)]
        guild: u64,
        /// Only this member's rows.
        #[arg(long, value_name = "ID")]
        user: Option<u64>,
        /// How many rows, newest first (at least 1).
        #[arg(long, value_name = "N", default_value = "20", value_parser = limit)]
        limit: usize,
    },
    /// Write the journal of a guild's current pool to stdout, oldest first.
    Export {
        /// The server whose pool's journal to write.
        #[arg(long, value_name = "ID", value_parser = guild_id)]
        guild: u64,
        /// csv (one header line, then a row per entry) or jsonl (one JSON object a line).
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
    },
    /// Make a guild spend from another guild's pool.
    Link {
        /// The server that will spend from the other pool.
        #[arg(long, value_name = "ID", value_parser = guild_id)]
        guild: u64,
        /// The server whose pool it spends from.
        #[arg(long, value_name = "ID", value_parser = guild_id)]
        with: u64,
    },
    /// Make a guild spend from its own pool again.
    Unlink {
        /// The server to unlink.
        #[arg(long, value_name = "ID", value_parser = guild_id)]
        guild: u64,
    },
    /// Check every pool against its holds and journal.
    Verify,
}

pub async fn run(command: CreditsCommand, config: &Config) -> ExitCode {
    let missing = match command {
        CreditsCommand::Grant { create: true, .. } => Missing::Create,
        _ => Missing::Refuse,
    };
    let path = &config.storage.path;
    let new = config.storage.backend == crate::config::StorageBackend::Sled
        && !crate::store::exists(path);
    let db = match crate::store::open_configured(&config.storage, missing).await {
        Ok(db) => db,
        Err(e) => return fail(&e),
    };
    if new {
        eprintln!(
            "created a new store at {}",
            crate::store::absolute(path).display()
        );
    }
    let settings = LedgerSettings {
        default_daily_cap: config.credits.default_daily_cap,
    };
    let ledger = match Ledger::open(&db, settings) {
        Ok(ledger) => ledger,
        Err(e) => return fail(&e),
    };
    match execute(command, &ledger).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

async fn execute(command: CreditsCommand, ledger: &Ledger) -> Result<ExitCode, LedgerError> {
    match command {
        CreditsCommand::Grant {
            guild,
            amount,
            reason,
            ..
        } => {
            let b = ledger
                .grant(GuildId(guild), amount, Actor::Cli, &reason)
                .await?;
            println!(
                "granted {amount} credits to pool {}: {} available",
                b.pool, b.available
            );
        }
        CreditsCommand::Show { guild } => {
            let info = ledger.guild_info(GuildId(guild))?;
            let b = ledger.pool_balance(info.pool)?;
            let sharing: Vec<String> = info
                .guilds_sharing_pool
                .iter()
                .map(ToString::to_string)
                .collect();
            let cap = info
                .default_cap
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            println!("guild:       {guild}");
            println!("pool:        {}", b.pool);
            println!("available:   {}", b.available);
            println!("pending:     {}", b.pending);
            println!("settled:     {}", b.settled);
            println!("granted:     {}", b.granted);
            println!("default cap: {cap} (per member per UTC day)");
            println!("guilds:      {}", sharing.join(", "));
        }
        CreditsCommand::History { guild, user, limit } => {
            let rows = ledger.history(GuildId(guild), user.map(MemberId), limit)?;
            print_table(&rows);
        }
        CreditsCommand::Export { guild, format } => {
            let mut out = std::io::stdout().lock();
            ledger.export(GuildId(guild), format, &mut out)?;
        }
        CreditsCommand::Link { guild, with } => {
            let pool = ledger
                .link(GuildId(guild), GuildId(with), Actor::Cli)
                .await?;
            println!("guild {guild} now spends from pool {pool}");
        }
        CreditsCommand::Unlink { guild } => {
            // Unlinking a guild that is not linked would journal a change that changed nothing.
            if ledger.pool_of(GuildId(guild))? == PoolId(guild) {
                println!("guild {guild} already spends from its own pool {guild}; nothing changed");
                return Ok(ExitCode::SUCCESS);
            }
            let pool = ledger.unlink(GuildId(guild), Actor::Cli).await?;
            println!("guild {guild} now spends from its own pool {pool}");
        }
        CreditsCommand::Verify => {
            let mut problems = ledger.verify()?;
            problems.extend(crate::jobs::verify::verify(ledger)?);
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("problem: {p}");
                }
                return Ok(ExitCode::FAILURE);
            }
            println!("the ledger is consistent, and every job agrees with its credits");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[JournalEntry]) {
    if rows.is_empty() {
        println!("no journal entries");
        return;
    }
    println!(
        "{:>6}  {:<20}  {:<18}  {:<20}  {:<22}  {:>10}  {:>12}  reason",
        "seq", "time (UTC)", "kind", "member", "actor", "amount", "available"
    );
    for r in rows {
        let member = r.member.map(|m| m.to_string()).unwrap_or_default();
        println!(
            "{:>6}  {:<20}  {:<18}  {:<20}  {:<22}  {:>10}  {:>12}  {}",
            r.seq,
            format_utc(r.at),
            r.kind.to_string(),
            member,
            r.actor.to_string(),
            r.amount,
            r.available_after,
            r.reason
        );
    }
}
