//! What only the bot's operators do: share a pool between servers (`/credits link`,
//! `/credits unlink`, journalled), and hear about it when the provider refuses the bot's
//! account (a DM, at most once an hour). Also the per-member command rate limit.

use seedance_bot::credits::{Actor, EntryKind};
use seedance_bot::ids::{GuildId, MemberId};

use super::*;
use crate::discord::{MEMBER, secs};
use crate::support::fake_provider::Scripted;

const OTHER_GUILD: u64 = 900_000_000_000_000_020;

fn credits(who: u64, sub: &str, options: Vec<Opt>) -> SlashCommand {
    SlashCommand::in_guild("credits", GUILD, CHANNEL, who)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD | perms::ADMINISTRATOR)
        .option(Opt::subcommand(sub, options))
}

async fn only_operators_link_and_unlink_pools_and_both_are_journalled(mode: crate::discord::Mode) {
    let (double, _provider, _dir, app) = start_in(mode, |_| {}).await;
    app.ledger
        .grant(GuildId(OTHER_GUILD), 5000, Actor::Cli, "other server")
        .await
        .unwrap();
    let link = |who| {
        credits(
            who,
            "link",
            vec![Opt::string("server", &OTHER_GUILD.to_string())],
        )
    };

    // Even an administrator of the server is not an operator.
    let text = private_text(&double, &link(OTHER_MEMBER)).await;
    assert!(
        text.contains("Only the bot's operators can link pools"),
        "{text}"
    );
    assert_eq!(app.balance().available, 1000);
    let text = private_text(&double, &credits(OTHER_MEMBER, "unlink", vec![])).await;
    assert!(
        text.contains("Only the bot's operators can unlink pools"),
        "{text}"
    );

    let text = private_text(
        &double,
        &credits(MEMBER, "link", vec![Opt::string("server", "not-a-number")]),
    )
    .await;
    assert!(text.contains("must be a server id"), "{text}");

    let text = private_text(&double, &link(MEMBER)).await;
    assert!(text.contains("5,000 credits available"), "{text}");
    assert_eq!(
        app.balance().available,
        5000,
        "this server now spends the other's pool"
    );
    let rows = app.ledger.history(GuildId(OTHER_GUILD), None, 10).unwrap();
    let row = rows
        .iter()
        .find(|r| r.kind == EntryKind::Link)
        .expect("a link row");
    assert_eq!(row.actor, Actor::Operator(MemberId(MEMBER)));
    assert_eq!(row.guild, GuildId(GUILD));

    let text = private_text(&double, &credits(MEMBER, "unlink", vec![])).await;
    assert!(text.contains("its own pool"), "{text}");
    assert_eq!(app.balance().available, 1000);
    let rows = app.ledger.history(GuildId(GUILD), None, 10).unwrap();
    let row = rows
        .iter()
        .find(|r| r.kind == EntryKind::Unlink)
        .expect("an unlink row");
    assert_eq!(row.actor, Actor::Operator(MemberId(MEMBER)));
    app.stop().await;
}

#[tokio::test]
async fn a_refused_provider_account_refunds_tells_the_member_and_dms_operators_once_an_hour() {
    let (double, provider, _dir, app) = start(|_| {}).await;
    provider.push(
        Endpoint::CreateTask,
        Scripted::error(401, "invalid api key"),
    );
    provider.push(
        Endpoint::CreateTask,
        Scripted::error(402, "insufficient balance"),
    );
    for prompt in ["first boat", "second boat"] {
        let (injected, _) = accepted(&double, &video(prompt)).await;
        let job = wait_delivered(&app, &injected.id.to_string()).await;
        let seedance_bot::jobs::JobState::Failed { reason } = &job.state else {
            panic!("{:?}", job.state);
        };
        assert!(
            reason.contains("needs its operator's attention; your credits are back"),
            "{reason}"
        );
    }
    assert_eq!(app.balance().available, 1000, "both jobs refunded");
    // The member's final message in the job thread says so.
    let member_told = double.requests().iter().any(|r| {
        r.method == "POST"
            && r.path.ends_with("/messages")
            && r.body()["content"]
                .as_str()
                .is_some_and(|c| c.contains("needs its operator"))
    });
    assert!(member_told);

    let dm = double
        .wait_for(|r| r.is("POST", "/users/@me/channels"), secs(5))
        .await;
    assert_eq!(dm.body()["recipient_id"], MEMBER.to_string());
    let alert = double
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.body()["content"].as_str().is_some_and(|c| {
                        c.contains("needs its operator: the provider refused the bot's API key")
                    })
            },
            secs(5),
        )
        .await;
    assert_eq!(
        alert.body()["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let dms = double
        .requests()
        .iter()
        .filter(|r| r.is("POST", "/users/@me/channels"))
        .count();
    assert_eq!(dms, 1, "one alert for two refusals within the hour");
    crate::discord::assert_no_violations(&double);
    app.stop().await;
}

async fn members_who_send_commands_too_fast_are_slowed_down(mode: crate::discord::Mode) {
    let (double, _provider, _dir, app) = start_in(mode, |c| {
        c.members.commands_per_window = 3;
        c.members.command_window = secs(60);
    })
    .await;
    let balance = || {
        SlashCommand::in_guild("credits", GUILD, CHANNEL, MEMBER)
            .option(Opt::subcommand("balance", vec![]))
    };
    for _ in 0..3 {
        let text = private_text(&double, &balance()).await;
        assert!(text.contains("**Pool**"), "{text}");
    }
    let text = private_text(&double, &balance()).await;
    assert!(
        text.contains("using commands too fast (at most 3 every 60 s): wait 20 s"),
        "{text}"
    );
    // A /video refused this way charges nothing and sends nothing upstream.
    let text = private_text(&double, &video("a boat")).await;
    assert!(text.contains("too fast"), "{text}");
    // So does a button press ("Run again" spends credits too).
    let press = double
        .press(&crate::support::discord_double::ButtonPress::in_guild(
            "seedance:again:some-job",
            1,
            GUILD,
            CHANNEL,
            MEMBER,
        ))
        .await;
    let cb = crate::discord::video::callback(&double, &press).await;
    assert_eq!(cb["data"]["flags"].as_u64().unwrap_or(0) & 64, 64, "{cb}");
    let text = cb["data"]["content"].as_str().unwrap_or_default();
    assert!(text.contains("too fast"), "{text}");
    assert_eq!(app.balance().available, 1000);
    // Another member is not affected.
    let other = SlashCommand::in_guild("credits", GUILD, CHANNEL, OTHER_MEMBER)
        .option(Opt::subcommand("balance", vec![]));
    let text = private_text(&double, &other).await;
    assert!(text.contains("**Pool**"), "{text}");
    app.stop().await;
}

crate::in_both_modes!(
    only_operators_link_and_unlink_pools_and_both_are_journalled,
    members_who_send_commands_too_fast_are_slowed_down,
);
