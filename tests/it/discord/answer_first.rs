//! Answer first, work second: `/video` answers within Discord's 3 s when its admit is slow
//! (deferring, then editing the card in), a refusal after a deferral stays private, and when
//! the card cannot be shown after the job was accepted the member learns the job exists,
//! never that "nothing was charged"; the same interaction delivered again charges once.

use seedance_bot::guild_settings::ContentFilter;
use seedance_bot::jobs::{InteractionRef, JobId};

use super::video::{COST, callback, setup_in, video};
use super::*;
use crate::support::discord_double::{BOT_ID, Injected, Opt, SlashCommand};
use crate::support::fake_provider::Endpoint;

/// Makes the admit slow through the process boundary: with the content filter allowed off,
/// `/video` reads the channel from Discord first, and the double holds that answer 3.5 s.
pub(super) async fn slow_admit(double: &DiscordDouble, app: &TestApp) {
    app.jobs
        .guild_settings()
        .update(GuildId(GUILD), |s| {
            s.content_filter = ContentFilter::OffInAgeRestricted;
        })
        .await
        .unwrap();
    double.delay_next(
        &format!("GET /channels/{CHANNEL}"),
        Duration::from_millis(3500),
    );
}

fn original_route(injected: &Injected) -> String {
    format!("/webhooks/*/{}/messages/@original", injected.token)
}

/// No message the bot sent anywhere claims nothing was charged.
fn assert_never_said_nothing_charged(double: &DiscordDouble) {
    for r in double.requests() {
        let body = r.body().to_string().to_lowercase();
        assert!(
            !body.contains("nothing was charged"),
            "{} {}: {body}",
            r.method,
            r.path
        );
    }
}

