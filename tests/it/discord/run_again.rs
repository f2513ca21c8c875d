//! "Run again" is a fresh `/video` for the channel it is pressed in: the channel rule and the
//! content filter as they are now, and never a stored file link that has expired. A refusal
//! is private, charges nothing and sends nothing upstream.

use seedance_bot::guild_settings::ContentFilter;
use seedance_bot::ids::{ChannelId, MemberId};
use seedance_bot::jobs::{InteractionRef, JobId, JobRequest, Reference};
use seedance_bot::video::{Ratio, ReferenceKind, Resolution};

use super::video::{COST, callback, card_id, setup_in, video, wait_delivered};
use super::*;
use crate::support::discord_double::{BOT_ID, ButtonPress, Injected, SlashCommand};
use crate::support::fake_provider::{Endpoint, FakeProvider};

const ELSEWHERE: u64 = 900_000_000_000_000_011;

/// `/video` by `MEMBER` in `CHANNEL`, waited for until its outcome is reported; its card.
async fn finished(double: &DiscordDouble, app: &TestApp, command: &SlashCommand) -> (u64, String) {
    let injected = double.inject(command).await;
    callback(double, &injected).await;
    let card = card_id(double, &injected);
    wait_delivered(app, &injected.id.to_string()).await;
    (card, injected.id.to_string())
}

/// Presses "Run again" on job `id` as `OTHER_MEMBER` in `CHANNEL`; the press and its
/// callback.
async fn run_again(double: &DiscordDouble, card: u64, id: &str) -> (Injected, Value) {
    let custom_id = format!("seedance:again:{id}");
    let press = double
        .press(&ButtonPress::in_guild(
            &custom_id,
            card,
            GUILD,
            CHANNEL,
            OTHER_MEMBER,
        ))
        .await;
    let cb = callback(double, &press).await;
    (press, cb)
}

/// The press was refused privately with `expected`, and nothing moved or went upstream.
fn assert_refused(
    app: &TestApp,
    provider: &FakeProvider,
    press: &Injected,
    cb: &Value,
    expected: &str,
    (available, create_tasks): (u64, usize),
) {
    assert_eq!(cb["type"], 4, "{cb}");
    assert_eq!(
        cb["data"]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "private: {cb}"
    );
    let text = cb["data"]["content"].as_str().unwrap();
    assert!(text.contains(expected), "{text}");
    assert!(text.contains("Nothing was charged"), "{text}");
    assert!(app.jobs.get(&JobId(press.id.to_string())).is_none());
    let b = app.balance();
    assert_eq!((b.available, b.pending), (available, 0));
    assert_eq!(provider.count(Endpoint::CreateTask), create_tasks);
}

async fn run_again_in_a_channel_no_longer_allowed_is_refused_privately(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let (card, id) = finished(&double, &app, &video("a boat")).await;
    app.jobs
        .guild_settings()
        .update(GuildId(GUILD), |s| {
            s.allowed_channels = vec![ChannelId(ELSEWHERE)];
        })
        .await
        .unwrap();

    let (press, cb) = run_again(&double, card, &id).await;
    assert_refused(
        &app,
        &provider,
        &press,
        &cb,
        &format!("allows `/video` only in <#{ELSEWHERE}>"),
        (1000 - COST, 1),
    );
    assert_no_violations(&double);
    app.stop().await;
}

async fn run_again_takes_the_content_filter_of_today_not_the_stored_one(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let policy = |filter| {
        let jobs = app.jobs.clone();
        async move {
            jobs.guild_settings()
                .update(GuildId(GUILD), move |s| s.content_filter = filter)
                .await
                .unwrap();
        }
    };
    policy(ContentFilter::OffInAgeRestricted).await;
    let (card, id) = finished(&double, &app, &video("a boat").age_restricted()).await;
    assert!(
        !app.jobs
            .get(&JobId(id.clone()))
            .unwrap()
            .request
            .nsfw_checker
    );

    // The admins turn the filter back on for every channel.
    policy(ContentFilter::Always).await;
    let (press, cb) = run_again(&double, card, &id).await;
    assert_eq!(cb["type"], 4, "a new card: {cb}");
    let repeat = app.jobs.get(&JobId(press.id.to_string())).expect("a job");
    assert!(
        repeat.request.nsfw_checker,
        "the filter as the server says today"
    );
    assert_eq!(repeat.request.member.0, OTHER_MEMBER);
    assert_eq!(
        repeat.request.interaction,
        Some(InteractionRef {
            application_id: BOT_ID,
            token: press.token.clone(),
        })
    );
    wait_delivered(&app, &press.id.to_string()).await;
    let sent = &provider.requests_to(Endpoint::CreateTask)[1].raw_body;
    assert!(sent.contains("\"nsfw_checker\":true"), "{sent}");
    app.stop().await;
}

async fn run_again_never_resends_an_expired_file_link(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    // A job from yesterday: its attachment's signed link expired an hour ago.
    let expired_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    let url = format!(
        "https://cdn.discordapp.com/attachments/1/2/boat.png?ex={expired_secs:x}&is=69f00000&hm=00ff"
    );
    let original = app
        .jobs
        .submit(JobRequest {
            key: "yesterday".into(),
            guild: GuildId(GUILD),
            member: MemberId(MEMBER),
            channel: ChannelId(CHANNEL),
            prompt: "a boat".into(),
            references: vec![Reference {
                kind: ReferenceKind::Image,
                url,
                expires_at: Some(expired_secs as i64 * 1000),
            }],
            resolution: Resolution::P720,
            ratio: Ratio::Landscape,
            duration: 5,
            generate_audio: false,
            web_search: false,
            nsfw_checker: true,
            roles: vec![],
            interaction: None,
        })
        .await
        .expect("yesterday's job");
    let done = super::video::wait_ended(&app, &original.job.id.0).await;
    let create_tasks = provider.count(Endpoint::CreateTask);
    let available = app.balance().available;
    assert_eq!(app.balance().pending, 0, "{done:?}");

    let (press, cb) = run_again(&double, 1, "yesterday").await;
    assert_refused(
        &app,
        &provider,
        &press,
        &cb,
        "expired or expire within a minute",
        (available, create_tasks),
    );
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("use `/video` with fresh files"),
        "{cb}"
    );
    app.stop().await;
}

async fn a_slow_run_again_is_deferred_and_its_card_edited_in(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    let (card, id) = finished(&double, &app, &video("a boat")).await;
    // With the content filter allowed off, the press reads the channel from Discord first;
    // the double holds that answer past the 3 s.
    super::answer_first::slow_admit(&double, &app).await;
    let (press, cb) = run_again(&double, card, &id).await;
    assert_eq!(cb["type"], 5, "deferred within the 3 s: {cb}");
    let route = format!("/webhooks/*/{}/messages/@original", press.token);
    let edit = double.wait_for(|r| r.is("PATCH", &route), secs(10)).await;
    assert_eq!(edit.body()["embeds"][0]["description"], "a boat");
    let repeat = wait_delivered(&app, &press.id.to_string()).await;
    let shown = double.original_response(&press).expect("the card");
    assert_eq!(
        repeat.reply.message,
        shown["id"].as_str().and_then(|id| id.parse().ok())
    );
    assert_eq!(app.balance().settled, 2 * COST);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(
    run_again_in_a_channel_no_longer_allowed_is_refused_privately,
    run_again_takes_the_content_filter_of_today_not_the_stored_one,
    run_again_never_resends_an_expired_file_link,
    a_slow_run_again_is_deferred_and_its_card_edited_in,
);
