//! Languages: a member reads private answers in their Discord client's language, the server's
//! public messages (card, thread, final ping) follow the server's language, and the commands
//! are registered with their Simplified Chinese names and descriptions.

use super::video::{callback, card_id, final_message, setup_in, video};
use super::*;
use crate::support::discord_double::{File, Opt, SlashCommand, perms};
use crate::support::fake_provider::Endpoint;

/// Injects `command` and returns its ephemeral reply's text; panics if it was public.
pub async fn private_reply(double: &DiscordDouble, command: &SlashCommand) -> String {
    let injected = double.inject(command).await;
    let cb = callback(double, &injected).await;
    assert_eq!(cb["type"], 4, "{cb}");
    assert_eq!(
        cb["data"]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "ephemeral: {cb}"
    );
    cb["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn admin(sub: &str, options: Vec<Opt>) -> SlashCommand {
    SlashCommand::in_guild("video-admin", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand(sub, options))
}

/// Each refusal kind, asked by a zh-CN member and an en-US member of the same server: each
/// reads it in their own language, and nothing is charged or sent upstream.
async fn each_member_reads_refusals_in_their_own_language(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let png = || File::new("boat.png", "image/png", b"png".to_vec());
    // (the command, what the English reply says, what the Chinese reply says)
    let cases: Vec<(SlashCommand, &str, &str)> = vec![
        (
            video("a boat").option(Opt::attachment("video", png())),
            "`video` takes a video, but `boat.png` is an image",
            "`video` 接受视频，但 `boat.png` 是图片",
        ),
        (
            video("a boat").option(Opt::integer("duration", 30)),
            "I can't make this video: a duration of 30 s is not allowed here: choose between 4 and 15 seconds. Nothing was charged.",
            "无法制作这个视频：这里不允许 30 秒的时长：请在 4 到 15 秒之间选择。未扣除任何积分。",
        ),
        (
            video("a boat").option(Opt::string("references", "https://cdn.example.com/page")),
            "I can't tell whether `https://cdn.example.com/page` is an image",
            "无法判断 `https://cdn.example.com/page` 是图片、视频还是音频",
        ),
        (
            video("a boat").option(Opt::string("references", "http://cdn.example.com/a.png")),
            "only https:// links are accepted",
            "只接受 https:// 链接",
        ),
        (
            video("a boat")
                .option(Opt::attachment("image", png()))
                .links_expire_at(1_700_000_000),
            "have expired or expire within a minute",
            "已过期或将在一分钟内过期",
        ),
        (
            video("a boat")
                .option(Opt::integer("resolution", 2))
                .option(Opt::integer("duration", 15)),
            "Not enough credits: the pool has 1,000 credits available and this video needs 2,400",
            "积分不足：积分池可用 1,000 积分，而这个视频需要 2,400",
        ),
        (
            SlashCommand::in_guild("credits", GUILD, CHANNEL, MEMBER).option(Opt::subcommand(
                "history",
                vec![Opt::user("user", OTHER_MEMBER)],
            )),
            "You need the Manage Server permission to see another member's history.",
            "你需要“管理服务器”权限才能查看其他成员的记录。",
        ),
    ];
    for (command, english, chinese) in &cases {
        let text = private_reply(&double, &command.clone().locale("zh-CN")).await;
        assert!(text.contains(chinese), "expected {chinese:?} in {text:?}");
        assert!(!text.contains("Nothing was charged"), "{text}");
        let text = private_reply(&double, &command.clone().locale("en-US")).await;
        assert!(text.contains(english), "expected {english:?} in {text:?}");
    }

    // A server rule (the channel) and a daily cap, set by an admin.
    let text = private_reply(
        &double,
        &admin("allow-channel", vec![Opt::channel("channel", 42)]).locale("zh-CN"),
    )
    .await;
    assert!(text.contains("现在可以在 <#42> 使用 `/video`"), "{text}");
    assert!(text.contains("**频道**：<#42>"), "{text}");
    let text = private_reply(&double, &video("a boat").locale("zh-CN")).await;
    assert!(
        text.starts_with("本服务器只允许在 <#42> 使用 `/video`")
            && text.ends_with("未扣除任何积分。"),
        "{text}"
    );
    let text = private_reply(&double, &video("a boat")).await;
    assert!(
        text.starts_with("This server allows `/video` only in <#42>")
            && text.ends_with("Nothing was charged."),
        "{text}"
    );
    private_reply(&double, &admin("any-channel", vec![])).await;
    let cap = SlashCommand::in_guild("credits", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand("cap", vec![Opt::integer("amount", 300)]))
        .locale("zh-CN");
    let text = private_reply(&double, &cap).await;
    assert_eq!(text, "成员现在默认每天可以花费最多 300 积分。");
    let text = private_reply(&double, &video("a boat").locale("zh-CN")).await;
    assert!(
        text.starts_with("积分不足：你今天已使用每日 300 积分中的 0，而这个视频需要 400；额度将于")
            && text.contains("日 00:00 (UTC) 重置"),
        "{text}"
    );
    let text = private_reply(&double, &video("a boat")).await;
    assert!(
        text.contains("you have used 0 of your 300 daily credits"),
        "{text}"
    );

    // A DM has no pool.
    let dm = SlashCommand::in_dm("video", 77, MEMBER)
        .option(Opt::string("prompt", "a boat"))
        .locale("zh-CN");
    let injected = double.inject(&dm).await;
    let cb = callback(&double, &injected).await;
    let text = cb["data"]["content"].as_str().unwrap();
    assert!(text.starts_with("`/video` 只能在服务器中使用"), "{text}");

    let b = app.balance();
    assert_eq!(
        (b.available, b.pending, b.settled),
        (1000, 0, 0),
        "nothing charged"
    );
    assert_eq!(
        provider.count(Endpoint::CreateTask),
        0,
        "nothing sent upstream"
    );
    assert_no_violations(&double);
    app.stop().await;
}

/// The card, the thread's messages and the final ping follow the server's language (chosen
/// by an admin, else the server's own locale); the prompt and the links stay as written.
async fn public_messages_follow_the_server_language(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    app.grant(1000).await;

    // A Chinese server (its guild_locale), nothing chosen: an English-speaking member's card
    // is in Chinese; their private answers stay in English.
    let prompt = "a paper boat on a pond, 清晨";
    let asked = video(prompt).guild_locale("zh-CN");
    let injected = double.inject(&asked).await;
    let cb = callback(&double, &injected).await;
    let embed = &cb["data"]["embeds"][0];
    assert_eq!(embed["title"], "视频任务", "{embed}");
    assert_eq!(
        embed["description"], prompt,
        "the prompt is shown as written"
    );
    let fields: Vec<(&str, &str)> = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["value"].as_str().unwrap()))
        .collect();
    assert!(
        fields.contains(&("费用", "400 积分（冻结至视频完成）")),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("参数", "720p · 16:9 · 5 秒 · 音频关 · 联网搜索关")),
        "{fields:?}"
    );
    let card = card_id(&double, &injected);
    let done = final_message(&double, card).await;
    let thread = double
        .threads()
        .into_iter()
        .find(|t| t["id"].as_str() == Some(&card.to_string()))
        .expect("a thread from the card");
    assert_eq!(thread["name"], prompt, "the thread is named by the prompt");
    let text = done["content"].as_str().unwrap();
    assert_eq!(
        text,
        format!("<@{MEMBER}> 你的视频已完成：\n{}", super::video::RESULT_URL)
    );

    // The admin chooses English: the next card is in English, whatever the server's locale.
    let text = private_reply(
        &double,
        &admin("language", vec![Opt::integer("language", 0)]).locale("zh-CN"),
    )
    .await;
    assert!(
        text.starts_with("本服务器的任务卡片、子区消息和最终提醒现在使用English。"),
        "{text}"
    );
    assert!(text.contains("**公开消息的语言**：English"), "{text}");
    let injected = double
        .inject(&video("a boat").guild_locale("zh-CN").locale("zh-CN"))
        .await;
    let cb = callback(&double, &injected).await;
    assert_eq!(cb["data"]["embeds"][0]["title"], "Video job", "{cb}");
    final_message(&double, card_id(&double, &injected)).await;

    // And Chinese again: the job's later messages (sent without an interaction) follow it.
    private_reply(
        &double,
        &admin("language", vec![Opt::integer("language", 1)]),
    )
    .await;
    let text = private_reply(
        &double,
        &SlashCommand::in_guild("video-admin", GUILD, CHANNEL, OTHER_MEMBER)
            .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
            .option(Opt::subcommand("show", vec![])),
    )
    .await;
    assert!(
        text.contains("**Language of public messages**: 简体中文"),
        "{text}"
    );
    let injected = double.inject(&video("a red kite")).await;
    let cb = callback(&double, &injected).await;
    assert_eq!(cb["data"]["embeds"][0]["title"], "视频任务", "{cb}");
    let card = card_id(&double, &injected);
    let done = final_message(&double, card).await;
    assert!(
        done["content"].as_str().unwrap().contains("你的视频已完成"),
        "{done}"
    );
    let edited = double.message(card).expect("the card");
    assert_eq!(
        edited["embeds"][0]["fields"][0]["value"], "完成",
        "{edited}"
    );
    assert_no_violations(&double);
    app.stop().await;
}

