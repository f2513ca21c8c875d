//! `seedance-bot jobs ...`: the job audit trail, read offline (while the bot is stopped:
//! the store admits one process at a time).

use std::process::ExitCode;

use crate::config::Config;
use crate::credits::{ExportFormat, Ledger, LedgerSettings};
use crate::ids::GuildId;

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Write every job of a guild to stdout, oldest first: who, where, prompt, references,
    /// cost and outcome.
    Export {
        /// The server whose jobs to write.
        #[arg(long, value_name = "ID", value_parser = super::credits::guild_id)]
        guild: u64,
        /// csv (one header line, then a row per job) or jsonl (one JSON object a line).
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
    },
}

pub async fn run(command: JobsCommand, config: &Config) -> ExitCode {
    let db =
        match crate::store::open_configured(&config.storage, crate::store::Missing::Refuse).await {
            Ok(db) => db,
            Err(e) => return fail(&e),
        };
    let ledger = match Ledger::open(&db, LedgerSettings::default()) {
        Ok(ledger) => ledger,
        Err(e) => return fail(&e),
    };
    match command {
        JobsCommand::Export { guild, format } => {
            let mut out = std::io::stdout().lock();
            match crate::jobs::export::export(ledger.jobs_tree(), GuildId(guild), format, &mut out)
            {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
