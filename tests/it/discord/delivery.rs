//! Delivery through the real serenity `Http` and `DiscordReporter` against the double:
//! which failures are permanent, retries that wait as long as Discord asks, the card always
//! ending on the outcome, one final message however often it is sent, and the card found
//! again after a crash.

use seedance_bot::discord::{DiscordReporter, build_http};
use seedance_bot::ids::{ChannelId, GuildId, MemberId};
use seedance_bot::jobs::{
    InteractionRef, JobEvent, JobRecord, JobRequest, JobState, ReplyTarget, ReportError, Reporter,
};
use seedance_bot::video::{Ratio, Resolution};
use serde_json::json;

use super::video::{RESULT_URL, callback, card_id, setup, video};
use super::*;
use crate::support::discord_double::BOT_ID;

/// A job stored in a simulated queue whose reporter (attached to it) talks to `double`.
struct Fixture {
    data: Data,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start(double: &DiscordDouble) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = test_data(config_for(double, &[]), dir.path()).await;
        data.reporter.attach(data.jobs.clone());
        data.jobs
            .ledger()
            .grant(
                GuildId(GUILD),
                10_000,
                seedance_bot::credits::Actor::Cli,
                "test",
            )
            .await
            .expect("grant");
        Fixture { data, _dir: dir }
    }

    /// A stored job, shown as `state` with its card at `reply`.
    async fn job(&self, key: &str, interaction: Option<InteractionRef>) -> JobRecord {
        let request = JobRequest {
            key: key.into(),
            guild: GuildId(GUILD),
            member: MemberId(MEMBER),
            channel: ChannelId(CHANNEL),
            prompt: format!("a paper boat ({key})"),
            references: vec![],
            resolution: Resolution::P480,
            ratio: Ratio::Landscape,
            duration: 5,
            generate_audio: false,
            web_search: false,
            nsfw_checker: true,
            roles: vec![],
            interaction,
        };
        self.data.jobs.submit(request).await.expect("submitted").job
    }

    async fn report_final(&self, job: &JobRecord) -> Result<(), ReportError> {
        self.data
            .reporter
            .report(job, JobEvent::Finished { refunded: 0 })
            .await
    }
}

fn succeeded(mut job: JobRecord, reply: ReplyTarget) -> JobRecord {
    job.state = JobState::Succeeded {
        task_id: "task-1".into(),
        urls: vec![RESULT_URL.into()],
    };
    job.reply = reply;
    job
}

fn shown_at(card: u64, thread: Option<u64>) -> ReplyTarget {
    ReplyTarget {
        channel: Some(ChannelId(CHANNEL)),
        message: Some(card),
        thread: thread.map(ChannelId),
        attachment_size_limit: None,
    }
}

