//! The framework runner end to end: connect, register, answer interactions, fail politely,
//! keep the token secret, stop on request.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use poise::CreateReply;
use seedance_bot::discord::{self, Command, CommandError, Context, build_http};
use serde_json::{Value, json};

use super::*;
use crate::support::discord_double::{
    ButtonPress, DEFAULT_ATTACHMENT_SIZE_LIMIT, File, Opt, SlashCommand, perms,
};

/// Says back what the member wrote, to the member only.
#[poise::command(slash_command)]
async fn echo(
    ctx: Context<'_>,
    #[description = "What to say back"] prompt: String,
) -> Result<(), CommandError> {
    let text = format!("<@{}> asked: {prompt}", ctx.author().id);
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

/// Describes an attached file.
#[poise::command(slash_command)]
async fn inspect(
    ctx: Context<'_>,
    #[description = "A reference image"] file: serenity::all::Attachment,
    #[description = "An optional note"] note: Option<String>,
) -> Result<(), CommandError> {
    let kind = file.content_type.as_deref().unwrap_or("unknown type");
    let text = format!(
        "{} is {} bytes of {kind}; note: {}",
        file.filename,
        file.size,
        note.unwrap_or_default()
    );
    ctx.say(text).await?;
    Ok(())
}

/// Fails with an internal error whose text must not reach the member.
#[poise::command(slash_command)]
async fn broken(_ctx: Context<'_>) -> Result<(), CommandError> {
    Err(CommandError::Internal(
        "database password hunter2 rejected".into(),
    ))
}

/// Refuses with an error the member can fix.
#[poise::command(slash_command)]
async fn refuse(_ctx: Context<'_>) -> Result<(), CommandError> {
    Err(CommandError::user(
        "Not enough credits: this needs 400, the pool has 120.",
    ))
}

/// Server administration.
#[poise::command(
    slash_command,
    subcommands("grant"),
    default_member_permissions = "MANAGE_GUILD",
    required_permissions = "MANAGE_GUILD"
)]
async fn admin(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Grants credits to the pool.
#[poise::command(slash_command, required_permissions = "MANAGE_GUILD")]
async fn grant(
    ctx: Context<'_>,
    #[description = "How many credits"]
    #[min = 1]
    amount: i64,
) -> Result<(), CommandError> {
    ctx.say(format!("granted {amount}")).await?;
    Ok(())
}

fn commands() -> Vec<Command> {
    vec![echo(), inspect(), broken(), refuse(), admin()]
}

fn only(user: u64) -> Value {
    json!({ "parse": [], "users": [user.to_string()], "roles": [], "replied_user": false })
}

/// The callback of `injected`, waited for at most Discord's 3 s.
async fn callback(
    double: &DiscordDouble,
    injected: &crate::support::discord_double::Injected,
) -> Value {
    let path = injected.callback_path();
    double
        .wait_for(|r| r.is("POST", &path), secs(3))
        .await
        .body()
        .clone()
}

#[tokio::test]
async fn connects_registers_in_the_guild_and_sends_the_token_only_as_authorization() {
    let double = DiscordDouble::start().await;
    let bot = TestBot::start(&double, &[GUILD], commands()).await;

    let route = format!("/applications/*/guilds/{GUILD}/commands");
    let put = double.wait_for(|r| r.is("PUT", &route), secs(5)).await;
    assert_eq!(put.status, 200);
    assert_eq!(
        put.authorization.as_deref(),
        Some(format!("Bot {TOKEN}").as_str())
    );
    let sent = put.body().as_array().expect("a list").clone();
    let names: Vec<&str> = sent.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["echo", "inspect", "broken", "refuse", "admin"]);
    let echo = &sent[0];
    assert_eq!(
        echo["description"],
        "Says back what the member wrote, to the member only."
    );
    assert_eq!(echo["options"][0]["name"], "prompt");
    assert_eq!(echo["options"][0]["type"], 3);
    assert_eq!(echo["options"][0]["required"], true);
    assert_eq!(sent[1]["options"][0]["type"], 11, "attachment option");
    assert_eq!(sent[1]["options"][1]["required"], false);
    let admin = &sent[4];
    assert_eq!(admin["options"][0]["type"], 1, "subcommand");
    assert_eq!(
        admin["options"][0]["options"][0]["min_value"].as_f64(),
        Some(1.0)
    );
    // `default_member_permissions` hides it from members; `required_permissions` re-checks
    // (a server can override the former).
    assert_eq!(admin["default_member_permissions"], "32");
    assert_eq!(double.commands(Some(GUILD)).len(), 5);
    assert!(
        double.commands(None).is_empty(),
        "nothing registered globally"
    );

    let identify = double.identify().expect("IDENTIFY");
    assert_eq!(identify["intents"], 1, "GUILDS only: no privileged intents");
    for r in double.requests() {
        let body = r.body().to_string();
        assert!(
            !body.contains(TOKEN_SECRET),
            "token in body of {} {}",
            r.method,
            r.path
        );
        assert!(!r.path.contains(TOKEN_SECRET));
    }
    assert!(double.violations().is_empty(), "{:#?}", double.violations());
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn registers_globally_without_guild_ids() {
    let double = DiscordDouble::start().await;
    let bot = TestBot::start(&double, &[], commands()).await;
    double
        .wait_for(|r| r.is("PUT", "/applications/*/commands"), secs(5))
        .await;
    assert_eq!(double.commands(None).len(), 5);
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn slash_commands_are_answered_within_3s_pinging_only_the_invoker() {
    let double = DiscordDouble::start().await;
    let bot = TestBot::start(&double, &[GUILD], commands()).await;

    let prompt = "a cat @everyone <@&900000000000000005> <@900000000000000004>";
    let injected = double
        .inject(
            &SlashCommand::in_guild("echo", GUILD, CHANNEL, MEMBER)
                .option(Opt::string("prompt", prompt)),
        )
        .await;
    let body = callback(&double, &injected).await;
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["flags"], 64, "ephemeral");
    assert!(body["data"]["content"].as_str().unwrap().contains(prompt));
    assert_eq!(body["data"]["allowed_mentions"], only(MEMBER));
    let original = double
        .original_response(&injected)
        .expect("original stored");
    assert!(original["content"].as_str().unwrap().contains("a cat"));

    let png = File::new("ref.png", "image/png", vec![0x89, b'P', b'N', b'G']);
    let injected = double
        .inject(
            &SlashCommand::in_guild("inspect", GUILD, CHANNEL, MEMBER)
                .username("ann")
                .app_permissions(perms::BOT)
                .attachment_size_limit(DEFAULT_ATTACHMENT_SIZE_LIMIT)
                .in_thread(CHANNEL)
                .option(Opt::attachment("file", png)),
        )
        .await;
    let body = callback(&double, &injected).await;
    assert_eq!(
        body["data"]["content"],
        "ref.png is 4 bytes of image/png; note: "
    );
    assert!(
        body["data"].get("flags").is_none_or(|f| f == 0),
        "public: {body}"
    );
    assert_eq!(body["data"]["allowed_mentions"], only(MEMBER));

    // The attachment's URL is served by the double, with Discord's signed-URL parameters.
    let url = injected.payload["data"]["resolved"]["attachments"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.contains("ex=") && url.contains("hm="), "{url}");
    let bytes = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..], &[0x89, b'P', b'N', b'G']);

    let injected = double
        .inject(&SlashCommand::in_dm("echo", 77, MEMBER).option(Opt::string("prompt", "from a DM")))
        .await;
    let body = callback(&double, &injected).await;
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("from a DM")
    );

    assert!(double.violations().is_empty(), "{:#?}", double.violations());
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn command_errors_become_plain_ephemeral_replies() {
    let double = DiscordDouble::start().await;
    let bot = TestBot::start(&double, &[GUILD], commands()).await;

    let injected = double
        .inject(&SlashCommand::in_guild("broken", GUILD, CHANNEL, MEMBER))
        .await;
    let body = callback(&double, &injected).await;
    assert_eq!(body["data"]["flags"], 64);
    let text = body["data"]["content"].as_str().unwrap();
    assert!(text.starts_with("Something went wrong"), "{text}");
    assert!(!text.contains("hunter2"), "internal detail leaked: {text}");

    let injected = double
        .inject(&SlashCommand::in_guild("refuse", GUILD, CHANNEL, MEMBER))
        .await;
    let body = callback(&double, &injected).await;
    assert_eq!(body["data"]["flags"], 64);
    assert_eq!(
        body["data"]["content"],
        "Not enough credits: this needs 400, the pool has 120."
    );

    // poise checks `required_permissions` against `member.permissions` of the interaction.
    let grant = || {
        SlashCommand::in_guild("admin", GUILD, CHANNEL, MEMBER)
            .option(Opt::subcommand("grant", vec![Opt::integer("amount", 500)]))
    };
    let injected = double.inject(&grant()).await;
    let body = callback(&double, &injected).await;
    assert_eq!(body["data"]["flags"], 64);
    assert_eq!(
        body["data"]["content"],
        "You need the Manage Guild permission for this."
    );
    let injected = double
        .inject(&grant().member_permissions(perms::MEMBER | perms::MANAGE_GUILD))
        .await;
    let body = callback(&double, &injected).await;
    assert_eq!(body["data"]["content"], "granted 500");

    // A button nobody handles is ignored, not answered with an error.
    let press = double
        .press(&ButtonPress::in_guild(
            "job:1:cancel",
            5,
            GUILD,
            CHANNEL,
            MEMBER,
        ))
        .await;
    assert!(press.id > 0);

    assert!(double.violations().is_empty(), "{:#?}", double.violations());
    bot.stop().await.expect("clean stop");
}

