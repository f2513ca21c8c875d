//! Building an [`Invocation`] from raw interaction JSON, in the shape Discord (and the local
//! Discord double) sends over the gateway or in an HTTP POST.

use serde_json::{Value, json};
use serenity::all::{CommandInteraction, ComponentInteraction};

use super::*;
use crate::discord::commands::video::ResolutionChoice;

const TOKEN: &str = "aW50ZXJhY3Rpb24.SECRET-token_never-shown";

fn user(id: u64) -> Value {
    json!({ "id": id.to_string(), "username": format!("member{id}"), "discriminator": "0",
            "global_name": null, "avatar": null })
}

/// The fields every interaction has, in a server (`member`) or in a DM (`user`).
fn base(kind: u8, guild: Option<u64>, channel: Value) -> Value {
    let mut v = json!({
        "id": "1300000000000000001", "application_id": "900", "type": kind, "token": TOKEN,
        "version": 1, "channel_id": channel["id"].clone(), "channel": channel,
        "locale": "zh-CN", "entitlements": [], "app_permissions": (1u64 << 35).to_string(),
        "attachment_size_limit": 10_485_760,
    });
    match guild {
        Some(g) => {
            v["guild_id"] = json!(g.to_string());
            v["guild_locale"] = json!("de");
            v["member"] = json!({
                "user": user(42), "nick": null, "roles": ["7", "8"],
                "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
                "flags": 0, "pending": false, "permissions": (1u64 << 5).to_string(),
            });
        }
        None => v["user"] = user(42),
    }
    v
}

fn text_channel() -> Value {
    json!({ "id": "500", "type": 0, "nsfw": false })
}

fn command(guild: Option<u64>, channel: Value, data: Value) -> CommandInteraction {
    let mut v = base(2, guild, channel);
    v["data"] = data;
    serde_json::from_value(v).expect("a command interaction")
}

fn grant() -> CommandInteraction {
    command(
        Some(77),
        text_channel(),
        json!({ "id": "901", "name": "credits", "type": 1, "resolved": {}, "options": [
            { "name": "grant", "type": 1, "options": [
                { "name": "amount", "type": 4, "value": -25 },
                { "name": "reason", "type": 3, "value": "refund" } ] } ] }),
    )
}

#[test]
fn who_where_rights_and_locale_come_through() {
    let inv = Invocation::from(&grant());
    assert_eq!(inv.user.get(), 42);
    assert_eq!(inv.guild.map(|g| g.get()), Some(77));
    assert_eq!(inv.channel.get(), 500);
    assert_eq!(inv.application_id.get(), 900);
    assert_eq!(inv.locale, "zh-CN");
    assert_eq!(inv.guild_locale.as_deref(), Some("de"));
    assert_eq!(
        inv.roles.iter().map(|r| r.get()).collect::<Vec<_>>(),
        [7, 8]
    );
    assert_eq!(inv.member_permissions, Some(Permissions::MANAGE_GUILD));
    assert!(inv.can_manage());
    assert_eq!(
        inv.app_permissions,
        Some(Permissions::CREATE_PUBLIC_THREADS)
    );
    assert_eq!(inv.attachment_size_limit, 10_485_760);
    assert!(!inv.in_thread);
    assert_eq!(inv.place.parent, None);
    assert_eq!(inv.token.expose(), TOKEN);
}

#[test]
fn subcommands_name_the_path_and_their_options_are_read() {
    let inv = Invocation::from(&grant());
    assert_eq!(
        inv.invoked,
        Invoked::Command(vec!["credits".into(), "grant".into()])
    );
    assert_eq!(inv.options.integer("amount"), Some(-25));
    assert_eq!(inv.options.string("reason"), Some("refund"));
    assert_eq!(inv.options.string("amount"), None, "types are not mixed up");
    assert!(
        inv.options.get("grant").is_none(),
        "a subcommand is no option"
    );
}

#[test]
fn attachments_are_resolved_and_users_channels_choices_read() {
    let url = "https://cdn.example/a.png?ex=6a00&is=69ff&hm=ab";
    let i = command(
        Some(77),
        json!({ "id": "600", "type": 11, "nsfw": false, "parent_id": "500", "name": "a thread" }),
        json!({ "id": "902", "name": "video", "type": 1, "options": [
            { "name": "prompt", "type": 3, "value": "a cat" },
            { "name": "image", "type": 11, "value": "31" },
            { "name": "video", "type": 11, "value": "32" },
            { "name": "resolution", "type": 4, "value": 1 },
            { "name": "generate_audio", "type": 5, "value": true },
            { "name": "user", "type": 6, "value": "43" },
            { "name": "channel", "type": 7, "value": "501" } ],
          "resolved": { "attachments": { "31": {
              "id": "31", "filename": "a.png", "size": 1234, "url": url, "proxy_url": url,
              "content_type": "image/png", "ephemeral": true } } } }),
    );
    let inv = Invocation::from(&i);
    let image = inv.options.attachment("image").expect("the resolved file");
    assert_eq!(
        (image.filename.as_str(), image.size, image.url.as_str()),
        ("a.png", 1234, url)
    );
    assert_eq!(image.content_type.as_deref(), Some("image/png"));
    // An attachment id Discord did not resolve is no file.
    assert!(matches!(
        inv.options.get("video"),
        Some(OptionValue::Unreadable)
    ));
    assert!(matches!(
        inv.options.choice::<ResolutionChoice>("resolution"),
        Some(ResolutionChoice::P720)
    ));
    assert_eq!(inv.options.boolean("generate_audio"), Some(true));
    assert_eq!(inv.options.user("user").map(|u| u.get()), Some(43));
    assert_eq!(inv.options.channel("channel").map(|c| c.get()), Some(501));
    assert!(inv.in_thread);
    assert_eq!(inv.place.channel.0, 600);
    assert_eq!(inv.place.parent.map(|p| p.0), Some(500));
}

#[test]
fn a_dm_has_no_server_rights_or_roles() {
    let i = command(
        None,
        json!({ "id": "5", "type": 1 }),
        json!({ "id": "903", "name": "jobs", "type": 1, "options": [], "resolved": {} }),
    );
    let inv = Invocation::from(&i);
    assert_eq!(inv.guild, None);
    assert_eq!(inv.user.get(), 42);
    assert_eq!(inv.member_permissions, None);
    assert!(!inv.can_manage());
    assert!(inv.roles.is_empty());
    assert_eq!(inv.guild_locale, None);
}

#[test]
fn a_button_press_names_its_button() {
    let mut v = base(3, Some(77), text_channel());
    v["data"] = json!({ "custom_id": "cancel:job-1", "component_type": 2 });
    v["message"] = json!({
        "id": "700", "channel_id": "500", "author": user(900), "content": "",
        "timestamp": "2024-01-01T00:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "pinned": false, "type": 0 });
    let press: ComponentInteraction = serde_json::from_value(v).expect("a button press");
    let inv = Invocation::from(&press);
    assert_eq!(inv.invoked, Invoked::Button("cancel:job-1".into()));
    assert!(inv.options.is_empty());
    assert_eq!(inv.guild.map(|g| g.get()), Some(77));
    assert!(inv.can_manage());
}

#[test]
fn the_token_never_shows_in_debug() {
    let inv = Invocation::from(&grant());
    for shown in [format!("{inv:?}"), format!("{inv:#?}")] {
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
    assert!(!format!("{:?}", inv.token).contains("SECRET"));
}
