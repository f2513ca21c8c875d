//! Where tasks go: the real provider, or the built-in simulation.

use crate::config::{ProviderMode, SeedanceConfig};
use crate::seedance::simulate::Simulator;
use crate::seedance::{SeedanceClient, SeedanceError, TaskId, TaskInput, TaskRecord};

pub enum Provider {
    Live(SeedanceClient),
    Simulated(Simulator),
}

impl Provider {
    pub fn from_config(config: &SeedanceConfig) -> Result<Provider, SeedanceError> {
        Ok(match config.mode {
            ProviderMode::Live => Provider::Live(SeedanceClient::new(config)?),
            ProviderMode::Simulate => Provider::Simulated(Simulator::new(&config.simulate)),
        })
    }

    pub fn is_simulated(&self) -> bool {
        matches!(self, Provider::Simulated(_))
    }

    pub async fn create_task(&self, input: &TaskInput) -> Result<TaskId, SeedanceError> {
        match self {
            Provider::Live(client) => client.create_task(input).await,
            Provider::Simulated(sim) => sim.create_task(input).await,
        }
    }

    pub async fn record_info(&self, task: &TaskId) -> Result<TaskRecord, SeedanceError> {
        match self {
            Provider::Live(client) => client.record_info(task).await,
            Provider::Simulated(sim) => sim.record_info(task).await,
        }
    }
}
