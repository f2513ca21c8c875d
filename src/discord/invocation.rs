//! The parsed invocation: who used which command (or pressed which button), where, with
//! what rights, locale and options. Built from serenity's interaction types, which both a
//! gateway dispatch and an HTTP interactions POST deserialize into, so the commands never
//! see their transport.

use std::collections::HashMap;

use serenity::all::{
    ActionRowComponent, ApplicationId, Attachment, ChannelId, CommandDataOption,
    CommandDataOptionValue, CommandInteraction, ComponentInteraction, GenericId, GuildId,
    InteractionId, Member, Message, ModalInteraction, Permissions, ResolvedTarget, RoleId, UserId,
};

use super::commands::place::{self, Place};

/// An interaction's token: it lets whoever holds it answer as the bot for 15 minutes, so it
/// is never formatted (its `Debug` is redacted and it has no `Display`).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }
    /// The token itself, for the interaction routes and the job's stored reference only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// What was invoked: a slash command (its name and subcommands, e.g. `["credits",
/// "grant"]`; a context-menu command by its name), a button (its custom id) or a submitted
/// form (a modal, by its custom id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invoked {
    Command(Vec<String>),
    Button(String),
    Modal(String),
}

/// One option value, with attachments resolved to their files.
#[derive(Debug, Clone)]
pub enum OptionValue {
    Boolean(bool),
    Integer(i64),
    Number(f64),
    String(String),
    User(UserId),
    Channel(ChannelId),
    Role(RoleId),
    Mentionable(GenericId),
    Attachment(Box<Attachment>),
    /// A value Discord sent that this bot does not read (autocomplete, an unknown type, an
    /// attachment missing from `resolved`).
    Unreadable,
}

/// The options of the invoked (sub)command, by name.
#[derive(Debug, Clone, Default)]
pub struct Options(HashMap<String, OptionValue>);

impl Options {
    pub fn get(&self, name: &str) -> Option<&OptionValue> {
        self.0.get(name)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(OptionValue::String(s)) => Some(s),
            _ => None,
        }
    }
    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(OptionValue::Integer(i)) => Some(*i),
            _ => None,
        }
    }
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(OptionValue::Boolean(b)) => Some(*b),
            _ => None,
        }
    }
    pub fn user(&self, name: &str) -> Option<UserId> {
        match self.get(name) {
            Some(OptionValue::User(u)) => Some(*u),
            _ => None,
        }
    }
    pub fn channel(&self, name: &str) -> Option<ChannelId> {
        match self.get(name) {
            Some(OptionValue::Channel(c)) => Some(*c),
            _ => None,
        }
    }
    pub fn attachment(&self, name: &str) -> Option<&Attachment> {
        match self.get(name) {
            Some(OptionValue::Attachment(a)) => Some(a),
            _ => None,
        }
    }
    /// A choice option (poise registers choices as integers, the index of the choice).
    pub fn choice<T: poise::ChoiceParameter>(&self, name: &str) -> Option<T> {
        self.integer(name)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(T::from_index)
    }
}

/// A command or button press, parsed: everything a command's logic reads about it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub id: InteractionId,
    pub application_id: ApplicationId,
    pub token: Token,
    pub invoked: Invoked,
    pub options: Options,
    pub user: UserId,
    /// `None`: a DM with the bot.
    pub guild: Option<GuildId>,
    pub channel: ChannelId,
    /// The channel, and its parent when it is a thread.
    pub place: Place,
    /// The interaction came from inside a thread.
    pub in_thread: bool,
    /// The member's permissions in the channel, as Discord computed them (`None` in a DM).
    pub member_permissions: Option<Permissions>,
    pub roles: Vec<RoleId>,
    /// What the bot may do in the channel.
    pub app_permissions: Option<Permissions>,
    /// The most the bot may upload there.
    pub attachment_size_limit: u64,
    pub locale: String,
    pub guild_locale: Option<String>,
    /// The message a message context-menu command was used on.
    pub target_message: Option<Box<Message>>,
}

impl Invocation {
    /// Whether the member may manage the server (Manage Server or Administrator), as Discord
    /// says in the interaction.
    pub fn can_manage(&self) -> bool {
        self.member_permissions
            .is_some_and(|p| p.intersects(Permissions::MANAGE_GUILD | Permissions::ADMINISTRATOR))
    }
}

