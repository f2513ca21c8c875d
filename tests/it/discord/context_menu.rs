//! "Make a video" on a message: its files (and the image links of its embeds) become the
//! references, a form asks for the prompt (prefilled with the message's text), and the
//! submitted form goes the `/video` way. A message with nothing usable is refused privately
//! before the form opens; nothing is charged and nothing is sent upstream.

use super::i18n::private_reply;
use super::video::{COST, RESULT_URL, callback, card_id, final_message, setup_in, wait_delivered};
use super::*;
use crate::support::discord_double::{File, MessageCommand, ModalSubmit, Opt, SlashCommand, perms};
use crate::support::fake_provider::Endpoint;
use serde_json::json;

const MESSAGE: u64 = 900_000_000_000_000_021;

fn on_message(content: &str) -> MessageCommand {
    MessageCommand::in_guild(
        "Make a video",
        GUILD,
        CHANNEL,
        MEMBER,
        MESSAGE,
        OTHER_MEMBER,
        content,
    )
}

fn png(name: &str) -> File {
    File::new(name, "image/png", b"png".to_vec())
}

/// The command's answer: its callback body.
async fn used(double: &DiscordDouble, command: &MessageCommand) -> Value {
    let injected = double.use_on_message(command).await;
    callback(double, &injected).await
}

fn assert_private(cb: &Value, expected: &str) {
    assert_eq!(cb["type"], 4, "{cb}");
    assert_eq!(
        cb["data"]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "private: {cb}"
    );
    let text = cb["data"]["content"].as_str().unwrap();
    assert!(text.contains(expected), "expected {expected:?} in {text:?}");
}

async fn an_image_message_becomes_a_video_through_the_form(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let command = on_message("a paper boat at sea")
        .file(png("boat.png"))
        .embed(json!({
            "type": "image",
            "url": "https://images.example.com/sky.png",
            "thumbnail": {
                "url": "https://images.example.com/sky.png",
                "proxy_url": "https://images-ext.discordapp.net/sky.png",
                "width": 10, "height": 10,
            },
        }));
    let cb = used(&double, &command).await;

    // The form: the prompt prefilled with the message's text.
    assert_eq!(cb["type"], 9, "a form: {cb}");
    let form = &cb["data"];
    assert_eq!(form["title"], "Make a video");
    let input = &form["components"][0]["components"][0];
    assert_eq!(input["custom_id"], "prompt");
    assert_eq!(input["value"], "a paper boat at sea");
    let custom_id = form["custom_id"].as_str().unwrap().to_owned();

    // Submitted with the prompt edited: the card, the thread, the video, as for /video.
    let submitted = double
        .submit(
            &ModalSubmit::in_guild(&custom_id, GUILD, CHANNEL, MEMBER)
                .field("prompt", "a paper boat at sea, at dawn"),
        )
        .await;
    let cb = callback(&double, &submitted).await;
    assert_eq!(cb["type"], 4, "{cb}");
    let embed = &cb["data"]["embeds"][0];
    assert_eq!(
        embed["description"], "a paper boat at sea, at dawn",
        "{embed}"
    );
    let card = card_id(&double, &submitted);
    let done = final_message(&double, card).await;
    assert!(
        done["content"].as_str().unwrap().contains(RESULT_URL),
        "{done}"
    );
    wait_delivered(&app, &submitted.id.to_string()).await;

    let created: Vec<Value> = provider
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::CreateTask)
        .filter_map(|r| r.body)
        .collect();
    assert_eq!(created.len(), 1);
    let input = &created[0]["input"];
    assert_eq!(input["prompt"], "a paper boat at sea, at dawn");
    let images: Vec<&str> = input["reference_image_urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(images.len(), 2, "{images:?}");
    assert!(
        images[0].starts_with("https://cdn.discordapp.com/attachments/")
            && images[0].contains("/boat.png?"),
        "{images:?}"
    );
    assert_eq!(
        images[1], "https://images.example.com/sky.png",
        "the link, not Discord's proxy"
    );
    let b = app.balance();
    assert_eq!((b.available, b.settled), (1000 - COST, COST));
    assert_pings_at_most_one(&double);
    assert_no_violations(&double);
    app.stop().await;
}

