//! The allowed-mentions policy: a message pings at most the member it answers.
//!
//! Prompts are user text; echoed back they can hold `@everyone`, `<@&role>` or `<@user>`.
//! Discord pings whatever `allowed_mentions` permits, so every message the bot sends carries
//! this policy (poise replies get it from the framework's `reply_callback`).

use std::num::NonZeroU64;

use serenity::all::{CreateAllowedMentions, UserId};

use crate::ids::MemberId;

/// Allows a ping of `user` only: no `@everyone`/`@here`, no roles, no other users, and no
/// reply ping.
pub fn only_user(user: MemberId) -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .everyone(false)
        .all_roles(false)
        .all_users(false)
        // A zero id cannot be a user: it allows nobody rather than panicking.
        .users(NonZeroU64::new(user.0).map(UserId::from))
        .replied_user(false)
}

/// Allows no ping at all, for messages not addressed to anyone.
pub fn nobody() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .everyone(false)
        .all_roles(false)
        .all_users(false)
        .replied_user(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_user_names_one_user_and_parses_nothing() {
        let json = serde_json::to_value(only_user(MemberId(42))).unwrap();
        assert_eq!(json["parse"], serde_json::json!([]));
        assert_eq!(json["users"], serde_json::json!(["42"]));
        assert_eq!(json["roles"], serde_json::json!([]));
        assert_eq!(json["replied_user"], serde_json::json!(false));
    }
}
