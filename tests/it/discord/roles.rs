//! Who may make videos: `/video-admin allow-role` / `disallow-role` / `any-role`. Checked from
//! the roles Discord lists in each interaction (a change counts from the next command), for
//! `/video` and "Run again" alike, before anything is charged.

use super::i18n::private_reply;
use super::video::{COST, callback, card_id, setup_in, video, wait_delivered};
use super::*;
use crate::support::discord_double::{ButtonPress, Opt, SlashCommand, perms};
use crate::support::fake_provider::Endpoint;

const OTHER_ROLE: u64 = 900_000_000_000_000_012;

fn admin(sub: &str, options: Vec<Opt>) -> SlashCommand {
    SlashCommand::in_guild("video-admin", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand(sub, options))
}

async fn only_members_with_an_allowed_role_make_videos_and_refusals_charge_nothing(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    app.grant(1000).await;

    // By default everyone may: a member without any role makes a video.
    let injected = double.inject(&video("a boat")).await;
    let cb = callback(&double, &injected).await;
    assert!(cb["data"]["embeds"][0]["title"].is_string(), "{cb}");
    let card = card_id(&double, &injected);
    wait_delivered(&app, &injected.id.to_string()).await;

    let text = private_reply(&double, &admin("allow-role", vec![Opt::role("role", ROLE)])).await;
    assert!(
        text.starts_with(&format!("Members with <@&{ROLE}> may now use `/video`")),
        "{text}"
    );
    assert!(
        text.contains(&format!("**Who may make videos**: <@&{ROLE}>")),
        "{text}"
    );
    let text = private_reply(
        &double,
        &admin("allow-role", vec![Opt::role("role", OTHER_ROLE)]).locale("zh-CN"),
    )
    .await;
    assert!(
        text.contains(&format!(
            "**可以生成视频的成员**：<@&{ROLE}>, <@&{OTHER_ROLE}>"
        )),
        "{text}"
    );

    // Without one of the roles: refused privately, naming the roles, in the member's language.
    let text = private_reply(&double, &video("a boat").roles(&[OTHER_MEMBER])).await;
    assert_eq!(
        text,
        format!(
            "This server lets members with one of these roles make videos: <@&{ROLE}>, <@&{OTHER_ROLE}> (a server admin can change this with `/video-admin allow-role`). Nothing was charged."
        )
    );
    let text = private_reply(&double, &video("a boat").locale("zh-CN")).await;
    assert!(
        text.starts_with(&format!(
            "本服务器只允许拥有以下身份组之一的成员生成视频：<@&{ROLE}>, <@&{OTHER_ROLE}>"
        )) && text.ends_with("未扣除任何积分。"),
        "{text}"
    );
    // "Run again" on the finished card is checked the same way for whoever presses it.
    let again = format!("seedance:again:{}", injected.id);
    let press = double
        .press(&ButtonPress::in_guild(
            &again,
            card,
            GUILD,
            CHANNEL,
            OTHER_MEMBER,
        ))
        .await;
    let cb = callback(&double, &press).await;
    assert_eq!(cb["data"]["flags"].as_u64().unwrap_or(0) & 64, 64, "{cb}");
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("make videos: <@&"),
        "{cb}"
    );
    assert_eq!(app.balance().available, 2000 - COST, "nothing more charged");
    assert_eq!(
        provider.count(Endpoint::CreateTask),
        1,
        "nothing more sent upstream"
    );

    // With one of them (the role given since the last command): a card, and the press too.
    let injected = double.inject(&video("a kite").roles(&[OTHER_ROLE])).await;
    let cb = callback(&double, &injected).await;
    assert!(cb["data"]["embeds"][0]["title"].is_string(), "{cb}");
    wait_delivered(&app, &injected.id.to_string()).await;
    let press = double
        .press(&ButtonPress::in_guild(&again, card, GUILD, CHANNEL, OTHER_MEMBER).roles(&[ROLE]))
        .await;
    let cb = callback(&double, &press).await;
    assert!(cb["data"]["embeds"][0]["title"].is_string(), "{cb}");
    wait_delivered(&app, &press.id.to_string()).await;

    // Taking the role back off the list; then any role again.
    let text = private_reply(
        &double,
        &admin("disallow-role", vec![Opt::role("role", OTHER_ROLE)]),
    )
    .await;
    assert!(
        text.contains(&format!("**Who may make videos**: <@&{ROLE}>\n")),
        "{text}"
    );
    let text = private_reply(&double, &video("a kite").roles(&[OTHER_ROLE])).await;
    assert!(text.contains("make videos: <@&"), "{text}");
    let text = private_reply(&double, &admin("any-role", vec![])).await;
    assert!(text.contains("**Who may make videos**: everyone"), "{text}");
    let injected = double.inject(&video("a kite")).await;
    let cb = callback(&double, &injected).await;
    assert!(cb["data"]["embeds"][0]["title"].is_string(), "{cb}");
    wait_delivered(&app, &injected.id.to_string()).await;

    // Members cannot change the rule.
    let text = private_reply(
        &double,
        &SlashCommand::in_guild("video-admin", GUILD, CHANNEL, MEMBER)
            .option(Opt::subcommand("allow-role", vec![Opt::role("role", ROLE)])),
    )
    .await;
    assert!(text.contains("Manage Server"), "{text}");

    let b = app.balance();
    assert_eq!((b.available, b.pending), (2000 - 4 * COST, 0), "{b:?}");
    assert_eq!(provider.count(Endpoint::CreateTask), 4);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(only_members_with_an_allowed_role_make_videos_and_refusals_charge_nothing,);
