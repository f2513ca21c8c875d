//! An interaction's answers after the first, as Discord treats them: a deferred response
//! (type 5) stays "loading" until the bot edits it or sends a follow-up, and that first
//! follow-up *becomes* the deferred message, keeping the defer's visibility whatever flags it
//! asks for (discord-api-docs #2742, #2866). Also what a test reads of the answers.

use serde_json::Value;

use super::{Answer, DiscordDouble, Injected, Inner, err, objects, ok};
use super::{BOT_ID, BOT_NAME};

/// An edit or deletion of the original response ends its loading state.
pub(super) fn resolve_loading(s: &mut Inner, token: &str, message: u64, method: &str) {
    if method == "GET" {
        return;
    }
    if let Some(i) = s.interactions.get_mut(token)
        && i.original == Some(message)
    {
        i.loading = false;
    }
}

/// `POST /webhooks/{app}/{token}`: a follow-up, or the resolution of a loading response.
pub(super) fn followup(s: &mut Inner, token: &str, body: &Value) -> Answer {
    let Some(i) = s.interactions.get(token) else {
        return err(404, 10015, "Unknown Webhook");
    };
    let channel = i.channel_id;
    let loading = i
        .original
        .filter(|id| i.loading && s.messages.contains_key(id));
    if let Some(id) = loading {
        let m = s.messages.get_mut(&id).expect("checked");
        let flags = m["flags"].clone();
        objects::apply_edit(m, body);
        m["flags"] = flags;
        let m = m.clone();
        s.interactions.get_mut(token).expect("checked").loading = false;
        return ok(m);
    }
    let id = s.next_id();
    let m = objects::message(id, channel, objects::user(BOT_ID, BOT_NAME), body);
    s.messages.insert(id, m.clone());
    s.interactions
        .get_mut(token)
        .expect("checked")
        .followups
        .push(id);
    ok(m)
}

impl DiscordDouble {
    /// The messages answering `injected` that still exist: its original response, then its
    /// follow-ups, as Discord shows them (`flags` 64: only the member sees it).
    pub fn answers(&self, injected: &Injected) -> Vec<Value> {
        self.shared.with(|s| {
            let Some(i) = s.interactions.get(&injected.token) else {
                return Vec::new();
            };
            i.original
                .iter()
                .chain(&i.followups)
                .filter_map(|id| s.messages.get(id).cloned())
                .collect()
        })
    }

    /// Delivers the same interaction again (a gateway replay after a resume, or Discord
    /// retrying a POST): same id, same token, already answered or not.
    pub fn redeliver(&self, injected: &Injected) {
        self.shared.with(|s| {
            super::interactions::deliver(
                &self.shared,
                s,
                &injected.token,
                injected.payload.clone(),
            );
        });
    }
}
