//! The Seedance 2.0 reference-to-video API client.
//!
//! [`SeedanceClient`] speaks the provider's two endpoints: `createTask` makes a task from a
//! [`TaskInput`], `recordInfo` reads it back as a [`TaskRecord`]. Every failure is one
//! [`SeedanceError`], which says whether to retry and what an operator should do. Polling,
//! rate limits and deadlines belong to the caller (`jobs/`, the CLI).

mod client;
mod error;
pub mod simulate;
mod types;

pub use client::{SeedanceClient, USER_AGENT, parse_retry_after};
pub use error::SeedanceError;
pub use types::{MAX_PROMPT_CHARS, TaskId, TaskInput, TaskRecord, TaskState};