async fn a_slow_admit_is_deferred_and_the_card_follows_by_editing_the_response(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    slow_admit(&double, &app).await;
    let injected = double.inject(&video("a slow boat")).await;

    let cb = callback(&double, &injected).await;
    assert_eq!(cb["type"], 5, "deferred within the 3 s: {cb}");
    assert_eq!(cb["data"]["flags"].as_u64().unwrap_or(0) & 64, 0, "public");
    let edit = double
        .wait_for(|r| r.is("PATCH", &original_route(&injected)), secs(10))
        .await;
    assert_eq!(edit.body()["embeds"][0]["description"], "a slow boat");

    // The card is the deferred response; its id is stored and the thread made from it.
    let card = double.original_response(&injected).expect("the card");
    let card_id: u64 = card["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(card["embeds"][0]["description"], "a slow boat");
    double
        .wait_for(
            |r| {
                r.is(
                    "POST",
                    &format!("/channels/{CHANNEL}/messages/{card_id}/threads"),
                )
            },
            secs(5),
        )
        .await;
    let job = super::video::wait_delivered(&app, &injected.id.to_string()).await;
    assert_eq!(job.reply.message, Some(card_id));
    assert_eq!(
        job.request.interaction,
        Some(InteractionRef {
            application_id: BOT_ID,
            token: injected.token.clone(),
        }),
        "the job keeps its interaction, so its card can be found again"
    );
    assert_eq!(double.answers(&injected).len(), 1, "one answer: the card");
    assert_no_violations(&double);
    app.stop().await;
}

async fn a_refusal_after_a_deferral_is_seen_by_the_member_only(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    slow_admit(&double, &app).await;
    // 1080p for 15 s is 2400 credits; the pool has 1000.
    let injected = double
        .inject(
            &video("a boat")
                .option(Opt::integer("resolution", 2))
                .option(Opt::integer("duration", 15)),
        )
        .await;
    assert_eq!(callback(&double, &injected).await["type"], 5);
    let path = format!("/webhooks/{BOT_ID}/{}", injected.token);
    double.wait_for(|r| r.is("POST", &path), secs(10)).await;

    let answers = double.answers(&injected);
    assert_eq!(
        answers.len(),
        1,
        "the deferred response is gone: {answers:#?}"
    );
    assert_eq!(
        answers[0]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "private: {answers:#?}"
    );
    let text = answers[0]["content"].as_str().unwrap();
    assert!(text.starts_with("Not enough credits"), "{text}");
    assert!(text.contains("Nothing was charged"), "{text}");
    let b = app.balance();
    assert_eq!((b.available, b.pending), (1000, 0));
    assert_eq!(provider.count(Endpoint::CreateTask), 0);
    assert_no_violations(&double);
    app.stop().await;
}

/// The answer comes first: while one member's command is being admitted, another member's
/// `/video` is deferred at once instead of waiting behind that write, and its card follows.
async fn while_another_admission_runs_a_command_is_deferred_at_once(mode: Mode) {
    let (double, _provider, _dir, app) = setup_in(mode).await;
    slow_admit(&double, &app).await;
    let slow = double.inject(&video("a slow boat")).await;
    // The first command is now inside its admission: its channel read is being held.
    double.wait_delays_taken(secs(3)).await;

    let quick = double
        .inject(
            &SlashCommand::in_guild("video", GUILD, CHANNEL, OTHER_MEMBER)
                .option(Opt::string("prompt", "a quick boat")),
        )
        .await;
    let cb = callback(&double, &quick).await;
    assert_eq!(cb["type"], 5, "deferred at once: {cb}");
    assert_eq!(cb["data"]["flags"].as_u64().unwrap_or(0) & 64, 0, "public");
    let edit = double
        .wait_for(|r| r.is("PATCH", &original_route(&quick)), secs(5))
        .await;
    assert_eq!(edit.body()["embeds"][0]["description"], "a quick boat");

    // The slow one ends the same way; both are paid for once.
    assert_eq!(callback(&double, &slow).await["type"], 5);
    double
        .wait_for(|r| r.is("PATCH", &original_route(&slow)), secs(10))
        .await;
    for injected in [&quick, &slow] {
        let job = super::video::wait_ended(&app, &injected.id.to_string()).await;
        assert_eq!(job.cost, COST);
    }
    let b = app.balance();
    assert_eq!(
        (b.available, b.pending + b.settled),
        (1000 - 2 * COST, 2 * COST)
    );
    assert_never_said_nothing_charged(&double);
    assert_no_violations(&double);
    app.stop().await;
}

/// Gateway only: over HTTP the card is the HTTP response itself, with no callback to fail.
#[tokio::test]
async fn a_card_that_cannot_be_sent_after_acceptance_tells_the_truth_and_a_retry_charges_once() {
    let (double, _provider, _dir, app) = setup_in(Mode::Gateway).await;
    double.fail_next(
        "POST /interactions/*/*/callback",
        500,
        serde_json::json!({ "message": "500: Internal Server Error", "code": 0 }),
    );
    let injected = double.inject(&video("a boat")).await;

    // The card's response failed; the member is told privately that the job exists.
    let path = injected.callback_path();
    let told = double
        .wait_for(|r| r.is("POST", &path) && r.status == 204, secs(3))
        .await;
    let data = &told.body()["data"];
    assert_eq!(
        data["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "private: {data}"
    );
    let text = data["content"].as_str().unwrap();
    assert!(text.contains("was accepted"), "{text}");
    assert!(text.contains(&format!("{COST} credits are held")), "{text}");
    assert!(text.contains("`/jobs`"), "{text}");
    let key = injected.id.to_string();
    assert!(
        app.jobs.get(&JobId(key.clone())).is_some(),
        "the job exists"
    );

    // The same interaction again (a gateway replay): the same job, nothing charged twice.
    double.redeliver(&injected);
    let followup = format!("/webhooks/{BOT_ID}/{}", injected.token);
    let again = double.wait_for(|r| r.is("POST", &followup), secs(5)).await;
    assert!(
        again.body()["content"]
            .as_str()
            .unwrap()
            .contains("was accepted"),
        "{:?}",
        again.body()
    );
    let job = super::video::wait_ended(&app, &key).await;
    assert_eq!(job.cost, COST);
    let b = app.balance();
    assert_eq!(
        (b.available, b.pending + b.settled),
        (1000 - COST, COST),
        "exactly one hold"
    );
    assert_never_said_nothing_charged(&double);
    app.stop().await;
}

crate::in_both_modes!(
    a_slow_admit_is_deferred_and_the_card_follows_by_editing_the_response,
    a_refusal_after_a_deferral_is_seen_by_the_member_only,
    while_another_admission_runs_a_command_is_deferred_at_once,
);
