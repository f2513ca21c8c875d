//! The double's own rules and shapes: its limits catch what they promise, and everything it
//! answers deserializes with serenity's types.

use serde_json::json;
use serenity::all::{
    CurrentApplicationInfo, CurrentUser, GuildChannel, Interaction, Message, PrivateChannel,
};

use super::*;
use crate::support::discord_double::objects::{self, check_shape};
use crate::support::discord_double::{ButtonPress, File, Opt, SlashCommand, validate};

#[test]
fn limits_catch_what_they_promise() {
    let am = json!({ "parse": [] });
    assert!(
        validate::message(
            &json!({ "content": "x".repeat(2000), "allowed_mentions": am }),
            0,
            true
        )
        .is_empty()
    );
    assert!(
        !validate::message(
            &json!({ "content": "x".repeat(2001), "allowed_mentions": am }),
            0,
            true
        )
        .is_empty()
    );
    assert!(
        !validate::message(&json!({ "content": "hi" }), 0, true).is_empty(),
        "no allowed_mentions"
    );
    assert!(
        !validate::message(
            &json!({ "content": "hi", "allowed_mentions": { "parse": ["everyone"] } }),
            0,
            true
        )
        .is_empty()
    );
    assert!(
        !validate::message(&json!({}), 0, true).is_empty(),
        "empty message"
    );
    let embed = |d: usize| json!({ "title": "t", "description": "d".repeat(d) });
    assert!(
        !validate::message(
            &json!({ "embeds": [embed(4097)], "allowed_mentions": am }),
            0,
            true
        )
        .is_empty()
    );
    assert!(
        !validate::message(
            &json!({ "embeds": [embed(4000), embed(2000)], "allowed_mentions": am }),
            0,
            true
        )
        .is_empty(),
        "6000 in all"
    );
    let fields: Vec<_> = (0..26)
        .map(|i| json!({ "name": i.to_string(), "value": "v" }))
        .collect();
    assert!(
        !validate::message(
            &json!({ "embeds": [{ "fields": fields }], "allowed_mentions": am }),
            0,
            true
        )
        .is_empty()
    );
    let eleven: Vec<_> = (0..11).map(|_| embed(1)).collect();
    assert!(
        !validate::message(
            &json!({ "embeds": eleven, "allowed_mentions": am }),
            0,
            true
        )
        .is_empty()
    );

    assert!(
        validate::thread(&json!({ "name": "a cat", "auto_archive_duration": 1440 })).is_empty()
    );
    assert!(!validate::thread(&json!({ "name": "t", "auto_archive_duration": 30 })).is_empty());
    assert!(!validate::thread(&json!({ "name": "" })).is_empty());
    assert!(!validate::thread(&json!({ "name": "x".repeat(101) })).is_empty());

    assert!(!validate::callback(&json!({ "type": 3 })).is_empty());
    assert!(validate::callback(&json!({ "type": 5, "data": { "flags": 64 } })).is_empty());

    let ok = json!([{ "name": "vidéo-2", "description": "x", "type": 1 }]);
    assert!(validate::commands(&ok).is_empty());
    for bad in [
        json!([{ "name": "Video", "description": "x", "type": 1 }]),
        json!([{ "name": "video", "description": "", "type": 1 }]),
        json!([{ "name": "x".repeat(33), "description": "x", "type": 1 }]),
        json!([{ "name": "video", "description": "x".repeat(101), "type": 1 }]),
        json!([{ "name": "video", "description": "x", "options": (0..26).map(|i| json!({"name": format!("o{i}"), "description": "d", "type": 3})).collect::<Vec<_>>() }]),
        json!([{ "name": "video", "description": "x", "options": [{ "name": "a", "description": "d", "type": 3 }, { "name": "b", "description": "d", "type": 3, "required": true }] }]),
        json!([{ "name": "video", "description": "x", "options": [{ "name": "a", "description": "d", "type": 3, "choices": (0..26).map(|i| json!({"name": i.to_string(), "value": "v"})).collect::<Vec<_>>() }] }]),
        json!([{ "name": "video", "description": "x", "options": (0..25).map(|i| json!({"name": format!("o{i}"), "description": "d".repeat(100), "type": 3, "choices": (0..25).map(|j| json!({"name": format!("c{j}"), "value": "v".repeat(10)})).collect::<Vec<_>>()})).collect::<Vec<_>>() }]),
    ] {
        assert!(!validate::commands(&bad).is_empty(), "{bad}");
    }
}

#[test]
fn everything_the_double_sends_deserializes_with_serenity() {
    let body = json!({ "content": "hi", "embeds": [{ "title": "t" }], "attachments": [{ "id": 0, "filename": "v.mp4" }] });
    let bot = objects::user(objects::BOT_ID, objects::BOT_NAME);
    check_shape::<Message>(&objects::message(10, CHANNEL, bot.clone(), &body)).unwrap();
    check_shape::<GuildChannel>(&objects::thread(
        11,
        Some(GUILD),
        CHANNEL,
        &json!({ "name": "t" }),
    ))
    .unwrap();
    check_shape::<GuildChannel>(&objects::thread(11, None, CHANNEL, &json!({ "name": "t" })))
        .unwrap();
    check_shape::<PrivateChannel>(&objects::dm_channel(12, MEMBER)).unwrap();
    check_shape::<CurrentUser>(&bot).unwrap();
    check_shape::<CurrentApplicationInfo>(&objects::application()).unwrap();
    let command = objects::command(
        13,
        Some(GUILD),
        &json!({ "name": "video", "description": "d" }),
    );
    check_shape::<serenity::all::Command>(&command).unwrap();

    let mut n = 100;
    let mut next = || {
        n += 1;
        n
    };
    let mut url = |id: u64, f: &File| format!("http://127.0.0.1/attachments/1/{id}/{}", f.filename);
    let slash = SlashCommand::in_guild("admin", GUILD, CHANNEL, MEMBER)
        .roles(&[ROLE])
        .option(Opt::subcommand(
            "grant",
            vec![
                Opt::integer("amount", 5),
                Opt::user("to", OTHER_MEMBER),
                Opt::boolean("quiet", true),
                Opt::number("ratio", 1.5),
                Opt::attachment("file", File::metadata("big.mov", None, 1 << 30)),
            ],
        ));
    let dm = SlashCommand::in_dm("credits", 5, MEMBER)
        .option(Opt::group("pool", vec![Opt::subcommand("show", vec![])]));
    for payload in [
        slash.to_json(1, "t", &mut next, &mut url),
        dm.to_json(2, "t", &mut next, &mut url),
        ButtonPress::in_guild("job:1:cancel", 10, GUILD, CHANNEL, MEMBER).to_json(3, "t", None),
    ] {
        check_shape::<Interaction>(&payload).unwrap_or_else(|e| panic!("{e}\n{payload:#}"));
    }
}
