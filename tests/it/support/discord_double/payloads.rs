//! Builders for the interactions a test injects as `INTERACTION_CREATE` dispatches.
//!
//! Every field serenity 0.12.5 requires is always written: a payload missing one becomes an
//! `Unknown` event and no handler fires. `DiscordDouble::inject` also deserializes each
//! payload with serenity's own `Interaction` type and panics when it would be dropped.

use serde_json::{Value, json};

use super::objects;

/// Permission bits the tests use (Discord docs "Permissions").
pub mod perms {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    /// What a plain member has in an ordinary text channel.
    pub const MEMBER: u64 =
        VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | USE_APPLICATION_COMMANDS;
    /// What the bot is given by default: send, embed, attach, make threads and post in them.
    pub const BOT: u64 = VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS;
}

/// Discord's default upload limit for a server without boosts: 10 MiB.
pub const DEFAULT_ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// A file a member attached to a command. With `bytes`, the double serves it at its URL.
#[derive(Debug, Clone)]
pub struct File {
    pub filename: String,
    pub content_type: Option<String>,
    pub size: u64,
    pub bytes: Option<Vec<u8>>,
}

impl File {
    /// A file the double serves: `size` is the length of `bytes`.
    pub fn new(filename: &str, content_type: &str, bytes: impl Into<Vec<u8>>) -> File {
        let bytes = bytes.into();
        File {
            filename: filename.into(),
            content_type: Some(content_type.into()),
            size: bytes.len() as u64,
            bytes: Some(bytes),
        }
    }

    /// A file known by its metadata only (its URL answers 404), e.g. a huge upload.
    pub fn metadata(filename: &str, content_type: Option<&str>, size: u64) -> File {
        File {
            filename: filename.into(),
            content_type: content_type.map(Into::into),
            size,
            bytes: None,
        }
    }
}

/// One option value of an invoked command (Discord docs "Application Command Option Type").
#[derive(Debug, Clone)]
pub struct Opt {
    name: String,
    kind: u8,
    value: Option<Value>,
    options: Vec<Opt>,
    file: Option<File>,
    /// The option being typed in an autocomplete interaction.
    focused: bool,
}

impl Opt {
    fn leaf(name: &str, kind: u8, value: Value) -> Opt {
        Opt {
            name: name.into(),
            kind,
            value: Some(value),
            options: Vec::new(),
            file: None,
            focused: false,
        }
    }
    pub fn subcommand(name: &str, options: Vec<Opt>) -> Opt {
        Opt {
            name: name.into(),
            kind: 1,
            value: None,
            options,
            file: None,
            focused: false,
        }
    }
    pub fn group(name: &str, subcommands: Vec<Opt>) -> Opt {
        Opt {
            name: name.into(),
            kind: 2,
            value: None,
            options: subcommands,
            file: None,
            focused: false,
        }
    }
    pub fn string(name: &str, value: &str) -> Opt {
        Opt::leaf(name, 3, json!(value))
    }
    pub fn integer(name: &str, value: i64) -> Opt {
        Opt::leaf(name, 4, json!(value))
    }
    pub fn boolean(name: &str, value: bool) -> Opt {
        Opt::leaf(name, 5, json!(value))
    }
    /// A user option; the user is added to `resolved.users`.
    pub fn user(name: &str, id: u64) -> Opt {
        Opt::leaf(name, 6, json!(id.to_string()))
    }
    /// A channel option (type 7); a text channel of that id goes to `resolved.channels`.
    pub fn channel(name: &str, id: u64) -> Opt {
        Opt::leaf(name, 7, json!(id.to_string()))
    }
    /// The option of type `kind` being typed in an autocomplete interaction: Discord sends
    /// what was typed so far as a string, whatever the option's type.
    pub fn focused(name: &str, kind: u8, typed: &str) -> Opt {
        Opt {
            focused: true,
            ..Opt::leaf(name, kind, json!(typed))
        }
    }
    /// A role option (type 8); the role goes to `resolved.roles`.
    pub fn role(name: &str, id: u64) -> Opt {
        Opt::leaf(name, 8, json!(id.to_string()))
    }
    pub fn number(name: &str, value: f64) -> Opt {
        Opt::leaf(name, 10, json!(value))
    }
    /// An attachment option (type 11): its value is the attachment id, the file goes to
    /// `resolved.attachments`.
    pub fn attachment(name: &str, file: File) -> Opt {
        Opt {
            name: name.into(),
            kind: 11,
            value: None,
            options: Vec::new(),
            file: Some(file),
            focused: false,
        }
    }
}

