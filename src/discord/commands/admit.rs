//! What a fresh `/video` checks about who asks, where, and with which links: shared with
//! "Run again", which must pass the same checks for the channel it is pressed in. (The
//! server's limits, `web_search`, the cooldown and the caps are checked by `Jobs::submit`,
//! for both alike.)

use crate::clock::now_ms;

use serenity::all::Http;

use super::place::{self, Place};
use super::references;
use crate::discord::CommandError;
use crate::discord::invocation::Invocation;
use crate::guild_settings::{ContentFilter, ServerSettings, policy};
use crate::i18n::{Lang, words};
use crate::jobs::Reference;
use crate::tr;

/// The cheap checks, made before anything slow: the server's role and channel rules and
/// links that have expired (or expire within a minute). Each refusal is the member's to read.
pub fn check(
    lang: Lang,
    server: &ServerSettings,
    inv: &Invocation,
    references: &[Reference],
) -> Result<(), CommandError> {
    let place = &inv.place;
    let roles: Vec<u64> = inv.roles.iter().map(|r| r.get()).collect();
    policy::check_roles(server, &roles)
        .and_then(|()| policy::check_channel(server, place.channel, place.parent))
        .map_err(|why| {
            CommandError::User(tr!(
                lang,
                "refusal-not-allowed",
                why = words::settings(lang, &why)
            ))
        })?;
    references::check_fresh(lang, references, now_ms()).map_err(CommandError::User)
}

/// `nsfw_checker` for a job asked for at `place` now: always recomputed from the server's
/// policy and the channel as Discord shows it today, never taken from an older job.
pub async fn content_filter(http: &Http, server: &ServerSettings, place: &Place) -> bool {
    let age_restricted = match server.content_filter {
        ContentFilter::Always => false,
        ContentFilter::OffInAgeRestricted => place::age_restricted(http, place).await,
    };
    server.content_filter.applies(age_restricted)
}
