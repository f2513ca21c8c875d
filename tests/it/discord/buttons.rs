//! The card's buttons: "Cancel" by its owner refunds a queued job; "Run again" makes the same
//! video for whoever clicks; and a second job while one is active is refused.

use seedance_bot::jobs::{JobId, JobState};

use super::video::{COST, callback, card_id, final_message, video, wait_delivered};
use super::*;
use crate::support::discord_double::{ButtonPress, Injected, SlashCommand};
use crate::support::fake_provider::{Endpoint, Step};

const THIRD_MEMBER: u64 = 900_000_000_000_000_006;

async fn press(double: &DiscordDouble, custom_id: &str, card: u64, who: u64) -> (Injected, Value) {
    let injected = double
        .press(&ButtonPress::in_guild(custom_id, card, GUILD, CHANNEL, who))
        .await;
    let cb = callback(double, &injected).await;
    (injected, cb)
}

fn ephemeral_text(cb: &Value) -> &str {
    assert_eq!(
        cb["data"]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "ephemeral: {cb}"
    );
    cb["data"]["content"].as_str().unwrap_or_default()
}

async fn cancel_refunds_the_owner_and_run_again_charges_the_clicker(mode: Mode) {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![Step::waiting()]);
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*app_config_in(mode, &double, &provider, dir.path(), "")).clone();
    config.seedance.max_running = 1;
    let app = TestApp::start(&double, Arc::new(config)).await;
    app.grant(1000).await;

    // Another member's job takes the only running slot and never ends.
    let running = double
        .inject(
            &SlashCommand::in_guild("video", GUILD, CHANNEL, OTHER_MEMBER).option(
                crate::support::discord_double::Opt::string("prompt", "a long video"),
            ),
        )
        .await;
    callback(&double, &running).await;
    let deadline = tokio::time::Instant::now() + secs(5);
    while provider.count(Endpoint::CreateTask) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let queued = double.inject(&video("a queued boat")).await;
    let cb = callback(&double, &queued).await;
    let fields = cb["data"]["embeds"][0]["fields"].to_string();
    assert!(
        fields.contains("Queue position") && fields.contains("#1"),
        "{fields}"
    );
    let card = card_id(&double, &queued);
    let cancel = format!("seedance:cancel:{}", queued.id);

    // One job at a time per member.
    let second = double.inject(&video("another boat")).await;
    let text = ephemeral_text(&callback(&double, &second).await).to_owned();
    assert!(text.contains("already have 1 job(s) in progress"), "{text}");

    let (_, cb) = press(&double, &cancel, card, OTHER_MEMBER).await;
    assert!(
        ephemeral_text(&cb).contains("only the member who asked"),
        "{cb}"
    );
    let (_, cb) = press(&double, &cancel, card, MEMBER).await;
    assert!(
        ephemeral_text(&cb).contains(&format!("Cancelled: {COST} credits")),
        "{cb}"
    );

    let done = final_message(&double, card).await;
    assert!(
        done["content"].as_str().unwrap().contains("was cancelled"),
        "{done}"
    );
    let job = wait_delivered(&app, &queued.id.to_string()).await;
    assert_eq!(job.state, JobState::Cancelled);
    let b = app.balance();
    assert_eq!(
        (b.available, b.pending),
        (1000 - COST, COST),
        "only the running job is held"
    );
    let shown = double.message(card).unwrap();
    assert_eq!(
        shown["components"][0]["components"][0]["label"],
        "Run again"
    );

    // Someone else runs it again: a new card and job, paid by them, keyed by the press.
    let again = format!("seedance:again:{}", queued.id);
    let (pressed, cb) = press(&double, &again, card, THIRD_MEMBER).await;
    assert_eq!(cb["type"], 4);
    assert_eq!(cb["data"]["embeds"][0]["description"], "a queued boat");
    let repeat = app
        .jobs
        .get(&JobId(pressed.id.to_string()))
        .expect("a new job");
    assert_eq!(repeat.request.member.0, THIRD_MEMBER);
    assert_eq!(repeat.request.prompt, job.request.prompt);
    assert_eq!(app.balance().pending, 2 * COST);
    assert_eq!(
        provider.count(Endpoint::CreateTask),
        1,
        "the repeat waits its turn"
    );

    assert_pings_at_most_one(&double);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(cancel_refunds_the_owner_and_run_again_charges_the_clicker,);