/// Discord's rule for command and option names (docs "Application Command Object").
fn name_rule() -> regex::Regex {
    regex::Regex::new(r"^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$").unwrap()
}

fn check_names(v: &Value, what: &str, slash: bool, rule: &regex::Regex, out: &mut Vec<String>) {
    let mut names = vec![v["name"].as_str().unwrap_or("").to_owned()];
    let zh_name = v["name_localizations"]["zh-CN"].as_str();
    match zh_name {
        Some(n) => names.push(n.to_owned()),
        None => out.push(format!("{what}: no zh-CN name")),
    }
    if slash {
        let zh_desc = v["description_localizations"]["zh-CN"].as_str();
        if !zh_desc.is_some_and(|d| (1..=100).contains(&d.chars().count())) {
            out.push(format!("{what}: zh-CN description {zh_desc:?}"));
        }
        for n in &names {
            if !rule.is_match(n) || n.to_lowercase() != *n {
                out.push(format!("{what}: name {n:?} breaks Discord's rule"));
            }
        }
    } else {
        for n in &names {
            if !(1..=32).contains(&n.chars().count()) {
                out.push(format!("{what}: name {n:?} is not 1-32 characters"));
            }
        }
    }
    for o in v["options"].as_array().into_iter().flatten() {
        let owhat = format!("{what} {}", o["name"]);
        check_names(o, &owhat, true, rule, out);
        for c in o["choices"].as_array().into_iter().flatten() {
            if c["name_localizations"]["zh-CN"].as_str().is_none() {
                out.push(format!("{owhat}: choice {} has no zh-CN name", c["name"]));
            }
        }
    }
}

