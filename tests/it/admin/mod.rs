//! Server controls and safety through the real serenity client, the local Discord double
//! and the fake provider: `/video-admin` settings, the content filter, input hardening,
//! `/credits link|unlink`, the command rate limit, operator alerts, secrets and the export.

mod export;
mod filter;
mod hardening;
mod operators;
mod secrets;
mod settings;

use std::sync::Arc;

use seedance_bot::config::Config;
use serde_json::Value;

use crate::discord::video::{RESULT_URL, callback, wait_delivered};
use crate::discord::{CHANNEL, GUILD, OTHER_MEMBER, TestApp};
use crate::support::discord_double::{DiscordDouble, Injected, Opt, SlashCommand, perms};
use crate::support::fake_provider::{Endpoint, FakeProvider, Step};

/// A second text channel of the test server.
pub const OTHER_CHANNEL: u64 = 900_000_000_000_000_010;

/// The bot with 1000 credits, its config changed by `tune` first.
pub async fn start(
    tune: impl FnOnce(&mut Config),
) -> (DiscordDouble, FakeProvider, tempfile::TempDir, TestApp) {
    start_in(crate::discord::Mode::Gateway, tune).await
}

/// [`start`] with interactions delivered as `mode` says.
pub async fn start_in(
    mode: crate::discord::Mode,
    tune: impl FnOnce(&mut Config),
) -> (DiscordDouble, FakeProvider, tempfile::TempDir, TestApp) {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![Step::waiting(), Step::success([RESULT_URL])]);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config =
        (*crate::discord::app_config_in(mode, &double, &provider, dir.path(), "")).clone();
    tune(&mut config);
    let app = TestApp::start(&double, Arc::new(config)).await;
    app.grant(1000).await;
    (double, provider, dir, app)
}

/// `/video-admin <sub>` by a member with Manage Server.
pub fn admin(sub: &str, options: Vec<Opt>) -> SlashCommand {
    SlashCommand::in_guild("video-admin", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand(sub, options))
}

/// `/video prompt:<prompt>` by `MEMBER` in `CHANNEL`.
pub fn video(prompt: &str) -> SlashCommand {
    crate::discord::video::video(prompt)
}

/// Injects `command`; returns the callback body and whether it was ephemeral.
pub async fn answer(double: &DiscordDouble, command: &SlashCommand) -> (Injected, Value, bool) {
    let injected = double.inject(command).await;
    let cb = callback(double, &injected).await;
    let ephemeral = cb["data"]["flags"].as_u64().unwrap_or(0) & 64 == 64;
    (injected, cb, ephemeral)
}

/// The private reply's text; panics if the answer was public.
pub async fn private_text(double: &DiscordDouble, command: &SlashCommand) -> String {
    let (_, cb, ephemeral) = answer(double, command).await;
    assert!(ephemeral, "expected a private reply: {cb}");
    cb["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A public job card was posted; returns the interaction.
pub async fn accepted(double: &DiscordDouble, command: &SlashCommand) -> (Injected, Value) {
    let (injected, cb, ephemeral) = answer(double, command).await;
    assert!(!ephemeral, "expected a job card: {cb}");
    assert!(cb["data"]["embeds"][0].is_object(), "{cb}");
    (injected, cb)
}

/// `command` is refused privately with text containing `expected`, no credits move and no
/// task is created upstream.
pub async fn refused(
    double: &DiscordDouble,
    provider: &FakeProvider,
    app: &TestApp,
    command: &SlashCommand,
    expected: &str,
) {
    let before = app.balance();
    let tasks = provider.count(Endpoint::CreateTask);
    let text = private_text(double, command).await;
    assert!(text.contains(expected), "expected {expected:?} in {text:?}");
    assert_eq!(app.balance(), before, "credits moved for: {text}");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        provider.count(Endpoint::CreateTask),
        tasks,
        "upstream called for: {text}"
    );
}

/// The card's Parameters field.
pub fn parameters(cb: &Value) -> String {
    cb["data"]["embeds"][0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "Parameters"))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the job of `injected` is delivered; returns its upstream request body.
pub async fn sent_upstream(app: &TestApp, provider: &FakeProvider, injected: &Injected) -> Value {
    let job = wait_delivered(app, &injected.id.to_string()).await;
    let task = match &job.state {
        seedance_bot::jobs::JobState::Succeeded { task_id, .. } => task_id.clone(),
        other => panic!("job did not succeed: {other:?}"),
    };
    provider.task_request(&task).expect("the task's request")
}
