//! Local stand-ins for what lies beyond the process boundary: the provider and Discord.

pub mod child;
pub mod discord_double;
pub mod fake_provider;
pub mod postgres;
