//! `/video` end to end: the card, the thread (or the channel), the final ping with the link,
//! the credits settled or refunded, and nobody but the member ever pinged.

use serde_json::Value;

use super::*;
use crate::support::discord_double::{Injected, Opt, SlashCommand, perms};
use crate::support::fake_provider::{Endpoint, Step};

pub const RESULT_URL: &str = "https://results.fake.test/boat.mp4";
/// 720p (80/s) for 5 s: the default video.
pub const COST: u64 = 400;

/// A fresh double, fake provider and data directory, with the bot running and 1000 credits.
pub async fn setup() -> (DiscordDouble, FakeProvider, tempfile::TempDir, TestApp) {
    setup_in(Mode::Gateway).await
}

/// [`setup`] with interactions delivered as `mode` says.
pub async fn setup_in(mode: Mode) -> (DiscordDouble, FakeProvider, tempfile::TempDir, TestApp) {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![Step::waiting(), Step::success([RESULT_URL])]);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = app_config_in(mode, &double, &provider, dir.path(), "");
    let app = TestApp::start(&double, config).await;
    app.grant(1000).await;
    (double, provider, dir, app)
}

pub fn video(prompt: &str) -> SlashCommand {
    SlashCommand::in_guild("video", GUILD, CHANNEL, MEMBER).option(Opt::string("prompt", prompt))
}

/// The callback body (`type`, `data`) of `injected`, waited for at most Discord's 3 s: the
/// bot's POST to the callback route over the gateway, its HTTP response's body over HTTP.
pub async fn callback(double: &DiscordDouble, injected: &Injected) -> Value {
    let path = injected.callback_path();
    let answer = double.wait_for(|r| r.is("POST", &path), secs(3)).await;
    assert_eq!(
        answer.in_http_response,
        double.over_http(),
        "the initial response came the way the interaction did"
    );
    answer.body().clone()
}

/// The id of the card: the original response's message.
pub fn card_id(double: &DiscordDouble, injected: &Injected) -> u64 {
    let m = double
        .original_response(injected)
        .expect("an original response");
    m["id"].as_str().unwrap().parse().unwrap()
}

/// Waits for the bot's first message in `channel` and returns it.
pub async fn final_message(double: &DiscordDouble, channel: u64) -> Value {
    let path = format!("/channels/{channel}/messages");
    double
        .wait_for(|r| r.is("POST", &path), secs(10))
        .await
        .body()
        .clone()
}