async fn commands_are_registered_with_chinese_names_that_discord_accepts(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    let route = format!("/guilds/{GUILD}/commands");
    double
        .wait_for(|r| r.method == "PUT" && r.path.ends_with(&route), secs(10))
        .await;
    let registered = double.commands(Some(GUILD));
    assert!(registered.len() >= 4, "{registered:?}");
    let rule = name_rule();
    let mut problems = Vec::new();
    for c in &registered {
        let slash = c["type"].as_u64().unwrap_or(1) == 1;
        check_names(
            c,
            &format!("command {}", c["name"]),
            slash,
            &rule,
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let video = registered.iter().find(|c| c["name"] == "video").unwrap();
    assert_eq!(video["name_localizations"]["zh-CN"], "视频");
    let ratio = video["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "ratio")
        .unwrap();
    assert_eq!(ratio["name_localizations"]["zh-CN"], "宽高比");
    // A name breaking the rule is caught: the check is not vacuous.
    assert!(!rule.is_match("允许 频道") && !rule.is_match(&"视".repeat(33)));
    assert_no_violations(&double);
    app.stop().await;
}

/// A failed job in a Chinese server: the card and the final ping in Chinese, the provider's
/// own message inside them as the provider wrote it, and the refund said.
async fn a_failure_is_told_in_the_server_language_with_the_provider_words_kept(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    provider.set_default_script(vec![
        crate::support::fake_provider::Step::waiting(),
        crate::support::fake_provider::Step::fail(501, "face not clear"),
    ]);
    let injected = double.inject(&video("a boat").guild_locale("zh-CN")).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    let done = final_message(&double, card).await;
    assert_eq!(
        done["content"].as_str().unwrap(),
        format!(
            "<@{MEMBER}> 你的视频未能生成：服务商未能生成视频：face not clear。400 积分已退回积分池。"
        )
    );
    super::video::wait_delivered(&app, &injected.id.to_string()).await;
    let shown = double.message(card).expect("the card");
    let fields = &shown["embeds"][0]["fields"];
    assert_eq!(
        fields[0]["value"], "失败：服务商未能生成视频：face not clear",
        "{shown}"
    );
    assert_eq!(fields[1]["value"], "400 积分（已退还）", "{shown}");
    let text = private_reply(
        &double,
        &SlashCommand::in_guild("jobs", GUILD, CHANNEL, MEMBER).locale("zh-CN"),
    )
    .await;
    assert!(
        text.contains("失败 · 400 积分 · a boat")
            && text.ends_with("：服务商未能生成视频：face not clear"),
        "{text}"
    );
    assert_eq!(app.balance().available, 1000, "refunded");
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(
    each_member_reads_refusals_in_their_own_language,
    public_messages_follow_the_server_language,
    commands_are_registered_with_chinese_names_that_discord_accepts,
    a_failure_is_told_in_the_server_language_with_the_provider_words_kept,
);
