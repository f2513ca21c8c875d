//! The content filter: `nsfw_checker` is sent as `true` unless the server's admins turned it
//! off **and** the job was asked for in an age-restricted channel; the card says when it is off.

use super::*;

/// `/video` in `OTHER_CHANNEL`, an age-restricted channel (the double remembers it).
fn in_age_restricted(prompt: &str) -> SlashCommand {
    SlashCommand::in_guild("video", GUILD, OTHER_CHANNEL, crate::discord::MEMBER)
        .option(Opt::string("prompt", prompt))
        .age_restricted()
}

async fn nsfw_checker_sent(
    double: &DiscordDouble,
    provider: &FakeProvider,
    app: &TestApp,
    command: &SlashCommand,
) -> (Value, String) {
    let (injected, cb) = accepted(double, command).await;
    let sent = sent_upstream(app, provider, &injected).await;
    (sent["input"]["nsfw_checker"].clone(), parameters(&cb))
}

#[tokio::test]
async fn the_filter_is_on_unless_allowed_off_and_the_channel_is_age_restricted() {
    let (double, provider, _dir, app) = start(|_| {}).await;
    app.grant(1000).await;

    // 1. Default: on, even in an age-restricted channel.
    let (sent, card) =
        nsfw_checker_sent(&double, &provider, &app, &in_age_restricted("a boat")).await;
    assert_eq!(sent, true);
    assert!(!card.contains("content filter"), "{card}");

    let text = private_text(
        &double,
        &admin("content-filter", vec![Opt::integer("policy", 1)]),
    )
    .await;
    assert!(
        text.contains("off for videos made in age-restricted channels"),
        "{text}"
    );

    // 2. Admins allowed it off, but this channel is not age-restricted: on.
    let (sent, card) = nsfw_checker_sent(&double, &provider, &app, &video("a boat")).await;
    assert_eq!(sent, true);
    assert!(!card.contains("content filter"), "{card}");

    // 3. Allowed off and an age-restricted channel: off, and the card says so.
    let (sent, card) =
        nsfw_checker_sent(&double, &provider, &app, &in_age_restricted("a boat")).await;
    assert_eq!(sent, false);
    assert!(card.contains("content filter **off**"), "{card}");

    // Back to "always on": on again in the same channel.
    let text = private_text(
        &double,
        &admin("content-filter", vec![Opt::integer("policy", 0)]),
    )
    .await;
    assert!(text.contains("now always on"), "{text}");
    let (sent, _) = nsfw_checker_sent(&double, &provider, &app, &in_age_restricted("a boat")).await;
    assert_eq!(sent, true);
    crate::discord::assert_no_violations(&double);
    app.stop().await;
}
