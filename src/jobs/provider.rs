//! Where tasks go: the real provider, or the built-in simulation. Every call is counted
//! (`seedance_provider_calls_total{endpoint,outcome}`) and feeds the health check.

use std::sync::Arc;

use crate::config::{ProviderMode, SeedanceConfig};
use crate::http::Health;
use crate::seedance::simulate::Simulator;
use crate::seedance::{SeedanceClient, SeedanceError, TaskId, TaskInput, TaskRecord};

pub struct Provider {
    backend: Backend,
    health: Option<Arc<Health>>,
}

enum Backend {
    Live(SeedanceClient),
    Simulated(Simulator),
}

impl Provider {
    pub fn from_config(config: &SeedanceConfig) -> Result<Provider, SeedanceError> {
        let backend = match config.mode {
            ProviderMode::Live => Backend::Live(SeedanceClient::new(config)?),
            ProviderMode::Simulate => Backend::Simulated(Simulator::new(&config.simulate)),
        };
        Ok(Provider {
            backend,
            health: None,
        })
    }

    /// Reports each call's outcome to the health check.
    pub fn with_health(mut self, health: Arc<Health>) -> Provider {
        self.health = Some(health);
        self
    }

    pub fn is_simulated(&self) -> bool {
        matches!(self.backend, Backend::Simulated(_))
    }

    pub async fn create_task(&self, input: &TaskInput) -> Result<TaskId, SeedanceError> {
        let result = match &self.backend {
            Backend::Live(client) => client.create_task(input).await,
            Backend::Simulated(sim) => sim.create_task(input).await,
        };
        self.observe("createTask", result.as_ref().err());
        result
    }

    pub async fn record_info(&self, task: &TaskId) -> Result<TaskRecord, SeedanceError> {
        let result = match &self.backend {
            Backend::Live(client) => client.record_info(task).await,
            Backend::Simulated(sim) => sim.record_info(task).await,
        };
        self.observe("recordInfo", result.as_ref().err());
        result
    }

    fn observe(&self, endpoint: &'static str, error: Option<&SeedanceError>) {
        let outcome = error.map_or("ok", outcome_label);
        metrics::counter!("seedance_provider_calls_total", "endpoint" => endpoint, "outcome" => outcome)
            .increment(1);
        if let Some(health) = &self.health {
            // Any answer the provider gave on purpose shows it is reachable.
            let reachable = !matches!(
                error,
                Some(
                    SeedanceError::Transport(_)
                        | SeedanceError::Unreachable(_)
                        | SeedanceError::Timeout
                        | SeedanceError::Malformed(_)
                        | SeedanceError::ProviderFault { .. }
                )
            );
            health.provider_answered(reachable);
        }
    }
}

fn outcome_label(error: &SeedanceError) -> &'static str {
    match error {
        SeedanceError::InvalidInput(_) | SeedanceError::InvalidRequest { .. } => "invalid",
        SeedanceError::Config(_) => "config",
        SeedanceError::Auth { .. } => "auth",
        SeedanceError::OutOfCredits { .. } => "out_of_credits",
        SeedanceError::NotFound { .. } => "not_found",
        SeedanceError::Busy { .. } => "busy",
        SeedanceError::RateLimited { .. } => "rate_limited",
        SeedanceError::ProviderFault { .. } => "provider_fault",
        SeedanceError::Transport(_) => "transport",
        SeedanceError::Unreachable(_) => "unreachable",
        SeedanceError::Timeout => "timeout",
        SeedanceError::Malformed(_) => "malformed",
    }
}
