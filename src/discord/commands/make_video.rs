//! "Make a video": a message context-menu command. It takes the message's image, video and
//! audio files (and the image links of its embeds) as references and opens a form with the
//! prompt, prefilled with the message's text; the submitted form then goes the `/video` way
//! (the same checks, card, thread and refusals).
//!
//! The references wait for the form in the store (tree `discord.forms`, at most
//! [`FORM_LIFE`], the life of the interaction), so a form opened on one process may be
//! submitted to another sharing the store, or after a restart; an expired one is refused,
//! and nothing is charged.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use serenity::all::{
    CreateActionRow, CreateInputText, CreateInteractionResponse, CreateModal, Http, InputTextStyle,
    Message, UserId, builder::Builder,
};

use super::{admit, gateway, guild_of, references};
use crate::discord::errors::cause_chain;
use crate::discord::invocation::{Invocation, Invoked};
use crate::discord::respond::{Reply, Responder};
use crate::discord::{CommandError, Context, Data};
use crate::ids::MemberId;
use crate::jobs::Reference;
use crate::tr;

/// The custom id of every form this command opens: the prefix and the form's number.
const FORM_PREFIX: &str = "seedance:form:";
/// How long an open form is kept: an interaction's token lives 15 minutes.
pub const FORM_LIFE: Duration = Duration::from_secs(15 * 60);
/// The most a form's text input holds (Discord's limit).
const PROMPT_MAX: usize = 4000;
/// A form's title and an input's label are at most 45 characters.
const LABEL_MAX: usize = 45;

/// The store's tree of open forms: form number (BE) -> [`Form`] as JSON.
const FORMS: &str = "discord.forms";

/// A form waiting to be submitted: who opened it, and the message's files.
#[derive(Serialize, Deserialize)]
struct Form {
    member: u64,
    references: Vec<Reference>,
    /// Unix millis.
    opened_at: i64,
}

impl Form {
    fn open(&self, now: i64) -> bool {
        now - self.opened_at < FORM_LIFE.as_millis() as i64
    }
}

