//! The JSON shapes the double answers with: only what serenity 0.12.5 needs to deserialize
//! them (its `Message`, `User`, `GuildChannel`, `Command`), plus a check that it does.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The bot's user id; also its application id, as on Discord for bots made since 2019.
pub const BOT_ID: u64 = 1_100_000_000_000_000_001;
/// The application's owner, as `GET /oauth2/applications/@me` shows it.
pub const OWNER_ID: u64 = 1_100_000_000_000_000_002;
/// The bot's user name in READY and on its messages.
pub const BOT_NAME: &str = "seedance-bot";
/// A fixed timestamp: the double's clock does not matter to the bot.
pub const TIMESTAMP: &str = "2026-01-01T00:00:00.000000+00:00";

/// A Discord user as the API shows one.
pub fn user(id: u64, username: &str) -> Value {
    json!({
        "id": id.to_string(),
        "username": username,
        "discriminator": "0",
        "global_name": username,
        "avatar": null,
        "bot": id == BOT_ID,
    })
}

/// A message as `POST /channels/{id}/messages` or a webhook answers it.
pub fn message(id: u64, channel_id: u64, author: Value, body: &Value) -> Value {
    let attachments: Vec<Value> = body
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            let filename = a.get("filename").and_then(Value::as_str).unwrap_or("file");
            let url = format!("https://cdn.invalid/attachments/{channel_id}/{id}/{filename}");
            json!({
                "id": (id + 1 + i as u64).to_string(),
                "filename": filename,
                "size": 0,
                "url": url,
                "proxy_url": url,
            })
        })
        .collect();
    json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": author,
        "content": body.get("content").and_then(Value::as_str).unwrap_or(""),
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": body.get("tts").and_then(Value::as_bool).unwrap_or(false),
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments,
        "embeds": body.get("embeds").cloned().unwrap_or_else(|| json!([])),
        "components": body.get("components").cloned().unwrap_or_else(|| json!([])),
        "pinned": false,
        "type": 0,
        "flags": body.get("flags").cloned().unwrap_or(json!(0)),
    })
}

/// Applies a PATCH body to a stored message: the fields a bot may edit.
pub fn apply_edit(message: &mut Value, edit: &Value) {
    for key in ["content", "embeds", "components", "flags", "attachments"] {
        if let Some(v) = edit.get(key) {
            if key == "attachments" {
                // Kept attachments are referenced by id; new files are not simulated.
                continue;
            }
            message[key] = v.clone();
        }
    }
    message["edited_timestamp"] = json!(TIMESTAMP);
}

/// A public thread started from a message (type 11).
pub fn thread(id: u64, guild_id: Option<u64>, parent_id: u64, body: &Value) -> Value {
    let mut t = json!({
        "id": id.to_string(),
        "type": 11,
        "parent_id": parent_id.to_string(),
        "name": body.get("name").and_then(Value::as_str).unwrap_or(""),
        "owner_id": BOT_ID.to_string(),
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": body.get("auto_archive_duration").cloned().unwrap_or(json!(1440)),
            "archive_timestamp": TIMESTAMP,
            "locked": false,
        },
        "flags": 0,
    });
    if let Some(g) = guild_id {
        t["guild_id"] = json!(g.to_string());
    }
    t
}

/// The bot's application, as `GET /oauth2/applications/@me` answers it.
pub fn application() -> Value {
    json!({
        "id": BOT_ID.to_string(),
        "name": BOT_NAME,
        "icon": null,
        "description": "",
        "bot_public": false,
        "bot_require_code_grant": false,
        "owner": user(OWNER_ID, "owner"),
        "verify_key": "00",
        "team": null,
        "flags": 0,
    })
}

/// A server text channel (type 0), age-restricted when `nsfw`.
pub fn text_channel(id: u64, guild_id: u64, nsfw: bool) -> Value {
    json!({
        "id": id.to_string(),
        "type": 0,
        "guild_id": guild_id.to_string(),
        "name": format!("channel-{id}"),
        "position": 0,
        "permission_overwrites": [],
        "nsfw": nsfw,
        "parent_id": null,
        "last_message_id": null,
    })
}

/// A DM channel with a user (type 1).
pub fn dm_channel(id: u64, recipient: u64) -> Value {
    json!({
        "id": id.to_string(),
        "type": 1,
        "recipients": [user(recipient, "member")],
        "last_message_id": null,
    })
}

/// A registered command as bulk overwrite echoes it.
pub fn command(id: u64, guild_id: Option<u64>, sent: &Value) -> Value {
    let mut c = sent.clone();
    c["id"] = json!(id.to_string());
    c["application_id"] = json!(BOT_ID.to_string());
    c["version"] = json!(id.to_string());
    if c.get("type").is_none() {
        c["type"] = json!(1);
    }
    if c.get("description").is_none() {
        c["description"] = json!("");
    }
    if let Some(g) = guild_id {
        c["guild_id"] = json!(g.to_string());
    }
    c
}

/// Discord's error body.
pub fn error(code: u64, message: &str) -> Value {
    json!({ "message": message, "code": code })
}

/// `Err` with serde's reason when serenity could not read `value` as a `T`: such a payload
/// would be dropped silently (a dispatch) or fail the bot's call (a REST answer).
pub fn check_shape<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(value.clone())
        .map(|_| ())
        .map_err(|e| format!("{} does not deserialize: {e}", std::any::type_name::<T>()))
}
