//! `seedance-bot credits ...`: offline pool management. (Placeholder until the ledger lands.)

use std::process::ExitCode;

use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum CreditsCommand {}

pub async fn run(command: CreditsCommand, _config: &Config) -> ExitCode {
    match command {}
}
