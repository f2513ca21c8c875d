//! The price before spending: `/video`'s `duration` suggestions (each length with its price
//! at the chosen, or default, resolution and what the pool has left) and the default video
//! of `/credits balance`. Reads only (the settings and the pool's balance): an autocomplete
//! answer is never held up by a write.

use super::video::{ResolutionChoice, server_defaults};
use crate::discord::invocation::Invocation;
use crate::discord::{CommandError, Data};
use crate::guild_settings::ServerSettings;
use crate::i18n::Lang;
use crate::tr;
use crate::video::Resolution;

/// Discord shows at most 25 suggestions.
const MAX_CHOICES: usize = 25;

/// The `duration` suggestions for a `/video` being written: `(label, seconds)` for every
/// length the server allows whose digits start with what the member typed (`partial`), each
/// priced at the resolution and audio setting chosen so far (else the server's defaults).
pub fn duration_choices(
    inv: &Invocation,
    data: &Data,
    partial: &str,
) -> Result<Vec<(String, i64)>, CommandError> {
    let lang = super::lang(inv);
    let guild = super::guild_of(inv)?;
    let server = data
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    let resolution = inv
        .options
        .choice::<ResolutionChoice>("resolution")
        .map_or_else(|| server_defaults(&server, &data.config).0, Into::into);
    let audio = inv.options.boolean("generate_audio").unwrap_or(false);
    let pool = data
        .jobs
        .ledger()
        .balance(guild)
        .map_err(|e| super::ledger_error(lang, e))?
        .available;
    let video = &data.config.video;
    let longest = server
        .max_duration
        .map_or(video.max_duration, |max| max.min(video.max_duration));
    let typed = partial.trim();
    let choices = (video.min_duration..=longest)
        .filter(|s| s.to_string().starts_with(typed))
        .take(MAX_CHOICES)
        .map(|seconds| {
            let label = match data.config.credits.price(resolution, seconds, audio) {
                Some(price) => tr!(
                    lang,
                    "duration-choice",
                    duration = lang.secs(seconds),
                    price = lang.num(price),
                    pool = lang.num(pool)
                ),
                None => tr!(
                    lang,
                    "duration-choice-no-price",
                    duration = lang.secs(seconds),
                    resolution = resolution
                ),
            };
            (label, i64::from(seconds))
        })
        .collect();
    Ok(choices)
}

/// What a default video costs here and how many more the member can make today (the pool
/// and their daily cap both count), as a line of `/credits balance`.
pub fn default_video_line(
    lang: Lang,
    data: &Data,
    server: &ServerSettings,
    pool: u64,
    cap_left: Option<u64>,
) -> String {
    let (resolution, seconds): (Resolution, u32) = server_defaults(server, &data.config);
    let Some(price) = data.config.credits.price(resolution, seconds, false) else {
        return tr!(
            lang,
            "balance-default-no-price",
            resolution = resolution,
            duration = lang.secs(seconds)
        );
    };
    let affordable = pool.min(cap_left.unwrap_or(u64::MAX));
    let count = affordable / price.max(1);
    tr!(
        lang,
        "balance-default",
        resolution = resolution,
        duration = lang.secs(seconds),
        price = lang.num(price),
        count = lang.num(count)
    )
}
