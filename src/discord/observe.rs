//! What the Discord side tells the operator's metrics, health check and logs: interactions
//! by command and outcome with their answer latency, whether the gateway is connected, and
//! which of serenity's log targets must stay off because they carry interaction tokens.

use serenity::all::{ConnectionStage, FullEvent};

use tracing_subscriber::EnvFilter;

use crate::http::Health;

/// serenity's HTTP client logs what it sends: each request is an INFO span whose fields are
/// the whole request (the route holds the token of interaction and webhook routes, the body
/// the message), shown on every line logged inside it; a mismatched status is a WARN with
/// the route's path and a failed response a DEBUG with its URL. An interaction token lets
/// anyone answer as the bot for 15 minutes, so these stay off at every level.
pub const TOKEN_BEARING_LOGS: &str = "serenity::http=off";

/// `filter` with [`TOKEN_BEARING_LOGS`] switched off, whatever `RUST_LOG` asked for (a
/// directive added last replaces one for the same target). The subscriber applies it.
pub fn without_token_bearing_logs(filter: EnvFilter) -> EnvFilter {
    filter.add_directive(TOKEN_BEARING_LOGS.parse().expect("a valid directive"))
}

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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What serenity's `Http::request` does: an INFO span holding the request, and a line
    /// logged by another crate inside it.
    fn log_a_request(filter: EnvFilter) -> String {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_env_filter(filter)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(target: "serenity::http::client", "request", req = "interactions/1/TOKEN-42/callback");
            let _in = span.enter();
            tracing::debug!(target: "hyper_util::client::legacy::pool", "reuse idle connection");
            tracing::warn!(target: "serenity::http::client", "Mismatched successful response status from interactions/1/TOKEN-42/callback");
        });
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn serenity_http_logs_stay_off_whatever_rust_log_says() {
        let leaked = log_a_request(EnvFilter::new("trace"));
        assert!(
            leaked.contains("TOKEN-42"),
            "the span leaks without the filter: {leaked}"
        );
        for asked in ["trace", "serenity=trace", "serenity::http=trace", "info"] {
            let out = log_a_request(without_token_bearing_logs(EnvFilter::new(asked)));
            assert!(!out.contains("TOKEN-42"), "RUST_LOG={asked}: {out}");
        }
        let out = log_a_request(without_token_bearing_logs(EnvFilter::new("trace")));
        assert!(
            out.contains("reuse idle connection"),
            "other crates still log: {out}"
        );
    }
}
