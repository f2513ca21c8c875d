//! `/video`: a prompt, reference files and links, and the video's parameters become a job;
//! the member gets a public job card and a thread, or a private reply saying what to fix.

use std::sync::atomic::Ordering;

use serenity::all::Attachment;

use super::{admit, gateway, guild_of, references, required};
use crate::config::Config;
use crate::discord::answer::{self, Ack};
use crate::discord::errors::cause_chain;
use crate::discord::invocation::Invocation;
use crate::discord::respond::{Reply, Responder};
use crate::discord::{CommandError, Context, Data};
use crate::guild_settings::ServerSettings;
use crate::ids::{ChannelId, MemberId};
use crate::jobs::{InteractionRef, JobRequest, Reference};
use crate::tr;
use crate::video::{Ratio, ReferenceKind, Resolution};

/// The output's aspect ratio, as offered to members.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum RatioChoice {
    #[name = "16:9"]
    Landscape,
    #[name = "9:16"]
    Portrait,
    #[name = "1:1"]
    Square,
    #[name = "3:4"]
    Classic,
}

impl From<RatioChoice> for Ratio {
    fn from(c: RatioChoice) -> Ratio {
        match c {
            RatioChoice::Landscape => Ratio::Landscape,
            RatioChoice::Portrait => Ratio::Portrait,
            RatioChoice::Square => Ratio::Square,
            RatioChoice::Classic => Ratio::Classic,
        }
    }
}

/// The output's resolution, as offered to members.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum ResolutionChoice {
    #[name = "480p"]
    P480,
    #[name = "720p"]
    P720,
    #[name = "1080p"]
    P1080,
}

impl From<ResolutionChoice> for Resolution {
    fn from(c: ResolutionChoice) -> Resolution {
        match c {
            ResolutionChoice::P480 => Resolution::P480,
            ResolutionChoice::P720 => Resolution::P720,
            ResolutionChoice::P1080 => Resolution::P1080,
        }
    }
}

/// Make a video from a prompt and references, paid from the server's credits
#[allow(clippy::too_many_arguments)]
#[poise::command(slash_command)]
pub async fn video(
    ctx: Context<'_>,
    #[description = "What the video should show"]
    #[max_length = 6000]
    prompt: String,
    #[description = "A reference image"] image: Option<Attachment>,
    #[description = "A second reference image"] image2: Option<Attachment>,
    #[description = "A third reference image"] image3: Option<Attachment>,
    #[description = "A fourth reference image"] image4: Option<Attachment>,
    #[description = "A reference video (how it should move)"] video: Option<Attachment>,
    #[description = "A second reference video"] video2: Option<Attachment>,
    #[description = "Reference audio (needs an image or video too)"] audio: Option<Attachment>,
    #[description = "More https links, space separated; prefix image:, video: or audio: when unclear"]
    references: Option<String>,
    #[description = "Aspect ratio"] ratio: Option<RatioChoice>,
    #[description = "Resolution (sets the price)"] resolution: Option<ResolutionChoice>,
    #[description = "Length in seconds"] duration: Option<i64>,
    #[description = "Generate a soundtrack"] generate_audio: Option<bool>,
    #[description = "Let the model search the web for context"] web_search: Option<bool>,
) -> Result<(), CommandError> {
    let _ = (prompt, image, image2, image3, image4, video, video2, audio);
    let _ = (
        references,
        ratio,
        resolution,
        duration,
        generate_audio,
        web_search,
    );
    let inv = gateway::invocation(ctx)?;
    let http = ctx.serenity_context().http.as_ref();
    let (result, answered) = make(&inv, ctx.data(), &Responder::new(http, &inv)).await;
    if answered && let poise::Context::Application(actx) = ctx {
        // The response was sent by hand: poise's own replies (the error reply) must now be
        // follow-ups.
        actx.has_sent_initial_response.store(true, Ordering::SeqCst);
    }
    result
}

/// `/video`: admits the job (raced against Discord's 3 s, deferring when late) and shows
/// its card and thread. Returns the refusal left for the member, if any, and whether the
/// interaction was answered (or deferred) already, so the refusal must be a follow-up.
pub async fn make(
    inv: &Invocation,
    data: &Data,
    responder: &Responder<'_>,
) -> (Result<(), CommandError>, bool) {
    make_with(inv, data, responder, Vec::new()).await
}

