//! `seedance-bot credits ...`: offline pool management, run while the bot is stopped (the
//! store admits one process at a time).

use std::process::ExitCode;

use crate::config::Config;
use crate::credits::{
    Actor, ExportFormat, JournalEntry, Ledger, LedgerError, LedgerSettings, format_utc,
};
use crate::ids::{GuildId, MemberId};

#[derive(Debug, clap::Subcommand)]
pub enum CreditsCommand {
    /// Add credits to a guild's current pool (a negative amount takes them back).
    Grant {
        #[arg(long)]
        guild: u64,
        #[arg(long, allow_negative_numbers = true)]
        amount: i64,
        #[arg(long)]
        reason: String,
    },
    /// Show a guild's pool: balance, default cap and the guilds sharing it.
    Show {
        #[arg(long)]
        guild: u64,
    },
    /// The journal of a guild's current pool, newest first.
    History {
        #[arg(long)]
        guild: u64,
        /// Only this member's rows.
        #[arg(long)]
        user: Option<u64>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Write the journal of a guild's current pool to stdout, oldest first.
    Export {
        #[arg(long)]
        guild: u64,
        #[arg(long, value_enum)]
        format: ExportFormat,
    },
    /// Make a guild spend from another guild's pool.
    Link {
        #[arg(long)]
        guild: u64,
        #[arg(long)]
        with: u64,
    },
    /// Make a guild spend from its own pool again.
    Unlink {
        #[arg(long)]
        guild: u64,
    },
    /// Check every pool against its holds and journal.
    Verify,
}

pub async fn run(command: CreditsCommand, config: &Config) -> ExitCode {
    let db = match crate::store::open(&config.storage.path) {
        Ok(db) => db,
        Err(e) => return fail(&e),
    };
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
            let pool = ledger.unlink(GuildId(guild), Actor::Cli).await?;
            println!("guild {guild} now spends from its own pool {pool}");
        }
        CreditsCommand::Verify => {
            let problems = ledger.verify()?;
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("problem: {p}");
                }
                return Ok(ExitCode::FAILURE);
            }
            println!("the ledger is consistent");
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