/// Who invokes, where, and with what rights: shared by both interaction kinds.
#[derive(Debug, Clone)]
pub struct Origin {
    pub user_id: u64,
    pub username: String,
    /// `None`: a DM with the bot.
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    /// 0 text, 1 DM, 11 public thread (Discord docs "Channel Types").
    pub channel_type: u8,
    pub parent_id: Option<u64>,
    pub roles: Vec<u64>,
    pub member_permissions: u64,
    pub app_permissions: u64,
    pub attachment_size_limit: u64,
    pub locale: String,
    /// The server's locale (`guild_locale`), in a server.
    pub guild_locale: String,
    /// The channel is age-restricted (Discord's `nsfw` flag).
    pub nsfw: bool,
}

impl Origin {
    fn guild(guild_id: u64, channel_id: u64, user_id: u64) -> Origin {
        Origin {
            user_id,
            username: format!("member{user_id}"),
            guild_id: Some(guild_id),
            channel_id,
            channel_type: 0,
            parent_id: None,
            roles: Vec::new(),
            member_permissions: perms::MEMBER,
            app_permissions: perms::BOT,
            attachment_size_limit: DEFAULT_ATTACHMENT_SIZE_LIMIT,
            locale: "en-US".into(),
            guild_locale: "en-US".into(),
            nsfw: false,
        }
    }

    fn dm(channel_id: u64, user_id: u64) -> Origin {
        Origin {
            guild_id: None,
            channel_type: 1,
            ..Origin::guild(0, channel_id, user_id)
        }
    }

    /// The fields every interaction has, with `member` or `user` depending on the place.
    fn base(&self, kind: u8, id: u64, token: &str) -> Value {
        let user = objects::user(self.user_id, &self.username);
        let mut channel = json!({ "id": self.channel_id.to_string(), "type": self.channel_type, "nsfw": self.nsfw });
        if let Some(parent) = self.parent_id {
            channel["parent_id"] = json!(parent.to_string());
            channel["name"] = json!("a thread");
        }
        let mut v = json!({
            "id": id.to_string(),
            "application_id": objects::BOT_ID.to_string(),
            "type": kind,
            "token": token,
            "version": 1,
            "channel_id": self.channel_id.to_string(),
            "channel": channel,
            "locale": self.locale,
            "entitlements": [],
            "app_permissions": self.app_permissions.to_string(),
            "attachment_size_limit": self.attachment_size_limit,
        });
        match self.guild_id {
            Some(g) => {
                v["guild_id"] = json!(g.to_string());
                v["guild_locale"] = json!(self.guild_locale);
                v["context"] = json!(0);
                v["authorizing_integration_owners"] = json!({ "0": g.to_string() });
                v["member"] = json!({
                    "user": user,
                    "nick": null,
                    "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
                    "joined_at": objects::TIMESTAMP,
                    "deaf": false,
                    "mute": false,
                    "flags": 0,
                    "pending": false,
                    "permissions": self.member_permissions.to_string(),
                });
            }
            None => {
                v["user"] = user;
                v["context"] = json!(1);
                v["authorizing_integration_owners"] = json!({ "1": self.user_id.to_string() });
            }
        }
        v
    }
}

/// An application-command (slash command) interaction, type 2.
#[derive(Debug, Clone)]
pub struct SlashCommand {
    pub name: String,
    pub origin: Origin,
    pub options: Vec<Opt>,
    /// When the attachments' signed links expire (unix seconds, their `ex`); `None`: a day
    /// after the injection, as Discord signs fresh uploads.
    pub links_expire_at: Option<u64>,
    /// 2: the command is used; 4: an option is being typed (autocomplete).
    pub interaction_type: u8,
}