/// Waits until the stored job's final report is confirmed.
pub async fn wait_delivered(app: &TestApp, id: &str) -> seedance_bot::jobs::JobRecord {
    let id = seedance_bot::jobs::JobId(id.to_owned());
    let deadline = tokio::time::Instant::now() + secs(10);
    loop {
        if let Some(job) = app.jobs.get(&id).filter(|j| j.final_delivered) {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never delivered: {:?}",
            app.jobs.get(&id)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the stored job has ended (its final report may still be on its way: a job
/// without a card is reported later, in its channel).
pub async fn wait_ended(app: &TestApp, id: &str) -> seedance_bot::jobs::JobRecord {
    let id = seedance_bot::jobs::JobId(id.to_owned());
    let deadline = tokio::time::Instant::now() + secs(10);
    loop {
        if let Some(job) = app.jobs.get(&id).filter(|j| j.state.is_terminal()) {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ended: {:?}",
            app.jobs.get(&id)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn field<'a>(embed: &'a Value, name: &str) -> &'a str {
    embed["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name} in {embed}"))
}

async fn happy_path_card_thread_ping_link_and_credits_settled(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let injected = double
        .inject(&video("a paper boat in the rain").option(Opt::string(
            "references",
            "https://cdn.example.com/boat.png",
        )))
        .await;

    let cb = callback(&double, &injected).await;
    assert_eq!(cb["type"], 4, "a public card as the response");
    assert_eq!(
        cb["data"]["flags"].as_u64().unwrap_or(0) & 64,
        0,
        "not ephemeral"
    );
    let embed = &cb["data"]["embeds"][0];
    assert_eq!(embed["description"], "a paper boat in the rain");
    assert!(field(embed, "Cost").starts_with("400 credits"), "{embed}");
    assert!(
        field(embed, "Parameters").contains("720p · 16:9 · 5 s"),
        "{embed}"
    );
    assert!(field(embed, "References").contains("image: https://cdn.example.com/boat.png"));
    let cancel = &cb["data"]["components"][0]["components"][0];
    assert_eq!(cancel["label"], "Cancel");
    assert_eq!(
        cancel["custom_id"],
        format!("seedance:cancel:{}", injected.id)
    );

    let card = card_id(&double, &injected);
    let thread = double
        .wait_for(
            |r| {
                r.is(
                    "POST",
                    &format!("/channels/{CHANNEL}/messages/{card}/threads"),
                )
            },
            secs(3),
        )
        .await;
    assert_eq!(thread.body()["name"], "a paper boat in the rain");
    assert_eq!(thread.body()["auto_archive_duration"], 1440);

    // The thread's id is the card's id: the member is pinged there, with the link.
    let done = final_message(&double, card).await;
    let content = done["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!("<@{MEMBER}> your video is ready")),
        "{content}"
    );
    assert!(content.contains(RESULT_URL), "{content}");
    assert_eq!(
        done["allowed_mentions"]["users"],
        serde_json::json!([MEMBER.to_string()])
    );

    let job = wait_delivered(&app, &injected.id.to_string()).await;
    assert_eq!(job.reply.message, Some(card));
    assert_eq!(job.reply.thread.map(|t| t.0), Some(card));
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (1000 - COST, 0, COST));
    assert_eq!(provider.count(Endpoint::CreateTask), 1);
    let sent = provider.requests_to(Endpoint::CreateTask)[0]
        .raw_body
        .clone();
    assert!(sent.contains("https://cdn.example.com/boat.png"), "{sent}");

    // The card shows the outcome, edited as the bot (the token dies after 15 minutes).
    let shown = double.message(card).expect("card");
    assert_eq!(field(&shown["embeds"][0], "State"), "Done");
    assert_eq!(
        shown["components"][0]["components"][0]["label"],
        "Run again"
    );
    assert!(
        double
            .requests()
            .iter()
            .any(|r| r.is("PATCH", &format!("/channels/{CHANNEL}/messages/{card}")))
    );
    assert_eq!(double.messages_in(card).len(), 1, "one final message");
    assert_pings_only(&double, MEMBER);
    assert_no_violations(&double);
    app.stop().await;
}

async fn a_prompt_full_of_mentions_pings_nobody_else(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    let prompt =
        format!("@everyone @here look <@&{ROLE}> and <@{OTHER_MEMBER}> <@!{OTHER_MEMBER}>");
    let injected = double.inject(&video(&prompt)).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    final_message(&double, card).await;
    wait_delivered(&app, &injected.id.to_string()).await;
    assert_pings_only(&double, MEMBER);
    assert_no_violations(&double);
    app.stop().await;
}

async fn provider_failure_refunds_and_says_so(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    provider.set_default_script(vec![Step::fail(500, "content policy violation")]);
    let injected = double.inject(&video("a boat")).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    let done = final_message(&double, card).await;
    let content = done["content"].as_str().unwrap();
    assert!(content.contains("could not be made"), "{content}");
    assert!(content.contains("content policy violation"), "{content}");
    assert!(
        content.contains(&format!("{COST} credits went back")),
        "{content}"
    );
    wait_delivered(&app, &injected.id.to_string()).await;
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (1000, 0, 0));
    let shown = double.message(card).expect("card");
    assert!(field(&shown["embeds"][0], "State").starts_with("Failed"));
    assert!(field(&shown["embeds"][0], "Cost").contains("refunded"));
    assert_pings_only(&double, MEMBER);
    assert_no_violations(&double);
    app.stop().await;
}

async fn without_thread_permission_it_replies_in_the_channel_and_says_so_once(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    // Not allowed to make threads here: no attempt at all.
    let no_threads = perms::BOT & !perms::CREATE_PUBLIC_THREADS;
    let first = double
        .inject(&video("first boat").app_permissions(no_threads))
        .await;
    callback(&double, &first).await;
    wait_delivered(&app, &first.id.to_string()).await;
    // Allowed, but Discord refuses: the same fallback.
    double.deny_threads_in(CHANNEL);
    let second = double.inject(&video("second boat")).await;
    callback(&double, &second).await;
    wait_delivered(&app, &second.id.to_string()).await;

    let threads: Vec<_> = double
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/threads"))
        .collect();
    assert_eq!(threads.len(), 1, "only the second job tried");
    assert!(double.threads().is_empty());
    for injected in [&first, &second] {
        let shown = double.message(card_id(&double, injected)).expect("card");
        let footer = shown["embeds"][0]["footer"]["text"].as_str().unwrap();
        assert!(footer.contains("cannot make a thread"), "{footer}");
    }
    let finals = double
        .messages_in(CHANNEL)
        .into_iter()
        .filter(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("your video is ready")
        })
        .count();
    assert_eq!(finals, 2, "both final messages in the channel");
    assert_pings_only(&double, MEMBER);
    assert_no_violations(&double);
    app.stop().await;
}

async fn used_inside_a_thread_it_follows_the_job_there(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    const THREAD: u64 = 900_000_000_000_000_077;
    let mut command = video("a boat in a thread").in_thread(CHANNEL);
    command.origin.channel_id = THREAD;
    let injected = double.inject(&command).await;
    callback(&double, &injected).await;
    let done = final_message(&double, THREAD).await;
    assert!(done["content"].as_str().unwrap().contains(RESULT_URL));
    let job = wait_delivered(&app, &injected.id.to_string()).await;
    assert_eq!(job.reply.thread.map(|t| t.0), Some(THREAD));
    assert!(
        !double
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/threads")),
        "no new thread"
    );
    assert_pings_only(&double, MEMBER);
    assert_no_violations(&double);
    app.stop().await;
}

/// Serves `bytes` at `http://127.0.0.1:PORT/video.mp4`, as a provider's result link.
async fn serve_video(bytes: Vec<u8>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/video.mp4", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/video.mp4",
        axum::routing::get(move || {
            let bytes = bytes.clone();
            async move { ([("content-type", "video/mp4")], bytes) }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, server)
}

#[tokio::test]
async fn rehosting_uploads_the_video_when_it_fits_the_limit() {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    let bytes = vec![7u8; 4096];
    let (url, _server) = serve_video(bytes.clone()).await;
    provider.set_default_script(vec![Step::success([url.clone()])]);
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*app_config(&double, &provider, dir.path(), "")).clone();
    config.discord.rehost_results = true;
    let app = TestApp::start(&double, Arc::new(config)).await;
    app.grant(1000).await;

    let fits = double.inject(&video("a small boat")).await;
    callback(&double, &fits).await;
    let card = card_id(&double, &fits);
    wait_delivered(&app, &fits.id.to_string()).await;
    let sent = double
        .wait_for(
            |r| r.is("POST", &format!("/channels/{card}/messages")),
            secs(5),
        )
        .await;
    assert_eq!(sent.files.len(), 1, "the video is uploaded");
    assert_eq!(sent.files[0].bytes, bytes);
    assert!(
        sent.body()["content"].as_str().unwrap().contains(&url),
        "the link too"
    );

    // Where the limit is smaller than the file, only the link is sent.
    let too_big = double
        .inject(&video("a big boat").attachment_size_limit(1024))
        .await;
    callback(&double, &too_big).await;
    let card = card_id(&double, &too_big);
    wait_delivered(&app, &too_big.id.to_string()).await;
    let sent = double
        .wait_for(
            |r| r.is("POST", &format!("/channels/{card}/messages")),
            secs(5),
        )
        .await;
    assert!(sent.files.is_empty());
    assert_pings_only(&double, MEMBER);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(
    happy_path_card_thread_ping_link_and_credits_settled,
    a_prompt_full_of_mentions_pings_nobody_else,
    provider_failure_refunds_and_says_so,
    without_thread_permission_it_replies_in_the_channel_and_says_so_once,
    used_inside_a_thread_it_follows_the_job_there,
);
