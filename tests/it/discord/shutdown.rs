//! Stopping: once the bot drains, commands and button presses are answered "restarting"
//! (only to their author) and nothing else happens; then the runner returns promptly.

use super::RESTARTING;
use super::video::{callback, video};
use super::*;
use crate::support::discord_double::ButtonPress;

fn ephemeral_text(cb: &Value) -> &str {
    assert_eq!(cb["type"], 4, "a message answer: {cb}");
    assert_eq!(
        cb["data"]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "ephemeral: {cb}"
    );
    cb["data"]["content"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn while_draining_interactions_are_answered_restarting() {
    let double = DiscordDouble::start().await;
    let config = config_for(&double, &[GUILD]);
    let dir = tempfile::tempdir().unwrap();
    let data = test_data(config.clone(), dir.path()).await;
    let health = data.health.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let runner = tokio::spawn(discord::run(
        data,
        seedance_bot::discord::commands::all(&config),
        async {
            let _ = stopped.await;
        },
    ));
    double.wait_ready(secs(10)).await;

    health.start_draining();
    let command = double.inject(&video("a boat while restarting")).await;
    assert_eq!(
        ephemeral_text(&callback(&double, &command).await),
        RESTARTING
    );
    let press = double
        .press(&ButtonPress::in_guild(
            "cancel:123",
            42,
            GUILD,
            CHANNEL,
            OTHER_MEMBER,
        ))
        .await;
    assert_eq!(ephemeral_text(&callback(&double, &press).await), RESTARTING);
    // A member whose Discord speaks Chinese reads it in Chinese.
    let chinese = double.inject(&video("一条船").locale("zh-CN")).await;
    assert_eq!(
        ephemeral_text(&callback(&double, &chinese).await),
        "机器人正在重启，请一分钟后再试。"
    );
    // Nothing but the three answers touched a channel or an interaction: no card, no thread.
    let answers: Vec<String> = double
        .requests()
        .iter()
        .filter(|r| {
            ["/interactions/", "/channels/", "/webhooks/"]
                .iter()
                .any(|p| r.path.starts_with(p))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(answers.len(), 3, "{answers:#?}");
    assert_pings_at_most_one(&double);
    assert_no_violations(&double);

    let _ = stop.send(());
    let started = tokio::time::Instant::now();
    tokio::time::timeout(secs(5), runner)
        .await
        .expect("the runner stops within 5 s")
        .expect("no panic")
        .expect("a clean stop");
    assert!(started.elapsed() < secs(5));
}