impl SlashCommand {
    /// `/name` used by `user_id` in a text channel of a server, with member rights.
    pub fn in_guild(name: &str, guild_id: u64, channel_id: u64, user_id: u64) -> SlashCommand {
        SlashCommand {
            name: name.into(),
            origin: Origin::guild(guild_id, channel_id, user_id),
            options: Vec::new(),
            links_expire_at: None,
            interaction_type: 2,
        }
    }
    /// `/name` used in a DM with the bot.
    pub fn in_dm(name: &str, dm_channel_id: u64, user_id: u64) -> SlashCommand {
        SlashCommand {
            name: name.into(),
            origin: Origin::dm(dm_channel_id, user_id),
            options: Vec::new(),
            links_expire_at: None,
            interaction_type: 2,
        }
    }
    pub fn option(mut self, option: Opt) -> Self {
        self.options.push(option);
        self
    }
    /// The command is used inside a public thread whose parent is `parent_id`.
    pub fn in_thread(mut self, parent_id: u64) -> Self {
        self.origin.channel_type = 11;
        self.origin.parent_id = Some(parent_id);
        self
    }
    pub fn username(mut self, name: &str) -> Self {
        self.origin.username = name.into();
        self
    }
    pub fn roles(mut self, roles: &[u64]) -> Self {
        self.origin.roles = roles.to_vec();
        self
    }
    pub fn member_permissions(mut self, bits: u64) -> Self {
        self.origin.member_permissions = bits;
        self
    }
    /// The member's Discord client language (`locale`), e.g. `zh-CN`.
    pub fn locale(mut self, locale: &str) -> Self {
        self.origin.locale = locale.into();
        self
    }
    /// The server's language (`guild_locale`).
    pub fn guild_locale(mut self, locale: &str) -> Self {
        self.origin.guild_locale = locale.into();
        self
    }
    pub fn app_permissions(mut self, bits: u64) -> Self {
        self.origin.app_permissions = bits;
        self
    }
    /// The command is used in an age-restricted channel (for a thread: its parent is one).
    pub fn age_restricted(mut self) -> Self {
        self.origin.nsfw = true;
        self
    }
    pub fn attachment_size_limit(mut self, bytes: u64) -> Self {
        self.origin.attachment_size_limit = bytes;
        self
    }
    /// Sent while the member types an option (marked with [`Opt::focused`]): an
    /// autocomplete interaction (type 4), answered with suggestions (callback type 8).
    pub fn autocomplete(mut self) -> Self {
        self.interaction_type = 4;
        self
    }
    /// The attachments' links expire at `unix_secs` (e.g. in the past: an old upload).
    pub fn links_expire_at(mut self, unix_secs: u64) -> Self {
        self.links_expire_at = Some(unix_secs);
        self
    }
    /// The `ex` of this command's attachment links, in hex as Discord writes it.
    pub fn link_ex(&self) -> String {
        let day_from_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 86_400;
        format!("{:x}", self.links_expire_at.unwrap_or(day_from_now))
    }

    /// The payload; `next_id` numbers attachments, `file_url` names where a file is served.
    pub fn to_json(
        &self,
        id: u64,
        token: &str,
        next_id: &mut dyn FnMut() -> u64,
        file_url: &mut dyn FnMut(u64, &File) -> String,
    ) -> Value {
        let mut resolved = json!({});
        let options: Vec<Value> = self
            .options
            .iter()
            .map(|o| option_json(o, &mut resolved, next_id, file_url))
            .collect();
        let mut v = self.origin.base(self.interaction_type, id, token);
        let command_id = objects::BOT_ID + 1 + self.name.bytes().map(u64::from).sum::<u64>();
        v["data"] = json!({
            "id": command_id.to_string(),
            "name": self.name,
            "type": 1,
            "options": options,
            "resolved": resolved,
        });
        if let Some(g) = self.origin.guild_id {
            v["data"]["guild_id"] = json!(g.to_string());
        }
        v
    }
}

