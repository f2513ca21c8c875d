//! Daily caps by role through Discord: `/credits cap amount role:@role`, the cap chosen from
//! the roles each interaction lists (a member's own cap first, then the highest of their
//! roles' caps, then the server's default), and `/credits balance` naming the cap that applies.

use super::i18n::private_reply;
use super::video::{COST, callback, setup, video, wait_delivered};
use super::*;
use crate::support::discord_double::{Opt, SlashCommand, perms};
use crate::support::fake_provider::Endpoint;

const OTHER_ROLE: u64 = 900_000_000_000_000_012;

fn cap(options: Vec<Opt>) -> SlashCommand {
    SlashCommand::in_guild("credits", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand("cap", options))
}

fn balance(roles: &[u64]) -> SlashCommand {
    SlashCommand::in_guild("credits", GUILD, CHANNEL, MEMBER)
        .roles(roles)
        .option(Opt::subcommand("balance", vec![]))
}

#[tokio::test]
async fn role_caps_choose_the_highest_role_and_a_members_own_cap_comes_first() {
    let (double, provider, _dir, app) = setup().await;
    app.grant(1000).await;
    let cost = i64::try_from(COST).unwrap();

    // Members cannot set caps.
    let text = private_reply(
        &double,
        &SlashCommand::in_guild("credits", GUILD, CHANNEL, MEMBER).option(Opt::subcommand(
            "cap",
            vec![Opt::integer("amount", 1), Opt::role("role", ROLE)],
        )),
    )
    .await;
    assert!(text.contains("Manage Server"), "{text}");
    // A member or a role, not both.
    let text = private_reply(
        &double,
        &cap(vec![
            Opt::integer("amount", 1),
            Opt::user("user", MEMBER),
            Opt::role("role", ROLE),
        ]),
    )
    .await;
    assert_eq!(text, "Name a member or a role, not both.");

    let text = private_reply(
        &double,
        &cap(vec![Opt::integer("amount", cost), Opt::role("role", ROLE)]),
    )
    .await;
    assert!(
        text.starts_with(&format!(
            "Members with <@&{ROLE}> may now spend up to 400 credits a day"
        )),
        "{text}"
    );
    let text = private_reply(
        &double,
        &cap(vec![
            Opt::integer("amount", 2 * cost),
            Opt::role("role", OTHER_ROLE),
        ])
        .locale("zh-CN"),
    )
    .await;
    assert!(
        text.starts_with(&format!(
            "拥有 <@&{OTHER_ROLE}> 的成员现在每天可以花费最多 800"
        )),
        "{text}"
    );

    // `/credits balance` names the cap that applies, from the roles the member holds now.
    let text = private_reply(&double, &balance(&[])).await;
    assert!(
        text.contains("(no daily cap); the server's default cap applies."),
        "{text}"
    );
    let text = private_reply(&double, &balance(&[ROLE])).await;
    assert!(text.contains("0 of your 400 daily credits"), "{text}");
    assert!(
        text.contains(&format!("the cap of <@&{ROLE}> applies")),
        "{text}"
    );
    let text = private_reply(&double, &balance(&[ROLE, OTHER_ROLE])).await;
    assert!(
        text.contains(&format!("the cap of <@&{OTHER_ROLE}> applies")),
        "{text}"
    );

    // With the 400 cap: one video, then a refusal that charges nothing.
    let first = double.inject(&video("a boat").roles(&[ROLE])).await;
    let cb = callback(&double, &first).await;
    assert!(cb["data"]["embeds"][0]["title"].is_string(), "{cb}");
    wait_delivered(&app, &first.id.to_string()).await;
    let text = private_reply(&double, &video("a kite").roles(&[ROLE])).await;
    assert!(
        text.contains("you have used 400 of your 400 daily credits"),
        "{text}"
    );
    assert!(text.contains("Nothing was charged"), "{text}");
    assert_eq!(app.balance().available, 2000 - COST);

    // Given the higher role since: its 800 applies from the next command.
    let second = double
        .inject(&video("a kite").roles(&[ROLE, OTHER_ROLE]))
        .await;
    let cb = callback(&double, &second).await;
    assert!(cb["data"]["embeds"][0]["title"].is_string(), "{cb}");
    wait_delivered(&app, &second.id.to_string()).await;
    let text = private_reply(&double, &video("a cat").roles(&[ROLE, OTHER_ROLE])).await;
    assert!(
        text.contains("you have used 800 of your 800 daily credits"),
        "{text}"
    );

    // A member's own cap (here: none) overrides every role cap.
    let text = private_reply(
        &double,
        &cap(vec![Opt::integer("amount", 0), Opt::user("user", MEMBER)]),
    )
    .await;
    assert!(text.contains("any number of"), "{text}");
    let text = private_reply(&double, &balance(&[ROLE])).await;
    assert!(
        text.contains("(no daily cap); your own cap applies."),
        "{text}"
    );
    let third = double.inject(&video("a cat").roles(&[ROLE])).await;
    let cb = callback(&double, &third).await;
    assert!(cb["data"]["embeds"][0]["title"].is_string(), "{cb}");
    wait_delivered(&app, &third.id.to_string()).await;

    let b = app.balance();
    assert_eq!((b.available, b.pending), (2000 - 3 * COST, 0), "{b:?}");
    assert_eq!(provider.count(Endpoint::CreateTask), 3);
    assert_eq!(app.ledger.verify().unwrap(), Vec::<String>::new());
    assert_no_violations(&double);
    app.stop().await;
}
