//! Messages and threads sent through the bot's serenity `Http`, with the mentions policy.

use seedance_bot::discord::{build_http, only_user};
use seedance_bot::ids::MemberId;
use serde_json::json;
use serenity::all::{
    AutoArchiveDuration, ChannelId, CreateAttachment, CreateMessage, CreateThread, EditMessage,
    HttpError,
};

use super::*;

const PROMPT: &str = "@everyone look <@&900000000000000005> and <@900000000000000004> @here";

#[tokio::test]
async fn an_echoed_prompt_pings_nobody_but_the_requester() {
    let double = DiscordDouble::start().await;
    let http = build_http(&config_for(&double, &[]).discord);
    let content = format!("<@{MEMBER}> your video for: {PROMPT}");
    let message = ChannelId::new(CHANNEL)
        .send_message(
            &http,
            CreateMessage::new()
                .content(&content)
                .allowed_mentions(only_user(MemberId(MEMBER))),
        )
        .await
        .expect("sent");
    assert_eq!(message.content, content);

    let sent = double
        .wait_for(
            |r| r.is("POST", &format!("/channels/{CHANNEL}/messages")),
            secs(2),
        )
        .await;
    assert_eq!(
        sent.body()["allowed_mentions"],
        json!({ "parse": [], "users": [MEMBER.to_string()], "roles": [], "replied_user": false })
    );
    assert!(
        !sent.body()["allowed_mentions"]
            .to_string()
            .contains(&OTHER_MEMBER.to_string())
    );
    assert!(
        !sent.body()["allowed_mentions"]
            .to_string()
            .contains(&ROLE.to_string())
    );

    // An edit is visible in the double's state.
    ChannelId::new(CHANNEL)
        .edit_message(
            &http,
            message.id,
            EditMessage::new()
                .content("done")
                .allowed_mentions(only_user(MemberId(MEMBER))),
        )
        .await
        .expect("edited");
    assert_eq!(double.message(message.id.get()).unwrap()["content"], "done");
    assert!(double.violations().is_empty(), "{:#?}", double.violations());
}

#[tokio::test]
async fn a_message_without_allowed_mentions_is_a_violation() {
    let double = DiscordDouble::start().await;
    let http = build_http(&config_for(&double, &[]).discord);
    ChannelId::new(CHANNEL)
        .say(&http, PROMPT)
        .await
        .expect("sent");
    let violations = double.violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert!(violations[0].problem.contains("allowed_mentions"));
}

#[tokio::test]
async fn threads_start_from_a_message_and_a_403_is_an_error_the_caller_sees() {
    let double = DiscordDouble::start().await;
    let http = build_http(&config_for(&double, &[]).discord);
    let starter = double.seed_message(CHANNEL, MEMBER, "/video a cat");
    let thread = ChannelId::new(CHANNEL)
        .create_thread_from_message(
            &http,
            starter,
            CreateThread::new("a cat").auto_archive_duration(AutoArchiveDuration::OneDay),
        )
        .await
        .expect("thread");
    assert_eq!(
        thread.id.get(),
        starter,
        "a thread's id is its starter message's id"
    );
    assert_eq!(thread.name, "a cat");
    let posted = thread
        .send_message(
            &http,
            CreateMessage::new()
                .content("in the thread")
                .allowed_mentions(only_user(MemberId(MEMBER))),
        )
        .await
        .expect("posted");
    assert_eq!(double.messages_in(starter).len(), 1);
    assert_eq!(posted.channel_id, thread.id);

    const DENIED: u64 = 900_000_000_000_000_010;
    double.deny_threads_in(DENIED);
    let starter = double.seed_message(DENIED, MEMBER, "/video a dog");
    let err = ChannelId::new(DENIED)
        .create_thread_from_message(&http, starter, CreateThread::new("a dog"))
        .await
        .expect_err("no permission");
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(e)) => {
            assert_eq!(e.status_code.as_u16(), 403);
            assert_eq!(e.error.code, 50013);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(double.violations().is_empty(), "{:#?}", double.violations());
}

#[tokio::test]
async fn faults_reach_the_caller_and_uploads_are_recorded_as_parts() {
    let double = DiscordDouble::start().await;
    let http = build_http(&config_for(&double, &[]).discord);
    let route = "POST /channels/*/messages";
    double.fail_next(
        route,
        429,
        json!({ "message": "You are being rate limited.", "retry_after": 0.25, "global": false }),
    );
    let message = || {
        CreateMessage::new()
            .content("video")
            .allowed_mentions(only_user(MemberId(MEMBER)))
    };
    let err = ChannelId::new(CHANNEL)
        .send_message(&http, message())
        .await
        .expect_err("429");
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(e)) => {
            assert_eq!(e.status_code.as_u16(), 429)
        }
        other => panic!("unexpected error {other:?}"),
    }
    // The fault was used up: the next one goes through, as a multipart upload.
    let file = CreateAttachment::bytes(b"\0\0\0\x18ftypmp42".to_vec(), "video.mp4");
    ChannelId::new(CHANNEL)
        .send_message(&http, message().add_file(file))
        .await
        .expect("sent");
    let upload = double.requests().pop().unwrap();
    assert_eq!(upload.status, 200);
    assert_eq!(upload.body()["content"], "video");
    assert_eq!(upload.files.len(), 1);
    assert_eq!(upload.files[0].filename.as_deref(), Some("video.mp4"));
    assert_eq!(upload.files[0].bytes, b"\0\0\0\x18ftypmp42");
    let stored = double.messages_in(CHANNEL);
    assert_eq!(stored[0]["attachments"][0]["filename"], "video.mp4");
}