async fn a_message_without_files_or_with_files_the_provider_does_not_take_is_refused(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;

    // Nothing to make a video from: said before any form opens, in the member's language.
    let cb = used(&double, &on_message("just words")).await;
    assert_private(
        &cb,
        "This message has no image, video or audio file (nor an image link)",
    );
    assert_private(&cb, "Nothing was charged.");
    let cb = used(&double, &on_message("just words").locale("zh-CN")).await;
    assert_private(&cb, "这条消息没有可用来生成视频的图片、视频或音频文件");

    // A kind that is no reference at all, and an image in a format the provider does not take.
    let pdf = File::new("notes.pdf", "application/pdf", b"%PDF".to_vec());
    let cb = used(
        &double,
        &on_message("see attached").file(png("a.png")).file(pdf),
    )
    .await;
    assert_private(
        &cb,
        "I can't use `notes.pdf` (application/pdf): it is not an image, a video or audio.",
    );
    let gif = File::new("dance.gif", "image/gif", b"GIF89a".to_vec());
    let cb = used(&double, &on_message("dance").file(gif)).await;
    assert_private(
        &cb,
        "I can't use this file: `dance.gif` is image/gif, but the provider takes image references as",
    );

    // The server's rules are checked before the form too.
    let admin = SlashCommand::in_guild("video-admin", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand("allow-role", vec![Opt::role("role", ROLE)]));
    private_reply(&double, &admin).await;
    let cb = used(&double, &on_message("a boat").file(png("boat.png"))).await;
    assert_private(&cb, "make videos: <@&");

    // A form that was never opened here (or before a restart) is refused, not guessed.
    let submitted = double
        .submit(
            &ModalSubmit::in_guild("seedance:form:123", GUILD, CHANNEL, MEMBER)
                .field("prompt", "a boat")
                .locale("zh-CN"),
        )
        .await;
    let cb = callback(&double, &submitted).await;
    assert_private(&cb, "这个表单已关闭");

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

/// A submitted form is refused like `/video` would be (here: not enough credits), privately.
async fn a_submitted_form_is_refused_like_video(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let cb = used(
        &double,
        &on_message("a long boat ride").file(png("boat.png")),
    )
    .await;
    let custom_id = cb["data"]["custom_id"].as_str().unwrap().to_owned();
    let cap = SlashCommand::in_guild("credits", GUILD, CHANNEL, OTHER_MEMBER)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand("cap", vec![Opt::integer("amount", 100)]));
    private_reply(&double, &cap).await;
    let submitted = double
        .submit(
            &ModalSubmit::in_guild(&custom_id, GUILD, CHANNEL, MEMBER).field("prompt", "a boat"),
        )
        .await;
    let cb = callback(&double, &submitted).await;
    assert_private(
        &cb,
        "Not enough credits: you have used 0 of your 100 daily credits and this video needs 400",
    );
    let b = app.balance();
    assert_eq!((b.available, b.pending), (1000, 0));
    assert_eq!(provider.count(Endpoint::CreateTask), 0);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(
    an_image_message_becomes_a_video_through_the_form,
    a_message_without_files_or_with_files_the_provider_does_not_take_is_refused,
    a_submitted_form_is_refused_like_video,
);

/// An open form lives in the store, not in the memory of the process that opened it: the
/// bot restarts between opening and submitting (as another instance sharing the store would
/// receive the submission), and the form still makes its video.
#[tokio::test]
async fn a_form_outlives_a_restart_of_the_bot() {
    let double = DiscordDouble::start().await;
    let provider = crate::support::fake_provider::FakeProvider::start().await;
    provider.set_default_script(vec![crate::support::fake_provider::Step::success([
        RESULT_URL,
    ])]);
    let dir = tempfile::tempdir().unwrap();
    let config = app_config(&double, &provider, dir.path(), "");
    let app = TestApp::start(&double, config.clone()).await;
    app.grant(1000).await;
    let cb = used(&double, &on_message("a kite").file(png("kite.png"))).await;
    assert_eq!(cb["type"], 9, "a form: {cb}");
    let custom_id = cb["data"]["custom_id"].as_str().unwrap().to_owned();
    app.stop().await;

    let app = TestApp::start(&double, config).await;
    let submitted = double
        .submit(
            &ModalSubmit::in_guild(&custom_id, GUILD, CHANNEL, MEMBER)
                .field("prompt", "a kite over the dunes"),
        )
        .await;
    let cb = callback(&double, &submitted).await;
    assert_eq!(cb["type"], 4, "{cb}");
    assert_eq!(
        cb["data"]["embeds"][0]["description"], "a kite over the dunes",
        "{cb}"
    );
    wait_delivered(&app, &submitted.id.to_string()).await;
    let b = app.balance();
    assert_eq!((b.available, b.settled), (1000 - COST, COST));
    // Someone else cannot submit another member's form.
    let stolen = double
        .submit(
            &ModalSubmit::in_guild(&custom_id, GUILD, CHANNEL, OTHER_MEMBER)
                .field("prompt", "mine now"),
        )
        .await;
    let cb = callback(&double, &stolen).await;
    assert_eq!(cb["type"], 4, "{cb}");
    assert_eq!(cb["data"]["flags"].as_u64().unwrap_or(0) & 64, 64, "{cb}");
    assert_eq!(app.balance().settled, COST, "nothing more charged");
    app.stop().await;
}
