//! seedance-bot: a Discord bot that turns `/video` prompts and reference files into
//! Seedance 2.0 videos, paid from a server's shared credit pool.
//!
//! The core (`seedance`, `credits`, `jobs`) knows nothing of Discord; `discord` converts at
//! the edge. See ARCHITECTURE.md for the map and the invariants.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credits;
pub mod discord;
pub mod guild_settings;
pub mod http;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod seedance;
pub mod store;
pub mod telemetry;
pub mod video;
