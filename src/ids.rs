//! Plain ids the core uses for Discord's snowflakes, so the core never imports serenity.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! snowflake_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

snowflake_id!(
    /// A Discord server.
    GuildId
);
snowflake_id!(
    /// A Discord user (a server member or an operator).
    MemberId
);
snowflake_id!(
    /// A Discord channel or thread.
    ChannelId
);
