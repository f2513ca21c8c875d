//! Logging: human-readable by default, JSON on request, level from `RUST_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber at `default_level` unless `RUST_LOG` says otherwise.
/// Logs go to stderr so the CLI's stdout stays clean.
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // Last, so no `RUST_LOG` can turn them back on: serenity's HTTP spans carry the
    // interaction tokens of the routes they call.
    let filter = crate::discord::observe::without_token_bearing_logs(filter);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour())
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        // Each line carries its innermost span's fields (a job's id, server and member) at
        // `span`, and every enclosing span's at `spans`.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

/// Colour codes only for a person at a terminal: never in a file or a pipe, and never when
/// `NO_COLOR` is set to anything (<https://no-color.org>).
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Every outcome an interaction is counted under.
const INTERACTION_OUTCOMES: [&str; 4] = ["ok", "refused", "error", "restarting"];
/// Every way a job ends (`JobState::label` of the terminal states).
const FINISHED_STATES: [&str; 6] = [
    "succeeded",
    "failed",
    "timed_out",
    "cancelled",
    "rejected",
    "approval_expired",
];
/// Every outcome a provider call is counted under (see `jobs::provider`).
const PROVIDER_OUTCOMES: [&str; 12] = [
    "ok",
    "invalid",
    "config",
    "auth",
    "out_of_credits",
    "not_found",
    "busy",
    "rate_limited",
    "provider_fault",
    "transport",
    "timeout",
    "malformed",
];

/// Installs the metrics recorder and gives every counter and gauge series its help text and
/// a 0, so the first scrape shows them all: a dashboard or alert on a series that does not
/// exist yet sees nothing rather than 0. `commands` are the interaction labels (command
/// names, subcommands' qualified names, and `button`). Histograms and the per-shard latency
/// appear with their first sample: an invented 0 there would read as a measurement.
pub fn register_metrics(commands: &[String]) {
    crate::http::metrics_handle();
    metrics::describe_counter!(
        "seedance_interactions_total",
        "Interactions handled, by command and outcome"
    );
    metrics::describe_histogram!(
        "seedance_interaction_answer_seconds",
        metrics::Unit::Seconds,
        "Time from an interaction's creation to the bot's answer"
    );
    metrics::describe_gauge!(
        "seedance_jobs",
        "Jobs awaiting approval, queued, submitting and running now"
    );
    metrics::describe_counter!("seedance_jobs_finished_total", "Jobs ended, by final state");
    metrics::describe_counter!(
        "seedance_provider_calls_total",
        "Calls to the video provider, by endpoint and outcome"
    );
    metrics::describe_counter!("seedance_credits_reserved_total", "Credits held for jobs");
    metrics::describe_counter!(
        "seedance_credits_settled_total",
        "Credits paid for videos made"
    );
    metrics::describe_counter!(
        "seedance_credits_refunded_total",
        "Credits given back for jobs that did not make a video"
    );
    metrics::describe_gauge!(
        "seedance_gateway_latency_seconds",
        metrics::Unit::Seconds,
        "Gateway heartbeat to acknowledgement, by shard"
    );
    for command in commands {
        for outcome in INTERACTION_OUTCOMES {
            metrics::counter!("seedance_interactions_total", "command" => command.clone(), "outcome" => outcome)
                .increment(0);
        }
    }
    for state in ["awaiting_approval", "queued", "submitting", "running"] {
        metrics::gauge!("seedance_jobs", "state" => state).increment(0.0);
    }
    for state in FINISHED_STATES {
        metrics::counter!("seedance_jobs_finished_total", "state" => state).increment(0);
    }
    for endpoint in ["createTask", "recordInfo"] {
        for outcome in PROVIDER_OUTCOMES {
            metrics::counter!("seedance_provider_calls_total", "endpoint" => endpoint, "outcome" => outcome)
                .increment(0);
        }
    }
    for name in [
        "seedance_credits_reserved_total",
        "seedance_credits_settled_total",
        "seedance_credits_refunded_total",
    ] {
        metrics::counter!(name).increment(0);
    }
}

/// An error and its causes on one line, each said once: library errors often repeat their
/// source's text in their own (serenity's "Error while sending HTTP request." says nothing
/// of why without its sources).
pub fn explain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}