/// [`make`], with `given` references besides the invocation's own (the files of the message
/// "Make a video" was used on): the same checks, card, thread and refusals.
pub async fn make_with(
    inv: &Invocation,
    data: &Data,
    responder: &Responder<'_>,
    given: Vec<Reference>,
) -> (Result<(), CommandError>, bool) {
    let deadline = answer::admission_deadline(data, answer::deadline(inv.id.get()));
    // Counted until its job is admitted (or refused), not while its card is shown.
    let admitting = data.jobs.admission();
    let lang = super::lang(inv);
    if inv.guild.is_none() {
        let text = tr!(lang, "video-dm");
        return match responder.answer(&Reply::public(text)).await {
            Ok(()) => (Ok(()), true),
            Err(e) => (Err(e.into()), false),
        };
    }
    let (request, server) = match request(inv, data, given) {
        Ok(made) => made,
        Err(e) => return (Err(e), false),
    };
    let http = responder.http();
    let mut request = request;
    let key = request.key.clone();
    let place = inv.place;
    // Everything slow (the channel read, the durable admit) races Discord's deadline.
    let (submitted, ack) = answer::race(http, inv, deadline, false, async {
        remember_guild_locale(inv, data, &server).await;
        request.nsfw_checker = admit::content_filter(http, &server, &place).await;
        let submitted = data.jobs.submit(request).await;
        drop(admitting);
        submitted
    })
    .await;
    let submitted = match submitted {
        Ok(submitted) => submitted,
        Err(e) => {
            if ack == Ack::DeferredPublic
                && let Err(e) = answer::withdraw(http, inv).await
            {
                tracing::warn!(cause = %cause_chain(&e), "could not withdraw a deferred response");
            }
            return (
                Err(answer::submit_failed(lang, data, &key, e)),
                ack != Ack::None,
            );
        }
    };
    answer::card(http, data, inv, &submitted, ack).await;
    (Ok(()), true)
}

/// Keeps the server's Discord locale as the interaction shows it, for the job's later
/// messages (written only when it changed).
pub async fn remember_guild_locale(inv: &Invocation, data: &Data, server: &ServerSettings) {
    let (Some(guild), Some(seen)) = (inv.guild, inv.guild_locale.as_ref()) else {
        return;
    };
    if server.guild_locale.as_ref() == Some(seen) {
        return;
    }
    let seen = seen.clone();
    let guild = crate::ids::GuildId(guild.get());
    if let Err(e) = data
        .jobs
        .guild_settings()
        .update(guild, move |s| s.guild_locale = Some(seen.clone()))
        .await
    {
        tracing::warn!(guild = guild.0, error = %e, "could not store the server's locale");
    }
}

/// The job a `/video` invocation asks for, after the cheap checks, with the server's
/// settings it was checked against.
fn request(
    inv: &Invocation,
    data: &Data,
    given: Vec<Reference>,
) -> Result<(JobRequest, ServerSettings), CommandError> {
    let guild = guild_of(inv)?;
    let lang = super::lang(inv);
    let files = [
        ("image", ReferenceKind::Image),
        ("image2", ReferenceKind::Image),
        ("image3", ReferenceKind::Image),
        ("image4", ReferenceKind::Image),
        ("video", ReferenceKind::Video),
        ("video2", ReferenceKind::Video),
        ("audio", ReferenceKind::Audio),
    ];
    let mut refs: Vec<Reference> = given;
    for (option, kind) in files {
        if let Some(file) = inv.options.attachment(option) {
            refs.push(
                references::attachment(lang, option, kind, file).map_err(CommandError::User)?,
            );
        }
    }
    if let Some(text) = inv.options.string("references") {
        refs.extend(references::parse_links(lang, text).map_err(CommandError::User)?);
    }
    let server = data
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    admit::check(lang, &server, inv, &refs)?;
    let options = &inv.options;
    let resolution = options.choice::<ResolutionChoice>("resolution");
    let ratio = options.choice::<RatioChoice>("ratio");
    let duration = options.integer("duration");
    let (default_resolution, default_duration) = server_defaults(&server, &data.config);
    let request = JobRequest {
        key: inv.id.to_string(),
        guild,
        member: MemberId(inv.user.get()),
        channel: ChannelId(inv.channel.get()),
        prompt: required(inv, options.string("prompt"), "prompt")?.to_owned(),
        references: refs,
        // A default never exceeds the server's limits; what a member chose is checked.
        resolution: resolution.map_or(default_resolution, Into::into),
        ratio: ratio.map_or(
            server
                .default_ratio
                .unwrap_or(data.config.video.default_ratio),
            Into::into,
        ),
        duration: duration.map_or(default_duration, |d| u32::try_from(d).unwrap_or(0)),
        generate_audio: options.boolean("generate_audio").unwrap_or(false),
        web_search: options.boolean("web_search").unwrap_or(false),
        // Set in the race, from the channel as Discord shows it now.
        nsfw_checker: true,
        roles: inv.roles.iter().map(|r| r.get()).collect(),
        interaction: Some(InteractionRef {
            application_id: inv.application_id.get(),
            token: inv.token.expose().to_owned(),
        }),
    };
    Ok((request, server))
}

/// The resolution and duration `/video` uses when a member leaves them out: the server's
/// defaults (else the configuration's), brought within the server's limits.
pub fn server_defaults(server: &ServerSettings, config: &Config) -> (Resolution, u32) {
    let video = &config.video;
    let resolution = server
        .default_resolution
        .unwrap_or(video.default_resolution);
    let resolution = server
        .max_resolution
        .map_or(resolution, |max| resolution.min(max));
    let duration = server.default_duration.unwrap_or(video.default_duration);
    let duration = server
        .max_duration
        .map_or(duration, |max| duration.min(max).max(video.min_duration));
    (resolution, duration)
}