/// The "State" field of a card message.
fn card_state(message: &serde_json::Value) -> String {
    message["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == "State")
        .and_then(|f| f["value"].as_str())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn a_502_on_the_outcome_edit_is_retried_and_the_card_shows_the_outcome() {
    let double = DiscordDouble::start().await;
    let fx = Fixture::start(&double).await;
    let card = double.seed_message(CHANNEL, BOT_ID, "Video job: Generating");
    let job = succeeded(fx.job("502", None).await, shown_at(card, None));
    double.fail_next(
        "PATCH /channels/*/messages/*",
        502,
        json!({ "message": "Bad Gateway", "code": 0 }),
    );

    fx.report_final(&job).await.expect("delivered");

    assert_eq!(card_state(&double.message(card).unwrap()), "Done");
    let edits: Vec<u16> = double
        .requests()
        .iter()
        .filter(|r| r.is("PATCH", &format!("/channels/{CHANNEL}/messages/{card}")))
        .map(|r| r.status)
        .collect();
    assert_eq!(edits, [502, 200]);
    let finals = double.messages_in(CHANNEL);
    assert!(
        finals
            .iter()
            .any(|m| m["content"].as_str().unwrap().contains(RESULT_URL))
    );
    assert_no_violations(&double);
}

#[tokio::test]
async fn a_final_report_to_a_deleted_channel_is_permanent_and_tried_once() {
    let double = DiscordDouble::start().await;
    let fx = Fixture::start(&double).await;
    let job = fx.job("gone", None).await;
    for (status, code, message) in [
        (404, 10003, "Unknown Channel"),
        (403, 50001, "Missing Access"),
        (403, 50013, "Missing Permissions"),
    ] {
        let card = double.seed_message(CHANNEL, BOT_ID, "Video job");
        let job = succeeded(job.clone(), shown_at(card, None));
        double.fail_next(
            "POST /channels/*/messages",
            status,
            json!({ "message": message, "code": code }),
        );
        let before = double.requests().len();

        let err = fx.report_final(&job).await.expect_err("refused");

        assert!(
            matches!(&err, ReportError::Permanent { reason } if reason.contains(&code.to_string())),
            "{err:?}"
        );
        let posts = double.requests()[before..]
            .iter()
            .filter(|r| r.is("POST", "/channels/*/messages"))
            .count();
        assert_eq!(posts, 1, "a permanent refusal is not retried");
    }
}

#[tokio::test]
async fn a_429_on_the_final_message_is_transient_with_the_wait_from_its_body() {
    let double = DiscordDouble::start().await;
    let fx = Fixture::start(&double).await;
    let card = double.seed_message(CHANNEL, BOT_ID, "Video job");
    let job = succeeded(fx.job("slow-down", None).await, shown_at(card, None));
    // Longer than the reporter waits inline: the job queue is told how long to wait. The
    // body has no `code`, as Discord's 429s do not.
    double.fail_next(
        "POST /channels/*/messages",
        429,
        json!({ "message": "You are being rate limited.", "retry_after": 30.5, "global": false }),
    );

    let err = fx.report_final(&job).await.expect_err("rate limited");

    assert_eq!(
        err.retry_after(),
        Some(Duration::from_millis(30_500)),
        "{err:?}"
    );
    assert!(!err.is_permanent());
    assert!(
        double
            .messages_in(CHANNEL)
            .iter()
            .all(|m| m["id"] == json!(card.to_string()))
    );
}

#[tokio::test]
async fn the_same_final_message_sent_twice_is_one_message() {
    let double = DiscordDouble::start().await;
    let fx = Fixture::start(&double).await;
    let card = double.seed_message(CHANNEL, BOT_ID, "Video job");
    let thread = double.seed_message(CHANNEL, BOT_ID, "thread starter");
    let job = succeeded(fx.job("twice", None).await, shown_at(card, Some(thread)));

    // As after a crash between sending the message and recording it.
    fx.report_final(&job).await.expect("first");
    fx.report_final(&job).await.expect("again");

    let posts: Vec<_> = double
        .requests()
        .into_iter()
        .filter(|r| r.is("POST", &format!("/channels/{thread}/messages")))
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body()["nonce"], posts[1].body()["nonce"]);
    assert_eq!(posts[0].body()["enforce_nonce"], true);
    let nonce = posts[0].body()["nonce"].as_str().unwrap().to_owned();
    assert!(nonce.len() <= 25, "{nonce}");
    assert_eq!(double.messages_in(thread).len(), 1);
    assert_no_violations(&double);
}

#[tokio::test]
async fn a_superseded_card_edit_is_dropped_and_the_newest_state_wins() {
    let double = DiscordDouble::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config_for(&double, &[]);
    let data = test_data(config.clone(), dir.path()).await;
    // Not attached to the queue: only the order of the edits decides.
    let reporter = DiscordReporter::new(Arc::new(build_http(&config.discord)), &config.discord);
    data.jobs
        .ledger()
        .grant(GuildId(GUILD), 1000, seedance_bot::credits::Actor::Cli, "t")
        .await
        .unwrap();
    let card = double.seed_message(CHANNEL, BOT_ID, "Video job");
    let mut job = data
        .jobs
        .submit(crate::jobs::request("order", GUILD, MEMBER))
        .await
        .unwrap()
        .job;
    job.reply = shown_at(card, None);
    let running = |provider_state: &str| JobState::Running {
        task_id: "t".into(),
        provider_state: provider_state.into(),
    };
    let with = |state: JobState| {
        let mut j = job.clone();
        j.state = state;
        j
    };
    let (first, older, newest) = (
        with(running("queued")),
        with(running("running")),
        succeeded(job.clone(), shown_at(card, None)),
    );
    let route = "PATCH /channels/*/messages/*";
    double.delay_next(route, Duration::from_millis(300));

    let target = shown_at(card, None);
    let (a, (b, c)) = tokio::join!(reporter.refresh_card(&first, &target), async {
        // Both asked for while the first edit is still in flight.
        tokio::time::sleep(Duration::from_millis(50)).await;
        tokio::join!(
            reporter.refresh_card(&older, &target),
            reporter.refresh_card(&newest, &target)
        )
    });
    a.and(b).and(c).expect("edits");

    let edits: Vec<String> = double
        .requests()
        .iter()
        .filter(|r| r.is("PATCH", &format!("/channels/{CHANNEL}/messages/{card}")))
        .map(|r| card_state(r.body()))
        .collect();
    assert_eq!(edits, ["Generating (queued)", "Done"]);
    assert_eq!(card_state(&double.message(card).unwrap()), "Done");
}

#[tokio::test]
async fn a_card_posted_before_a_crash_is_found_through_its_interaction() {
    let double = DiscordDouble::start().await;
    let fx = Fixture::start(&double).await;
    let answered = double.seed_answered_interaction(
        GUILD,
        CHANNEL,
        &json!({ "embeds": [{ "title": "Video job", "fields": [{ "name": "State", "value": "Queued" }] }] }),
    );
    let interaction = InteractionRef {
        application_id: BOT_ID,
        token: answered.token.clone(),
    };
    let job = fx.job("found", Some(interaction)).await;
    assert_eq!(job.reply.message, None, "the card's id was never stored");
    let mut job = succeeded(job, ReplyTarget::default());
    // A moment after the job was accepted its card may still be on the way: the report waits
    // for it rather than look it up.
    let err = fx
        .report_final(&job)
        .await
        .expect_err("card not posted yet");
    assert!(!err.is_permanent(), "{err:?}");
    assert!(
        !double
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/webhooks/"))
    );

    // The bot restarted; the job has run a while since.
    job.created_at -= 20_000;
    fx.report_final(&job).await.expect("delivered");

    let card = answered.message_id;
    assert!(
        double
            .requests()
            .iter()
            .any(|r| r.is("GET", &format!("/webhooks/{BOT_ID}/*/messages/@original")))
    );
    assert_eq!(card_state(&double.message(card).unwrap()), "Done");
    let threads = double.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["id"], card.to_string());
    let finals = double.messages_in(card);
    assert_eq!(finals.len(), 1, "the final message is in the card's thread");
    assert!(finals[0]["content"].as_str().unwrap().contains(RESULT_URL));
    assert!(
        double
            .messages_in(CHANNEL)
            .iter()
            .all(|m| m["id"] == json!(card.to_string()))
    );
    let stored = fx.data.jobs.get(&job.id).unwrap().reply;
    assert_eq!(stored, shown_at(card, Some(card)));
    assert_no_violations(&double);
}

