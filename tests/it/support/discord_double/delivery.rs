//! The double's message routes as delivery depends on them: Create Message honours
//! `enforce_nonce` as Discord does, a thread's starter message shows its thread, and an
//! interaction answered before a crash can be seeded, and answers can be held back after the
//! request took effect.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Answer, DiscordDouble, Inner, InteractionState, Request, objects, ok, path_matches};
use super::{BOT_ID, BOT_NAME};

/// Discord's limit on a nonce's length.
const NONCE_MAX: usize = 25;

/// `POST /channels/{channel}/messages`. With `enforce_nonce: true`, a nonce the bot already
/// used in this channel returns the first message and creates nothing (Discord: "the
/// message will be deduplicated" for the same author within a few minutes; the double keeps
/// them for the whole test).
pub(super) fn create_message(s: &mut Inner, channel: u64, body: &Value) -> Answer {
    let nonce = match &body["nonce"] {
        Value::String(n) => Some(n.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(n) = &nonce
        && n.chars().count() > NONCE_MAX
    {
        s.violation(
            "POST",
            &format!("/channels/{channel}/messages"),
            format!("nonce {n:?} is longer than {NONCE_MAX} characters"),
        );
    }
    let enforced = body["enforce_nonce"].as_bool() == Some(true);
    let key = nonce.clone().map(|n| (channel, n));
    if enforced
        && let Some(first) = key.as_ref().and_then(|k| s.nonces.get(k))
        && let Some(m) = s.messages.get(first)
    {
        return ok(m.clone());
    }
    let id = s.next_id();
    let mut m = objects::message(id, channel, objects::user(BOT_ID, BOT_NAME), body);
    if let Some(n) = nonce {
        m["nonce"] = json!(n);
    }
    s.messages.insert(id, m.clone());
    if let (true, Some(key)) = (enforced, key) {
        s.nonces.insert(key, id);
    }
    ok(m)
}

/// A message a thread was started from carries that thread, as on Discord.
pub(super) fn mark_thread_start(s: &mut Inner, message: u64, thread: &Value) {
    if let Some(m) = s.messages.get_mut(&message) {
        m["thread"] = thread.clone();
    }
}

/// An interaction the bot answered with a message before it stopped.
pub struct Answered {
    pub token: String,
    /// The original response's message id: the job card.
    pub message_id: u64,
}

impl DiscordDouble {
    /// An interaction in `channel` (of `guild`) already answered with `body` (a message),
    /// as a bot that crashed right after answering left it. Its original response can be
    /// fetched with the token.
    pub fn seed_answered_interaction(&self, guild: u64, channel: u64, body: &Value) -> Answered {
        self.shared.with(|s| {
            let id = s.next_id();
            let token = format!("interaction-token-{id}");
            let message_id = s.next_id();
            let m = objects::message(message_id, channel, objects::user(BOT_ID, BOT_NAME), body);
            s.messages.insert(message_id, m);
            s.channel_guilds.insert(channel, guild);
            s.interactions.insert(
                token.clone(),
                InteractionState {
                    injected_at: Instant::now(),
                    answered_after: None,
                    channel_id: channel,
                    acknowledged: true,
                    original: Some(message_id),
                    loading: false,
                    followups: Vec::new(),
                },
            );
            Answered { token, message_id }
        })
    }
}

impl DiscordDouble {
    /// Every message created with `nonce`, in any channel.
    pub fn messages_with_nonce(&self, nonce: &str) -> Vec<Value> {
        self.shared.with(|s| {
            s.messages
                .values()
                .filter(|m| m["nonce"] == json!(nonce))
                .cloned()
                .collect()
        })
    }
}

/// How long the answer to `r` is held back (see [`DiscordDouble::hold_answers`]).
pub(super) fn held(s: &Inner, r: &Request) -> Option<Duration> {
    s.holds
        .iter()
        .find(|(m, route, _)| *m == r.method && path_matches(route, &r.path))
        .map(|(_, _, d)| *d)
}

impl DiscordDouble {
    /// From now on every request matching `route` (`"METHOD /path"`, `*` for a segment)
    /// takes effect at once but is answered `delay` later: the window in which a bot that
    /// dies has done something without knowing it.
    pub fn hold_answers(&self, route: &str, delay: Duration) {
        let (method, path) = route.split_once(' ').expect("route is \"METHOD /path\"");
        self.shared
            .with(|s| s.holds.push((method.into(), path.into(), delay)));
    }

    /// Answers come at once again.
    pub fn release_answers(&self) {
        self.shared.with(|s| s.holds.clear());
    }
}
