//! The integration tests: one binary. Everything they need (a fake provider, a local
//! Discord double, temp data directories) is started here on 127.0.0.1.

mod admin;
mod cli;
mod credits;
mod discord;
mod first_hour;
mod fleet;
mod http;
mod jobs;
mod process;
mod seedance;
mod support;
