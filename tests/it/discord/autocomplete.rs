//! The price before spending: while a member types `/video`'s `duration`, each length is
//! offered with its price (at the resolution and audio chosen so far, else the server's
//! defaults) and what the pool has left; `/credits balance` says what a default video costs
//! and how many more the member can make today. Nothing is charged or sent upstream by either.

use super::i18n::private_reply;
use super::video::{callback, setup_in};
use super::*;
use crate::support::discord_double::{Opt, SlashCommand, perms};
use crate::support::fake_provider::Endpoint;

/// `/video` being typed: the prompt written, `duration` focused with `typed` in it.
fn typing(typed: &str, chosen: Vec<Opt>) -> SlashCommand {
    let mut command = SlashCommand::in_guild("video", GUILD, CHANNEL, MEMBER)
        .option(Opt::string("prompt", "a boat"));
    for o in chosen {
        command = command.option(o);
    }
    command
        .option(Opt::focused("duration", 4, typed))
        .autocomplete()
}

/// The suggestions the bot answered `command` with: (label, seconds).
async fn suggestions(double: &DiscordDouble, command: &SlashCommand) -> Vec<(String, i64)> {
    let injected = double.inject(command).await;
    let cb = callback(double, &injected).await;
    assert_eq!(cb["type"], 8, "an autocomplete answer: {cb}");
    cb["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["value"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn admin(sub: &str, options: Vec<Opt>) -> SlashCommand {
    SlashCommand::in_guild("video-admin", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand(sub, options))
}

async fn duration_suggestions_show_each_price_and_the_pool(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    app.grant(9000).await;

    // Nothing typed, nothing chosen: every length at the default 720p (80/s).
    let all = suggestions(&double, &typing("", vec![])).await;
    let seconds: Vec<i64> = all.iter().map(|(_, s)| *s).collect();
    assert_eq!(seconds, (4..=15).collect::<Vec<_>>());
    assert_eq!(all[0].0, "4 s: 320 credits (pool: 10,000)");
    assert_eq!(all[1].0, "5 s: 400 credits (pool: 10,000)");
    assert_eq!(all[11].0, "15 s: 1,200 credits (pool: 10,000)");

    // "1" typed, 1080p with audio chosen: 10-15 s at 160 + 160 per second.
    let chosen = vec![
        Opt::integer("resolution", 2),
        Opt::boolean("generate_audio", true),
    ];
    let ones = suggestions(&double, &typing("1", chosen)).await;
    let labels: Vec<&str> = ones.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        [
            "10 s: 3,200 credits (pool: 10,000)",
            "11 s: 3,520 credits (pool: 10,000)",
            "12 s: 3,840 credits (pool: 10,000)",
            "13 s: 4,160 credits (pool: 10,000)",
            "14 s: 4,480 credits (pool: 10,000)",
            "15 s: 4,800 credits (pool: 10,000)",
        ]
    );

    // In the member's language.
    let zh = suggestions(&double, &typing("5", vec![]).locale("zh-CN")).await;
    assert_eq!(zh, [("5 秒：400 积分（积分池：10,000）".to_owned(), 5)]);

    // The server's default resolution and longest video shape them.
    private_reply(
        &double,
        &admin(
            "defaults",
            vec![Opt::integer("resolution", 0), Opt::integer("duration", 0)],
        ),
    )
    .await;
    private_reply(
        &double,
        &admin("limits", vec![Opt::integer("max_duration", 6)]),
    )
    .await;
    let limited = suggestions(&double, &typing("", vec![])).await;
    assert_eq!(
        limited,
        [
            ("4 s: 160 credits (pool: 10,000)".to_owned(), 4),
            ("5 s: 200 credits (pool: 10,000)".to_owned(), 5),
            ("6 s: 240 credits (pool: 10,000)".to_owned(), 6),
        ]
    );

    // Suggesting spends nothing and asks the provider nothing.
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (10_000, 0, 0));
    assert_eq!(provider.count(Endpoint::CreateTask), 0);
    assert!(
        app.jobs
            .recent(seedance_bot::ids::GuildId(GUILD), None, 10)
            .is_empty()
    );
    assert_no_violations(&double);
    app.stop().await;
}

async fn balance_says_what_a_default_video_costs_and_how_many_are_left_today(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    let balance = |locale: &str| {
        SlashCommand::in_guild("credits", GUILD, CHANNEL, MEMBER)
            .option(Opt::subcommand("balance", vec![]))
            .locale(locale)
    };
    // 1000 in the pool, no cap: two videos of 400.
    let text = private_reply(&double, &balance("en-US")).await;
    assert!(
        text.contains("**A default video** (720p, 5 s): 400 credits; you can make 2 more today."),
        "{text}"
    );
    // A daily cap of 500 leaves one.
    let cap = SlashCommand::in_guild("credits", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand("cap", vec![Opt::integer("amount", 500)]));
    private_reply(&double, &cap).await;
    let text = private_reply(&double, &balance("zh-CN")).await;
    assert!(
        text.contains("**默认视频**（720p，5 秒）：400 积分；你今天还可以生成 1 个。"),
        "{text}"
    );
    assert!(text.contains("**积分池**：可用 1,000 积分"), "{text}");
    assert_no_violations(&double);
    app.stop().await;
}

/// Suggestions while typing are not commands: they spend none of the member's command
/// allowance, so the command itself still goes through.
async fn suggestions_spend_no_command_allowance(mode: Mode) {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*app_config_in(mode, &double, &provider, dir.path(), "")).clone();
    config.members.commands_per_window = 2;
    config.members.command_window = Duration::from_secs(600);
    let app = TestApp::start(&double, std::sync::Arc::new(config)).await;
    app.grant(1000).await;
    for typed in ["", "1", "5", "", "1"] {
        assert!(
            !suggestions(&double, &typing(typed, vec![]))
                .await
                .is_empty()
        );
    }
    let balance = SlashCommand::in_guild("credits", GUILD, CHANNEL, MEMBER)
        .option(Opt::subcommand("balance", vec![]));
    for _ in 0..2 {
        let text = private_reply(&double, &balance).await;
        assert!(text.contains("1,000 credits available"), "{text}");
    }
    // The allowance is real: a third command within the window is refused.
    let text = private_reply(&double, &balance).await;
    assert!(text.contains("You are using commands too fast"), "{text}");
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(
    duration_suggestions_show_each_price_and_the_pool,
    balance_says_what_a_default_video_costs_and_how_many_are_left_today,
    suggestions_spend_no_command_allowance,
);
