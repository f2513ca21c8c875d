//! The two secrets (`discord.token`, `seedance.api_key`) never show: not in any log line
//! (every target at TRACE), not in any message or request body the bot sent, not in any
//! error or stored job, through a full job and a failing one. Members' interaction tokens
//! never show in a log line or a stored job's `Debug` either.

use std::io::Write;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;
use tracing_subscriber::fmt::MakeWriter;

use super::*;
use crate::discord::{TOKEN_SECRET, secs};
use crate::support::discord_double::ButtonPress;
use crate::support::fake_provider::Scripted;

const API_KEY: &str = "sk-SEEDANCE-SECRET-4242";
const API_KEY_SECRET: &str = "SEEDANCE-SECRET-4242";

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

fn assert_clean(what: &str, text: &str) {
    for secret in [TOKEN_SECRET, API_KEY_SECRET] {
        assert!(!text.contains(secret), "{what} contains a secret: {text}");
    }
}

#[tokio::test]
async fn neither_secret_appears_in_logs_messages_bodies_or_errors() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        // Everything the bot and its libraries log; the test doubles' own logs are not the bot's.
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,it=off"))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (double, provider, _dir, app) = start(|c| {
        c.seedance.api_key = SecretString::from(API_KEY);
    })
    .await;
    provider.require_api_key(API_KEY);
    assert_clean(
        "the config's Debug",
        &format!("{:?}", app.jobs.settings().config),
    );

    // A full job.
    let (injected, _) = accepted(&double, &video("a boat")).await;
    let ok = wait_delivered(&app, &injected.id.to_string()).await;
    assert!(matches!(
        ok.state,
        seedance_bot::jobs::JobState::Succeeded { .. }
    ));
    // A failing one: the provider refuses the key.
    provider.push(
        Endpoint::CreateTask,
        Scripted::error(401, "invalid api key"),
    );
    let (injected, _) = accepted(&double, &video("another boat")).await;
    let failed = wait_delivered(&app, &injected.id.to_string()).await;
    assert!(matches!(
        failed.state,
        seedance_bot::jobs::JobState::Failed { .. }
    ));
    // And a refusal.
    private_text(
        &double,
        &video("x").option(Opt::string("references", "http://a.example.com/a.png")),
    )
    .await;
    double
        .wait_for(|r| r.is("POST", "/users/@me/channels"), secs(5))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.stop().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("job accepted") && text.contains("TRACE"),
        "logs were captured"
    );
    for line in text.lines() {
        assert_clean("a log line", line);
    }
    for r in double.requests() {
        assert_clean(&format!("{} {}", r.method, r.path), &r.body().to_string());
        assert_clean("a request path", &format!("{} {:?}", r.path, r.query));
    }
    for r in provider.requests() {
        assert_clean("a provider request body", &r.raw_body);
    }
    for job in [&ok, &failed] {
        assert_clean("a stored job", &serde_json::to_string(job).unwrap());
    }
}

/// A member's interaction token (it lets anyone answer as the bot for 15 minutes) never
/// shows in a log line (every target at TRACE, with the filter the bot's subscriber needs:
/// serenity's HTTP spans carry it) nor in a stored job's `Debug`, for a `/video` and for a
/// button press.
async fn interaction_tokens_appear_in_no_log_line_or_job_debug(mode: crate::discord::Mode) {
    let logs = Captured::default();
    let filter = tracing_subscriber::EnvFilter::new("trace,it=off");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_env_filter(seedance_bot::discord::observe::without_token_bearing_logs(
            filter,
        ))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (double, _provider, _dir, app) = start_in(mode, |_| {}).await;
    let (asked, _) = accepted(&double, &video("a boat")).await;
    let first = wait_delivered(&app, &asked.id.to_string()).await;
    let card = crate::discord::video::card_id(&double, &asked);
    let pressed = double
        .press(&ButtonPress::in_guild(
            &format!("seedance:again:{}", asked.id),
            card,
            GUILD,
            CHANNEL,
            OTHER_MEMBER,
        ))
        .await;
    let cb = callback(&double, &pressed).await;
    assert_eq!(cb["type"], 4, "Run again made a job: {cb}");
    let again = wait_delivered(&app, &pressed.id.to_string()).await;
    app.stop().await;

    let tokens = [asked.token.as_str(), pressed.token.as_str()];
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("job accepted") && text.contains("TRACE"),
        "logs were captured"
    );
    for line in text.lines() {
        for token in tokens {
            assert!(
                !line.contains(token),
                "a log line has an interaction token: {line}"
            );
        }
    }
    for job in [&first, &again] {
        let shown = format!("{job:?}");
        for token in tokens {
            assert!(!shown.contains(token), "a job's Debug has a token: {shown}");
        }
    }
}

crate::in_both_modes!(interaction_tokens_appear_in_no_log_line_or_job_debug);