#[tokio::test]
async fn thread_creation_answered_429_waits_as_asked_and_the_thread_exists() {
    let (double, _provider, _dir, app) = setup().await;
    double.fail_next(
        "POST /channels/*/messages/*/threads",
        429,
        json!({ "message": "You are being rate limited.", "retry_after": 2.0, "global": false }),
    );

    let injected = double.inject(&video("a boat, rate limited")).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    let route = format!("/channels/{CHANNEL}/messages/{card}/threads");
    double
        .wait_for(|r| r.is("POST", &route) && r.status == 201, secs(10))
        .await;

    let tries: Vec<_> = double
        .requests()
        .into_iter()
        .filter(|r| r.is("POST", &route))
        .collect();
    assert_eq!(
        tries.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 201]
    );
    let waited = tries[1].at.duration_since(tries[0].at);
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    assert_eq!(double.threads().len(), 1);
    let final_message = super::video::final_message(&double, card).await;
    assert!(
        final_message["content"]
            .as_str()
            .unwrap()
            .contains(RESULT_URL)
    );
    app.stop().await;
}

#[tokio::test]
async fn failures_of_the_card_lookup_never_carry_the_interaction_token() {
    const SECRET: &str = "INTERACTION-TOKEN-SECRET";
    let double = DiscordDouble::start().await;
    let rest = |base: &str| {
        let toml = format!("[discord]\ntoken = \"{TOKEN}\"\napi_base_url = \"{base}\"");
        let config = seedance_bot::config::Config::from_toml(&toml).expect("config");
        seedance_bot::discord::rest::Rest::new(Arc::new(build_http(&config.discord)))
    };
    // Nothing listens there: a transport error, whose text would name the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = rest(&closed_url)
        .original_response(BOT_ID, SECRET)
        .await
        .expect_err("nothing listens");
    // The double answers 404 Unknown Message for an unknown token.
    let unknown = rest(double.base_url())
        .original_response(BOT_ID, SECRET)
        .await
        .expect_err("unknown");
    for err in [unreachable, unknown] {
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains(TOKEN_SECRET), "{shown}");
    }
}

#[tokio::test]
async fn a_private_answer_is_not_taken_for_the_card() {
    let double = DiscordDouble::start().await;
    let fx = Fixture::start(&double).await;
    let answered = double.seed_answered_interaction(
        GUILD,
        CHANNEL,
        &json!({ "content": "Something went wrong; nothing was charged.", "flags": 64 }),
    );
    let interaction = InteractionRef {
        application_id: BOT_ID,
        token: answered.token,
    };
    let mut job = succeeded(
        fx.job("private", Some(interaction)).await,
        ReplyTarget::default(),
    );
    job.created_at -= 20_000;

    fx.report_final(&job).await.expect("delivered");

    assert!(double.threads().is_empty());
    let private = double.message(answered.message_id).unwrap();
    assert_eq!(private["edited_timestamp"], serde_json::Value::Null);
    let finals: Vec<_> = double
        .messages_in(CHANNEL)
        .into_iter()
        .filter(|m| m["content"].as_str().unwrap().contains(RESULT_URL))
        .collect();
    assert_eq!(
        finals.len(),
        1,
        "followed in the channel the command was used in"
    );
    assert_eq!(fx.data.jobs.get(&job.id).unwrap().reply.message, None);
}
