//! One change of a server's settings: only by a member who may manage the server, stored,
//! logged, and answered privately with every setting as it now stands.

use super::show::{describe, private};
use crate::discord::commands::{guild_of, lang};
use crate::discord::invocation::Invocation;
use crate::discord::respond::Reply;
use crate::discord::{CommandError, Data};
use crate::guild_settings::ServerSettings;
use crate::ids::GuildId;
use crate::tr;

/// The server, when the member may manage it.
pub(super) fn managed_guild(inv: &Invocation) -> Result<GuildId, CommandError> {
    let guild = guild_of(inv)?;
    if !inv.can_manage() {
        return Err(CommandError::User(tr!(lang(inv), "admin-not-manager")));
    }
    Ok(guild)
}

pub(super) async fn change(
    inv: &Invocation,
    data: &Data,
    what: impl Fn(&mut ServerSettings) + Send + Sync + 'static,
    done: String,
) -> Result<Reply, CommandError> {
    let guild = managed_guild(inv)?;
    let settings = data
        .jobs
        .guild_settings()
        .update(guild, what)
        .await
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    tracing::info!(
        guild = guild.0,
        member = inv.user.get(),
        change = %done,
        "server settings changed by an admin"
    );
    Ok(private(format!(
        "{done}\n\n{}",
        describe(
            lang(inv),
            &settings,
            inv.guild_locale.as_deref(),
            &data.config
        )
    )))
}