/// A log sink for one test: everything at DEBUG and above.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_token_never_shows_in_debug_output_or_logs() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    // current_thread: every task of this test logs through this thread's subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let double = DiscordDouble::start().await;
    let config = config_for(&double, &[GUILD]);
    let http = build_http(&config.discord);
    let dir = tempfile::tempdir().unwrap();
    let data = test_data(config.clone(), dir.path()).await;
    for debug in [
        format!("{http:?}"),
        format!("{data:?}"),
        format!("{config:?}"),
    ] {
        assert!(!debug.contains(TOKEN_SECRET), "{debug}");
    }
    let bot = TestBot::start(&double, &[GUILD], commands()).await;
    let injected = double
        .inject(
            &SlashCommand::in_guild("echo", GUILD, CHANNEL, MEMBER)
                .option(Opt::string("prompt", "hi")),
        )
        .await;
    callback(&double, &injected).await;
    let injected = double
        .inject(&SlashCommand::in_guild("broken", GUILD, CHANNEL, MEMBER))
        .await;
    callback(&double, &injected).await;
    bot.stop().await.expect("clean stop");

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("command failed"),
        "the error was logged:\n{logs}"
    );
    assert!(logs.contains("hunter2"), "the cause chain is in the log");
    assert!(!logs.contains(TOKEN_SECRET), "token in logs:\n{logs}");
    for r in double.requests() {
        assert!(
            !r.body().to_string().contains(TOKEN_SECRET),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bot {TOKEN}").as_str())
        );
    }
}

