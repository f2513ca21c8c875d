//! What the Discord side tells the operator's metrics and health check: interactions by
//! command and outcome with their answer latency, and whether the gateway is connected.

use serenity::all::{ConnectionStage, FullEvent};

use crate::http::Health;

/// Discord's epoch (2015-01-01) in unix millis: snowflakes count from it.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Counts one handled interaction and how long after it was created it was answered.
pub fn interaction(command: &str, outcome: &'static str, interaction_id: u64) {
    metrics::counter!("seedance_interactions_total", "command" => command.to_owned(), "outcome" => outcome)
        .increment(1);
    let created = (interaction_id >> 22) + DISCORD_EPOCH_MS;
    let now = u64::try_from(crate::clock::now_ms()).unwrap_or(0);
    if now >= created {
        let seconds = (now - created) as f64 / 1000.0;
        metrics::histogram!("seedance_interaction_answer_seconds", "command" => command.to_owned())
            .record(seconds);
    }
}

/// Follows the gateway's connection state for `/healthz`.
pub fn gateway_event(health: &Health, event: &FullEvent) {
    match event {
        FullEvent::Ready { .. } | FullEvent::Resume { .. } => health.set_gateway_connected(true),
        FullEvent::ShardStageUpdate { event } => {
            health.set_gateway_connected(event.new == ConnectionStage::Connected);
        }
        _ => {}
    }
}