fn option_json(
    o: &Opt,
    resolved: &mut Value,
    next_id: &mut dyn FnMut() -> u64,
    file_url: &mut dyn FnMut(u64, &File) -> String,
) -> Value {
    let mut v = json!({ "name": o.name, "type": o.kind });
    if o.kind <= 2 {
        v["options"] = o
            .options
            .iter()
            .map(|o| option_json(o, resolved, next_id, file_url))
            .collect();
        return v;
    }
    if let Some(file) = &o.file {
        let id = next_id();
        let url = file_url(id, file);
        let mut a = json!({
            "id": id.to_string(),
            "filename": file.filename,
            "size": file.size,
            "url": url,
            "proxy_url": url,
            "ephemeral": true,
        });
        if let Some(ct) = &file.content_type {
            a["content_type"] = json!(ct);
        }
        resolved["attachments"][id.to_string()] = a;
        v["value"] = json!(id.to_string());
        return v;
    }
    let value = o.value.clone().unwrap_or(Value::Null);
    if o.focused {
        v["focused"] = json!(true);
    }
    if o.kind == 7 {
        let id = value.as_str().unwrap_or("0");
        resolved["channels"][id] = json!({
            "id": id, "type": 0, "name": format!("channel-{id}"), "permissions": "0",
        });
    }
    if o.kind == 8 {
        let id = value.as_str().unwrap_or("0");
        resolved["roles"][id] = json!({
            "id": id, "name": format!("role-{id}"), "color": 0, "hoist": false,
            "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
            "icon": null, "unicode_emoji": null,
            "position": 1, "permissions": "0", "managed": false, "mentionable": true,
            "flags": 0,
        });
    }
    if o.kind == 6 {
        let id = value.as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        resolved["users"][id.to_string()] = objects::user(id, &format!("user{id}"));
    }
    v["value"] = value;
    v
}

/// A button press on one of the bot's messages, a component interaction (type 3).
#[derive(Debug, Clone)]
pub struct ButtonPress {
    pub custom_id: String,
    pub message_id: u64,
    pub origin: Origin,
}

impl ButtonPress {
    /// `user_id` presses the button `custom_id` on the bot's message `message_id`.
    pub fn in_guild(
        custom_id: &str,
        message_id: u64,
        guild_id: u64,
        channel_id: u64,
        user_id: u64,
    ) -> ButtonPress {
        ButtonPress {
            custom_id: custom_id.into(),
            message_id,
            origin: Origin::guild(guild_id, channel_id, user_id),
        }
    }
    pub fn member_permissions(mut self, bits: u64) -> Self {
        self.origin.member_permissions = bits;
        self
    }
    /// The member's Discord client language (`locale`), e.g. `zh-CN`.
    pub fn locale(mut self, locale: &str) -> Self {
        self.origin.locale = locale.into();
        self
    }
    pub fn roles(mut self, roles: &[u64]) -> Self {
        self.origin.roles = roles.to_vec();
        self
    }

    /// The payload; `message` is the pressed message as the double stored it, if it did.
    pub fn to_json(&self, id: u64, token: &str, message: Option<Value>) -> Value {
        let mut v = self.origin.base(3, id, token);
        v["data"] = json!({ "custom_id": self.custom_id, "component_type": 2 });
        v["message"] = message.unwrap_or_else(|| {
            objects::message(
                self.message_id,
                self.origin.channel_id,
                objects::user(objects::BOT_ID, objects::BOT_NAME),
                &json!({}),
            )
        });
        v
    }
}

/// A message context-menu command (an application command of type 3) used on a message
/// someone posted: the message, with its files and embeds, is in `resolved.messages`.
#[derive(Debug, Clone)]
pub struct MessageCommand {
    pub name: String,
    pub origin: Origin,
    pub message_id: u64,
    pub author_id: u64,
    pub content: String,
    pub files: Vec<File>,
    pub embeds: Vec<Value>,
}

