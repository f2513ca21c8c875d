//! `seedance-bot generate` and `seedance-bot status`. (Placeholder until the client lands.)

use std::process::ExitCode;

use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {}

pub async fn generate(_args: GenerateArgs, _config: &Config) -> ExitCode {
    ExitCode::FAILURE
}

pub async fn status(_args: StatusArgs, _config: &Config) -> ExitCode {
    ExitCode::FAILURE
}
