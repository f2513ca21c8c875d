//! Each `/video-admin` setting changes what `/video` does, refusals charge nothing, and only
//! members with Manage Server may change them.

use super::*;
use crate::discord::MEMBER;

async fn only_managers_change_settings_and_show_lists_them_all(mode: crate::discord::Mode) {
    let (double, _provider, _dir, app) = start_in(mode, |_| {}).await;
    let plain = SlashCommand::in_guild("video-admin", GUILD, CHANNEL, MEMBER).option(
        Opt::subcommand("cooldown", vec![Opt::integer("seconds", 60)]),
    );
    let text = private_text(&double, &plain).await;
    assert!(text.contains("Manage Server"), "{text}");
    let settings = app
        .jobs
        .guild_settings()
        .get(seedance_bot::ids::GuildId(GUILD))
        .unwrap();
    assert_eq!(
        settings.cooldown_secs, 0,
        "a refused change changes nothing"
    );

    // Discord hides the command from members without Manage Server.
    let registered = double.commands(Some(GUILD));
    let cmd = registered
        .iter()
        .find(|c| c["name"] == "video-admin")
        .expect("registered");
    assert_eq!(cmd["default_member_permissions"], "32", "{cmd}");

    let text = private_text(&double, &admin("show", vec![])).await;
    for part in [
        "Channels",
        "everywhere",
        "Largest video",
        "Defaults",
        "720p, 16:9, 5 s",
        "Cooldown",
        "Web search",
        "Content filter",
        "always on",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    app.stop().await;
}

async fn allowed_channels_limit_where_video_works(mode: crate::discord::Mode) {
    let (double, provider, _dir, app) = start_in(mode, |_| {}).await;
    app.grant(1000).await;
    let text = private_text(
        &double,
        &admin(
            "allow-channel",
            vec![Opt::channel("channel", OTHER_CHANNEL)],
        ),
    )
    .await;
    assert!(text.contains(&format!("<#{OTHER_CHANNEL}>")), "{text}");
    refused(
        &double,
        &provider,
        &app,
        &video("a boat"),
        &format!("only in <#{OTHER_CHANNEL}>"),
    )
    .await;
    let elsewhere = SlashCommand::in_guild("video", GUILD, OTHER_CHANNEL, MEMBER)
        .option(Opt::string("prompt", "a boat"));
    let (injected, _) = accepted(&double, &elsewhere).await;
    wait_delivered(&app, &injected.id.to_string()).await;
    // A thread of an allowed channel is allowed too.
    let thread = SlashCommand::in_guild("video", GUILD, 900_000_000_000_000_077, MEMBER)
        .in_thread(OTHER_CHANNEL)
        .option(Opt::string("prompt", "a boat"));
    let (injected, _) = accepted(&double, &thread).await;
    wait_delivered(&app, &injected.id.to_string()).await;
    private_text(&double, &admin("any-channel", vec![])).await;
    accepted(&double, &video("a boat")).await;
    app.stop().await;
}

#[tokio::test]
async fn limits_refuse_larger_videos_and_clamp_defaults() {
    let (double, provider, _dir, app) = start(|_| {}).await;
    private_text(
        &double,
        &admin(
            "limits",
            vec![
                Opt::integer("max_resolution", 0),
                Opt::integer("max_duration", 4),
            ],
        ),
    )
    .await;
    refused(
        &double,
        &provider,
        &app,
        &video("a boat").option(Opt::integer("resolution", 1)),
        "up to 480p only",
    )
    .await;
    refused(
        &double,
        &provider,
        &app,
        &video("a boat").option(Opt::integer("duration", 8)),
        "up to 4 seconds only",
    )
    .await;
    // Left unset, the bot's defaults (720p, 5 s) are brought within the limits.
    let (_, cb) = accepted(&double, &video("a boat")).await;
    assert!(
        parameters(&cb).starts_with("480p · 16:9 · 4 s"),
        "{}",
        parameters(&cb)
    );
    app.stop().await;
}

#[tokio::test]
async fn defaults_apply_when_members_leave_options_out() {
    let (double, _provider, _dir, app) = start(|_| {}).await;
    let text = private_text(
        &double,
        &admin(
            "defaults",
            vec![
                Opt::integer("resolution", 0),
                Opt::integer("ratio", 1),
                Opt::integer("duration", 6),
            ],
        ),
    )
    .await;
    assert!(text.contains("480p, 9:16, 6 s"), "{text}");
    let (_, cb) = accepted(&double, &video("a boat")).await;
    assert!(
        parameters(&cb).starts_with("480p · 9:16 · 6 s"),
        "{}",
        parameters(&cb)
    );
    // 480p at 40/s for 6 s.
    assert_eq!(app.balance().pending, 240);
    app.stop().await;
}

async fn cooldown_spaces_a_members_jobs(mode: crate::discord::Mode) {
    let (double, provider, _dir, app) = start_in(mode, |_| {}).await;
    private_text(
        &double,
        &admin("cooldown", vec![Opt::integer("seconds", 3600)]),
    )
    .await;
    let (injected, _) = accepted(&double, &video("a boat")).await;
    wait_delivered(&app, &injected.id.to_string()).await;
    refused(
        &double,
        &provider,
        &app,
        &video("another boat"),
        "wait 3,600 s between videos: try again in",
    )
    .await;
    private_text(
        &double,
        &admin("cooldown", vec![Opt::integer("seconds", 0)]),
    )
    .await;
    accepted(&double, &video("another boat")).await;
    app.stop().await;
}

#[tokio::test]
async fn web_search_can_be_turned_off() {
    let (double, provider, _dir, app) = start(|_| {}).await;
    private_text(
        &double,
        &admin("web-search", vec![Opt::boolean("allowed", false)]),
    )
    .await;
    let asking = video("a boat").option(Opt::boolean("web_search", true));
    refused(
        &double,
        &provider,
        &app,
        &asking,
        "does not allow `web_search`",
    )
    .await;
    let (injected, _) = accepted(&double, &video("a boat")).await;
    let sent = sent_upstream(&app, &provider, &injected).await;
    assert_eq!(sent["input"]["web_search"], false, "{sent}");
    app.stop().await;
}

crate::in_both_modes!(
    only_managers_change_settings_and_show_lists_them_all,
    allowed_channels_limit_where_video_works,
    cooldown_spaces_a_members_jobs,
);