impl From<&CommandInteraction> for Invocation {
    fn from(i: &CommandInteraction) -> Invocation {
        let mut path = vec![i.data.name.clone()];
        let mut options = HashMap::new();
        read_options(
            &i.data.options,
            &i.data.resolved.attachments,
            &mut path,
            &mut options,
        );
        let place = place::of(i);
        Invocation {
            id: i.id,
            application_id: i.application_id,
            token: Token::new(i.token.clone()),
            invoked: Invoked::Command(path),
            options: Options(options),
            user: i.user.id,
            guild: i.guild_id,
            channel: i.channel_id,
            in_thread: in_thread(i.channel.as_ref()),
            place,
            member_permissions: i.member.as_ref().and_then(|m| m.permissions),
            roles: roles(i.member.as_deref()),
            app_permissions: i.app_permissions,
            attachment_size_limit: u64::from(i.attachment_size_limit),
            locale: i.locale.clone(),
            guild_locale: i.guild_locale.clone(),
            target_message: match i.data.target() {
                Some(ResolvedTarget::Message(m)) => Some(Box::new(m.clone())),
                _ => None,
            },
        }
    }
}

impl From<&ComponentInteraction> for Invocation {
    fn from(i: &ComponentInteraction) -> Invocation {
        let place = place::of_press(i);
        Invocation {
            id: i.id,
            application_id: i.application_id,
            token: Token::new(i.token.clone()),
            invoked: Invoked::Button(i.data.custom_id.clone()),
            options: Options::default(),
            user: i.user.id,
            guild: i.guild_id,
            channel: i.channel_id,
            in_thread: in_thread(i.channel.as_ref()),
            place,
            member_permissions: i.member.as_ref().and_then(|m| m.permissions),
            roles: roles(i.member.as_ref()),
            app_permissions: i.app_permissions,
            attachment_size_limit: u64::from(i.attachment_size_limit),
            locale: i.locale.clone(),
            guild_locale: i.guild_locale.clone(),
            target_message: None,
        }
    }
}

impl From<&ModalInteraction> for Invocation {
    /// A submitted form: each text input is a string option named by its custom id.
    fn from(i: &ModalInteraction) -> Invocation {
        let mut options = HashMap::new();
        for row in &i.data.components {
            for component in &row.components {
                if let ActionRowComponent::InputText(input) = component {
                    let value = input.value.clone().unwrap_or_default();
                    options.insert(input.custom_id.clone(), OptionValue::String(value));
                }
            }
        }
        Invocation {
            id: i.id,
            application_id: i.application_id,
            token: Token::new(i.token.clone()),
            invoked: Invoked::Modal(i.data.custom_id.clone()),
            options: Options(options),
            user: i.user.id,
            guild: i.guild_id,
            channel: i.channel_id,
            in_thread: in_thread(i.channel.as_ref()),
            place: place::of_modal(i),
            member_permissions: i.member.as_ref().and_then(|m| m.permissions),
            roles: roles(i.member.as_ref()),
            app_permissions: i.app_permissions,
            attachment_size_limit: u64::from(i.attachment_size_limit),
            locale: i.locale.clone(),
            guild_locale: i.guild_locale.clone(),
            target_message: None,
        }
    }
}

fn in_thread(channel: Option<&serenity::all::PartialChannel>) -> bool {
    channel.is_some_and(|c| place::is_thread(c.kind))
}

fn roles(member: Option<&Member>) -> Vec<RoleId> {
    member.map(|m| m.roles.clone()).unwrap_or_default()
}

/// Walks into the subcommand (group) that was used, naming it in `path`, and keeps its
/// options.
fn read_options(
    given: &[CommandDataOption],
    attachments: &HashMap<serenity::all::AttachmentId, Attachment>,
    path: &mut Vec<String>,
    out: &mut HashMap<String, OptionValue>,
) {
    use CommandDataOptionValue as V;
    for option in given {
        let value = match &option.value {
            V::SubCommand(inner) | V::SubCommandGroup(inner) => {
                path.push(option.name.clone());
                read_options(inner, attachments, path, out);
                continue;
            }
            V::Boolean(b) => OptionValue::Boolean(*b),
            V::Integer(i) => OptionValue::Integer(*i),
            V::Number(n) => OptionValue::Number(*n),
            V::String(s) => OptionValue::String(s.clone()),
            V::User(u) => OptionValue::User(*u),
            V::Channel(c) => OptionValue::Channel(*c),
            V::Role(r) => OptionValue::Role(*r),
            V::Mentionable(m) => OptionValue::Mentionable(*m),
            V::Attachment(id) => attachments.get(id).map_or(OptionValue::Unreadable, |a| {
                OptionValue::Attachment(Box::new(a.clone()))
            }),
            _ => OptionValue::Unreadable,
        };
        out.insert(option.name.clone(), value);
    }
}

#[cfg(test)]
#[path = "invocation_tests.rs"]
mod tests;
