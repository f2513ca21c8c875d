//! The built-in simulation of the provider (`seedance.mode = "simulate"`): tasks advance
//! through the real states over a configured time and end with a sample URL, so a server can
//! try the whole bot without spending real credits upstream.
//!
//! A task id carries its creation time and its fate, so simulated tasks survive a restart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;

use crate::clock::now_ms;
use crate::config::SimulateConfig;
use crate::seedance::{SeedanceError, TaskId, TaskInput, TaskRecord, TaskState};

#[derive(Debug)]
pub struct Simulator {
    duration: Duration,
    result_url: String,
    failure_rate: f64,
    counter: AtomicU64,
}

impl Simulator {
    pub fn new(config: &SimulateConfig) -> Simulator {
        Simulator {
            duration: config.duration,
            result_url: config.result_url.clone(),
            failure_rate: config.failure_rate,
            counter: AtomicU64::new(0),
        }
    }

    pub async fn create_task(&self, _input: &TaskInput) -> Result<TaskId, SeedanceError> {
        let fails = rand::thread_rng().gen_bool(self.failure_rate);
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        Ok(TaskId(format!(
            "sim-{}-{}-{n}",
            now_ms(),
            if fails { "f" } else { "s" }
        )))
    }

    pub async fn record_info(&self, task: &TaskId) -> Result<TaskRecord, SeedanceError> {
        let mut parts = task.0.split('-');
        let (Some("sim"), Some(created), Some(fate)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SeedanceError::NotFound {
                message: "no such simulated task".into(),
            });
        };
        let created: i64 = created.parse().map_err(|_| SeedanceError::NotFound {
            message: "no such simulated task".into(),
        })?;
        let elapsed = Duration::from_millis(now_ms().saturating_sub(created).max(0) as u64);
        let total = self.duration.max(Duration::from_millis(1));
        let fraction = elapsed.as_secs_f64() / total.as_secs_f64();
        let state = match fraction {
            f if f < 0.1 => TaskState::Waiting,
            f if f < 0.25 => TaskState::Queuing,
            f if f < 1.0 => TaskState::Generating,
            _ if fate == "f" => TaskState::Fail,
            _ => TaskState::Success,
        };
        let done = matches!(state, TaskState::Success | TaskState::Fail);
        Ok(TaskRecord {
            task_id: task.clone(),
            result_urls: if state == TaskState::Success {
                vec![self.result_url.clone()]
            } else {
                Vec::new()
            },
            fail_code: (state == TaskState::Fail).then(|| "SIMULATED".to_owned()),
            fail_msg: (state == TaskState::Fail).then(|| "simulated failure".to_owned()),
            create_time: Some(created),
            complete_time: done.then(|| created + total.as_millis() as i64),
            cost_time: done.then_some(total.as_millis() as i64),
            state,
        })
    }
}
