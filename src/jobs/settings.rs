//! The limits and timings the job queue runs with, taken from the configuration.

use std::sync::Arc;
use std::time::Duration;

use super::RetryPolicy;
use crate::config::Config;

/// The limits and timings the queue runs with, taken from the config.
#[derive(Debug, Clone)]
pub struct JobsSettings {
    pub poll_initial: Duration,
    pub poll_max: Duration,
    pub deadline: Duration,
    pub max_active_per_user: usize,
    pub max_running: usize,
    pub create_per_window: u32,
    pub create_window: Duration,
    pub status_per_second: u32,
    /// How long a fresh task may be "not found" upstream before the job fails.
    pub not_found_grace: Duration,
    /// When failed createTasks and final reports are tried again.
    pub retry: RetryPolicy,
    pub config: Arc<Config>,
}

impl JobsSettings {
    pub fn from_config(config: Arc<Config>) -> JobsSettings {
        JobsSettings {
            poll_initial: config.jobs.poll_initial,
            poll_max: config.jobs.poll_max,
            deadline: config.jobs.deadline,
            max_active_per_user: config.jobs.max_active_per_user as usize,
            max_running: config.seedance.max_running as usize,
            create_per_window: config.seedance.create_per_window,
            create_window: config.seedance.create_window,
            status_per_second: config.seedance.status_per_second,
            not_found_grace: Duration::from_secs(120).max(config.jobs.poll_max * 4),
            retry: RetryPolicy {
                initial: config.jobs.poll_initial,
                create_attempts: config.jobs.create_attempts,
            },
            config,
        }
    }
}
