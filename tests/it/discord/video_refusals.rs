//! What is refused gets a reply only the member sees, saying what was wrong and what to do;
//! nothing is charged and nothing is sent upstream. Also `/credits` refusals and caps.

use super::video::{callback, setup_in, video};
use super::*;
use crate::support::discord_double::{File, Opt, SlashCommand, perms};
use crate::support::fake_provider::Endpoint;

/// Injects `command` and returns the ephemeral reply's text; panics if it was public.
async fn private_reply(double: &DiscordDouble, command: &SlashCommand) -> String {
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

fn https_images(n: usize) -> String {
    (0..n)
        .map(|i| format!("https://cdn.example.com/{i}.png"))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn bad_input_and_credit_refusals_are_private_and_charge_nothing(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let png = || File::new("boat.png", "image/png", b"png".to_vec());
    let cases: Vec<(SlashCommand, &str)> = vec![
        (
            video("a boat").option(Opt::string("references", "http://cdn.example.com/a.png")),
            "only https:// links are accepted",
        ),
        (
            video("a boat").option(Opt::string("references", "https://cdn.example.com/page")),
            "`image:https://cdn.example.com/page`",
        ),
        (
            video("a boat").option(Opt::attachment(
                "image",
                File::new("clip.mp4", "video/mp4", b"mp4".to_vec()),
            )),
            "`image` takes an image, but `clip.mp4` is a video",
        ),
        (
            video("a boat").option(Opt::attachment("video", png())),
            "`video` takes a video, but `boat.png` is an image",
        ),
        (
            video("a boat").option(Opt::attachment(
                "audio",
                File::new("song.mp3", "audio/mpeg", b"mp3".to_vec()),
            )),
            "audio needs at least one image or video",
        ),
        (
            video("a boat").option(Opt::integer("duration", 30)),
            "choose between 4 and 15 seconds",
        ),
        (
            // An old upload: its signed link expired yesterday.
            video("a boat")
                .option(Opt::attachment("image", png()))
                .links_expire_at(1_700_000_000),
            "have expired or expire within a minute",
        ),
        (
            video("a boat").option(Opt::string("references", &https_images(13))),
            "at most 9 are allowed",
        ),
        (
            // 1080p for 15 s is 2400 credits; the pool has 1000.
            video("a boat")
                .option(Opt::integer("resolution", 2))
                .option(Opt::integer("duration", 15)),
            "Not enough credits: the pool has 1,000 credits available and this video needs 2,400",
        ),
    ];
    for (command, expected) in &cases {
        let text = private_reply(&double, command).await;
        assert!(text.contains(expected), "expected {expected:?} in {text:?}");
    }

    // The other commands work in servers only, in the same words whichever the transport.
    let dm = SlashCommand::in_dm("credits", 77, MEMBER).option(Opt::subcommand("balance", vec![]));
    assert_eq!(
        private_reply(&double, &dm).await,
        "This command works in a server only."
    );

    // A DM has no pool.
    let dm = SlashCommand::in_dm("video", 77, MEMBER).option(Opt::string("prompt", "a boat"));
    let injected = double.inject(&dm).await;
    let cb = callback(&double, &injected).await;
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("works in servers"),
        "{cb}"
    );

    // A daily cap, set by someone with Manage Server (and refused to someone without).
    let cap = |who: u64, bits: u64| {
        SlashCommand::in_guild("credits", GUILD, CHANNEL, who)
            .member_permissions(bits)
            .option(Opt::subcommand("cap", vec![Opt::integer("amount", 300)]))
    };
    let text = private_reply(&double, &cap(OTHER_MEMBER, perms::MEMBER)).await;
    assert!(text.contains("Manage Server"), "{text}");
    let text = private_reply(
        &double,
        &cap(OTHER_MEMBER, perms::MEMBER | perms::MANAGE_GUILD),
    )
    .await;
    assert!(text.contains("up to 300"), "{text}");
    let text = private_reply(&double, &video("a boat")).await;
    assert!(text.contains("your 300 daily credits"), "{text}");

    // Granting is for operators only.
    let grant = |who: u64| {
        SlashCommand::in_guild("credits", GUILD, CHANNEL, who).option(Opt::subcommand(
            "grant",
            vec![
                Opt::integer("amount", 5000),
                Opt::string("reason", "for free"),
            ],
        ))
    };
    let text = private_reply(&double, &grant(OTHER_MEMBER)).await;
    assert!(text.contains("Only the bot's operators"), "{text}");

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
    let text = private_reply(&double, &grant(MEMBER)).await;
    assert!(text.contains("6,000 available"), "{text}");
    assert_pings_at_most_one(&double);
    assert_no_violations(&double);
    app.stop().await;
}

async fn balance_history_and_jobs_answer_the_member(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    // The commands as registered: the public names, and the configured duration range.
    let registered = double.commands(Some(GUILD));
    let names: Vec<&str> = registered
        .iter()
        .filter(|c| c["type"].as_u64().unwrap_or(1) == 1)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["video", "video-admin", "credits", "jobs"]);
    let options: Vec<&str> = registered[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        options,
        [
            "prompt",
            "image",
            "image2",
            "image3",
            "image4",
            "video",
            "video2",
            "audio",
            "references",
            "ratio",
            "resolution",
            "duration",
            "generate_audio",
            "web_search"
        ]
    );
    let duration = &registered[0]["options"][11];
    assert_eq!(
        (
            duration["min_value"].as_f64(),
            duration["max_value"].as_f64()
        ),
        (Some(4.0), Some(15.0))
    );
    assert_eq!(registered[0]["options"][0]["max_length"], 6000);
    let credits = |sub: &str, who: u64| {
        SlashCommand::in_guild("credits", GUILD, CHANNEL, who).option(Opt::subcommand(sub, vec![]))
    };
    let text = private_reply(&double, &credits("balance", MEMBER)).await;
    assert!(text.contains("1,000 credits available"), "{text}");
    assert!(text.contains("720p: 80/s"), "{text}");
    let text = private_reply(&double, &credits("history", MEMBER)).await;
    assert_eq!(text, "No entries yet.", "the CLI grant has no member");
    let others = SlashCommand::in_guild("credits", GUILD, CHANNEL, OTHER_MEMBER)
        .option(Opt::subcommand("history", vec![Opt::user("user", MEMBER)]));
    let text = private_reply(&double, &others).await;
    assert!(text.contains("Manage Server"), "{text}");
    let all =
        credits("history", OTHER_MEMBER).member_permissions(perms::MEMBER | perms::MANAGE_GUILD);
    let text = private_reply(&double, &all).await;
    assert!(text.contains("granted +1,000"), "{text}");
    let text = private_reply(
        &double,
        &SlashCommand::in_guild("jobs", GUILD, CHANNEL, MEMBER),
    )
    .await;
    assert!(text.contains("has no jobs here yet"), "{text}");
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(
    bad_input_and_credit_refusals_are_private_and_charge_nothing,
    balance_history_and_jobs_answer_the_member,
);