impl MessageCommand {
    /// `user_id` uses the command `name` on message `message_id` of `author_id`.
    pub fn in_guild(
        name: &str,
        guild_id: u64,
        channel_id: u64,
        user_id: u64,
        message_id: u64,
        author_id: u64,
        content: &str,
    ) -> MessageCommand {
        MessageCommand {
            name: name.into(),
            origin: Origin::guild(guild_id, channel_id, user_id),
            message_id,
            author_id,
            content: content.into(),
            files: Vec::new(),
            embeds: Vec::new(),
        }
    }
    /// A file attached to the message.
    pub fn file(mut self, file: File) -> Self {
        self.files.push(file);
        self
    }
    /// An embed of the message (e.g. a link preview).
    pub fn embed(mut self, embed: Value) -> Self {
        self.embeds.push(embed);
        self
    }
    pub fn locale(mut self, locale: &str) -> Self {
        self.origin.locale = locale.into();
        self
    }
    pub fn roles(mut self, roles: &[u64]) -> Self {
        self.origin.roles = roles.to_vec();
        self
    }

    /// The payload; `next_id` numbers attachments, `file_url` names where a file is served.
    pub fn to_json(
        &self,
        id: u64,
        token: &str,
        next_id: &mut dyn FnMut() -> u64,
        file_url: &mut dyn FnMut(u64, &File) -> String,
    ) -> Value {
        let o = &self.origin;
        let author = objects::user(self.author_id, &format!("member{}", self.author_id));
        let mut message = objects::message(
            self.message_id,
            o.channel_id,
            author,
            &json!({ "content": self.content, "embeds": self.embeds }),
        );
        message["attachments"] = self
            .files
            .iter()
            .map(|f| {
                let aid = next_id();
                let url = file_url(aid, f);
                let mut a = json!({
                    "id": aid.to_string(),
                    "filename": f.filename,
                    "size": f.size,
                    "url": url,
                    "proxy_url": url,
                });
                if let Some(ct) = &f.content_type {
                    a["content_type"] = json!(ct);
                }
                a
            })
            .collect();
        let mut v = o.base(2, id, token);
        let command_id = objects::BOT_ID + 1 + self.name.bytes().map(u64::from).sum::<u64>();
        v["data"] = json!({
            "id": command_id.to_string(),
            "name": self.name,
            "type": 3,
            "target_id": self.message_id.to_string(),
            "resolved": { "messages": { self.message_id.to_string(): message } },
        });
        if let Some(g) = o.guild_id {
            v["data"]["guild_id"] = json!(g.to_string());
        }
        v
    }
}

/// A form (modal) the bot opened, submitted by the member: an interaction of type 5 with
/// each text input's value.
#[derive(Debug, Clone)]
pub struct ModalSubmit {
    pub custom_id: String,
    pub origin: Origin,
    pub fields: Vec<(String, String)>,
}

impl ModalSubmit {
    pub fn in_guild(custom_id: &str, guild_id: u64, channel_id: u64, user_id: u64) -> ModalSubmit {
        ModalSubmit {
            custom_id: custom_id.into(),
            origin: Origin::guild(guild_id, channel_id, user_id),
            fields: Vec::new(),
        }
    }
    /// The text input `custom_id` holds `value`.
    pub fn field(mut self, custom_id: &str, value: &str) -> Self {
        self.fields.push((custom_id.into(), value.into()));
        self
    }
    pub fn locale(mut self, locale: &str) -> Self {
        self.origin.locale = locale.into();
        self
    }

    pub fn to_json(&self, id: u64, token: &str) -> Value {
        let mut v = self.origin.base(5, id, token);
        let rows: Vec<Value> = self
            .fields
            .iter()
            .map(|(custom_id, value)| {
                json!({
                    "type": 1,
                    "components": [{ "type": 4, "custom_id": custom_id, "value": value }],
                })
            })
            .collect();
        v["data"] = json!({ "custom_id": self.custom_id, "components": rows });
        v
    }
}