/// Make a video from this message's pictures, clips or audio
#[poise::command(context_menu_command = "Make a video")]
pub async fn make_video(ctx: Context<'_>, message: Message) -> Result<(), CommandError> {
    let _ = message;
    let inv = gateway::invocation(ctx)?;
    let form = open(&inv, ctx.data())?;
    let http = ctx.serenity_context().http.as_ref();
    CreateInteractionResponse::Modal(form)
        .execute(http, (inv.id, inv.token.expose()))
        .await?;
    if let poise::Context::Application(actx) = ctx {
        actx.has_sent_initial_response
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    Ok(())
}

/// The form for "Make a video" on the invocation's message, after the checks that need no
/// prompt: a server, files the provider takes, and the server's role and channel rules. Its
/// refusal is the member's to read, privately; nothing is charged.
pub fn open(inv: &Invocation, data: &Data) -> Result<CreateModal, CommandError> {
    let lang = super::lang(inv);
    if inv.guild.is_none() {
        return Err(CommandError::User(tr!(lang, "video-dm")));
    }
    let guild = guild_of(inv)?;
    let message = super::required(inv, inv.target_message.as_deref(), "message")?;
    let mut refs = Vec::new();
    for file in &message.attachments {
        refs.push(references::message_file(lang, file).map_err(CommandError::User)?);
    }
    refs.extend(references::embed_images(&message.embeds));
    if refs.is_empty() {
        return Err(CommandError::User(tr!(lang, "form-no-files")));
    }
    let server = data
        .jobs
        .guild_settings()
        .get(guild)
        .map_err(|e| CommandError::Internal(Box::new(e)))?;
    admit::check(lang, &server, inv, &refs)?;
    keep(data, inv.id.get(), inv.user, refs)?;
    let prompt: String = message.content.trim().chars().take(PROMPT_MAX).collect();
    let mut input = CreateInputText::new(
        InputTextStyle::Paragraph,
        clip_label(tr!(lang, "form-prompt")),
        "prompt",
    )
    .placeholder(tr!(lang, "form-placeholder"))
    .min_length(1)
    .max_length(PROMPT_MAX as u16)
    .required(true);
    if !prompt.is_empty() {
        input = input.value(prompt);
    }
    Ok(CreateModal::new(
        format!("{FORM_PREFIX}{}", inv.id),
        clip_label(tr!(lang, "form-title")),
    )
    .components(vec![CreateActionRow::InputText(input)]))
}

fn clip_label(text: String) -> String {
    text.chars().take(LABEL_MAX).collect()
}

/// Keeps an opened form's references in the store, dropping the forms that can no longer
/// be submitted.
fn keep(
    data: &Data,
    id: u64,
    member: UserId,
    references: Vec<Reference>,
) -> Result<(), CommandError> {
    let internal = |e: crate::store::StorageError| CommandError::Internal(Box::new(e));
    let forms = data.jobs.ledger().store().tree(FORMS).map_err(internal)?;
    let now = crate::clock::now_ms();
    for pair in forms.iter() {
        let (key, value) = pair.map_err(internal)?;
        let expired = serde_json::from_slice::<Form>(&value).map_or(true, |f| !f.open(now));
        if expired {
            forms.remove(&key).map_err(internal)?;
        }
    }
    let form = Form {
        member: member.get(),
        references,
        opened_at: now,
    };
    let value = serde_json::to_vec(&form).expect("a form serializes");
    forms.insert(id.to_be_bytes(), &value).map_err(internal)
}

/// The references of form `id` opened by `member`, while it can be submitted.
fn references_of(data: &Data, id: u64, member: UserId) -> Option<Vec<Reference>> {
    let forms = data.jobs.ledger().store().tree(FORMS).ok()?;
    let value = forms.get(id.to_be_bytes()).ok()??;
    let form: Form = serde_json::from_slice(&value).ok()?;
    (form.member == member.get() && form.open(crate::clock::now_ms())).then_some(form.references)
}

/// Whether `inv` is a submitted "Make a video" form.
pub fn is_form(inv: &Invocation) -> bool {
    matches!(&inv.invoked, Invoked::Modal(id) if id.starts_with(FORM_PREFIX))
}

/// A submitted form, whichever transport brought it: the `/video` way with the message's
/// files and the prompt as the member left it. A refusal is answered privately.
pub async fn submitted(http: &Http, data: &Data, inv: &Invocation) {
    let Invoked::Modal(custom_id) = &inv.invoked else {
        return;
    };
    let Some(form) = custom_id
        .strip_prefix(FORM_PREFIX)
        .and_then(|id| id.parse::<u64>().ok())
    else {
        return;
    };
    let lang = super::lang(inv);
    let responder = Responder::new(http, inv);
    let rate = super::rate_limit(
        data,
        MemberId(inv.user.get()),
        inv.id.get(),
        "make-video",
        lang,
    );
    let (result, answered) = match (rate, references_of(data, form, inv.user)) {
        (Err(refused), _) => (Err(refused), false),
        (Ok(()), None) => (Err(CommandError::User(tr!(lang, "form-expired"))), false),
        (Ok(()), Some(refs)) => super::video::make_with(inv, data, &responder, refs).await,
    };
    let Err(e) = result else {
        crate::discord::observe::interaction("Make a video", "ok", inv.id.get());
        return;
    };
    if let CommandError::User(why) = &e {
        tracing::info!(command = "Make a video", reason = %why, "command refused");
        crate::discord::observe::interaction("Make a video", "refused", inv.id.get());
    } else {
        tracing::error!(command = "Make a video", cause = %cause_chain(&e), "command failed");
        crate::discord::observe::interaction("Make a video", "error", inv.id.get());
    }
    let reply = Reply::private(e.reply_text(lang));
    let sent = if answered {
        responder.follow_up(&reply).await
    } else {
        responder.answer(&reply).await
    };
    if let Err(e) = sent {
        tracing::warn!(cause = %cause_chain(&e), "could not answer a submitted form");
    }
}
