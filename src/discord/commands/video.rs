//! `/video`: a prompt, reference files and links, and the video's parameters become a job;
//! the member gets a public job card and a thread, or a private reply saying what to fix.

use std::sync::atomic::Ordering;

use serenity::all::Attachment;

use super::{admit, guild_of, place, references};
use crate::discord::answer::{self, Ack};
use crate::discord::errors::cause_chain;
use crate::discord::invocation::Invocation;
use crate::discord::{CommandError, Context};
use crate::ids::{ChannelId, MemberId};
use crate::jobs::{InteractionRef, JobRequest, Reference};
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
    let deadline = answer::deadline(ctx.id());
    if ctx.guild_id().is_none() {
        ctx.say("`/video` works in servers: videos are paid from a server's shared credit pool, and there is none in a DM. Use it in a server that has the bot.")
            .await?;
        return Ok(());
    }
    let poise::Context::Application(actx) = ctx else {
        return Err(CommandError::user("`/video` is a slash command."));
    };
    let inv = Invocation::from(actx.interaction);
    let guild = guild_of(&inv)?;
    let files = [
        ("image", ReferenceKind::Image, image),
        ("image2", ReferenceKind::Image, image2),
        ("image3", ReferenceKind::Image, image3),
        ("image4", ReferenceKind::Image, image4),
        ("video", ReferenceKind::Video, video),
        ("video2", ReferenceKind::Video, video2),
        ("audio", ReferenceKind::Audio, audio),
    ];
    let mut refs: Vec<Reference> = Vec::new();
    for (option, kind, file) in files {
        if let Some(file) = file {
            refs.push(references::attachment(option, kind, &file).map_err(CommandError::User)?);
        }
    }
    if let Some(text) = references {
        refs.extend(references::parse_links(&text).map_err(CommandError::User)?);
    }
    let data = ctx.data();
    let server = data
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    let place = place::of(actx.interaction);
    admit::check(&server, &place, &refs)?;
    let defaults = &data.config.video;
    let mut request = JobRequest {
        key: actx.interaction.id.to_string(),
        guild,
        member: MemberId(ctx.author().id.get()),
        channel: ChannelId(ctx.channel_id().get()),
        prompt,
        references: refs,
        // A default never exceeds the server's limits; what a member chose is checked.
        resolution: resolution.map_or_else(
            || {
                let d = server
                    .default_resolution
                    .unwrap_or(defaults.default_resolution);
                server.max_resolution.map_or(d, |max| d.min(max))
            },
            Into::into,
        ),
        ratio: ratio.map_or(
            server.default_ratio.unwrap_or(defaults.default_ratio),
            Into::into,
        ),
        duration: duration.map_or_else(
            || {
                let d = server.default_duration.unwrap_or(defaults.default_duration);
                server
                    .max_duration
                    .map_or(d, |max| d.min(max).max(defaults.min_duration))
            },
            |d| u32::try_from(d).unwrap_or(0),
        ),
        generate_audio: generate_audio.unwrap_or(false),
        web_search: web_search.unwrap_or(false),
        // Set in the race below, from the channel as Discord shows it now.
        nsfw_checker: true,
        interaction: Some(InteractionRef {
            application_id: actx.interaction.application_id.get(),
            token: actx.interaction.token.clone(),
        }),
    };
    let http = ctx.serenity_context().http.as_ref();
    let key = request.key.clone();
    // Everything slow (the channel read, the durable admit) races Discord's deadline.
    let (submitted, ack) = answer::race(http, &inv, deadline, false, async {
        request.nsfw_checker = admit::content_filter(http, &server, &place).await;
        data.jobs.submit(request).await
    })
    .await;
    if ack != Ack::None {
        // poise's own replies (the error reply) must now be follow-ups.
        actx.has_sent_initial_response.store(true, Ordering::SeqCst);
    }
    let submitted = match submitted {
        Ok(submitted) => submitted,
        Err(e) => {
            if ack == Ack::DeferredPublic
                && let Err(e) = answer::withdraw(http, &inv).await
            {
                tracing::warn!(cause = %cause_chain(&e), "could not withdraw a deferred response");
            }
            return Err(answer::submit_failed(data, &key, e));
        }
    };
    answer::card(http, data, &inv, &submitted, ack).await;
    // The response was sent by hand: later replies must be follow-ups.
    actx.has_sent_initial_response.store(true, Ordering::SeqCst);
    Ok(())
}