#[tokio::test]
async fn stops_within_seconds_when_asked() {
    let double = DiscordDouble::start().await;
    let bot = TestBot::start(&double, &[GUILD], commands()).await;
    assert!(double.connected());
    let asked = Instant::now();
    bot.stop().await.expect("clean stop");
    assert!(asked.elapsed() < secs(3), "took {:?}", asked.elapsed());
    let closed = Instant::now();
    while double.connected() && closed.elapsed() < secs(3) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!double.connected(), "the gateway session is closed");
}

#[test]
fn the_command_json_is_what_registration_sends() {
    let json = discord::slash_commands_json(&commands());
    assert_eq!(json.as_array().map(Vec::len), Some(5));
}

/// `discord.shards`: a process runs only its shards, so several gateway processes (sharing a
/// PostgreSQL store) split the servers between them. Discord learns which shard a
/// connection is from its IDENTIFY.
#[tokio::test]
async fn a_process_identifies_as_its_configured_shard() {
    let double = DiscordDouble::start().await;
    let provider = crate::support::fake_provider::FakeProvider::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*app_config(&double, &provider, dir.path(), "")).clone();
    config.discord.shards = "1/2".into();
    let app = TestApp::start(&double, Arc::new(config)).await;
    let identify = double.identify().expect("IDENTIFY");
    assert_eq!(identify["shard"], json!([1, 2]), "{identify:#}");
    app.stop().await;
}
