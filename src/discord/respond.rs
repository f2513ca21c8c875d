//! Answering an interaction, whichever transport brought it: the initial response (public,
//! private, or a deferral), editing it, following it up. Edits and follow-ups go through
//! Discord's webhook routes with serenity's `Http` and the interaction's token, which serve
//! gateway and HTTP interactions alike.
//!
//! The initial response goes through [`initial`]: over the gateway it is the callback route;
//! for an interaction POSTed to the bot's endpoint it is the HTTP response's body (see
//! [`InBody`]), which the endpoint is waiting for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serenity::all::{
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    EditInteractionResponse, Http, InteractionId, Message, UserId, builder::Builder,
};
use tokio::sync::oneshot;

use super::card::clip;
use super::invocation::{Invocation, Token};
use super::mentions;
use crate::ids::MemberId;

/// What a command shows: a message, public or seen by the member only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub private: bool,
}

impl Reply {
    /// Seen by the member only.
    pub fn private(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            private: true,
        }
    }
    /// Seen by everyone in the channel.
    pub fn public(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            private: false,
        }
    }
}

/// Answers one interaction. Every message pings at most the member who used it.
pub struct Responder<'a> {
    http: &'a Http,
    id: InteractionId,
    token: &'a Token,
    user: UserId,
}

impl<'a> Responder<'a> {
    pub fn new(http: &'a Http, inv: &'a Invocation) -> Responder<'a> {
        Responder {
            http,
            id: inv.id,
            token: &inv.token,
            user: inv.user,
        }
    }

    /// The `Http` the answers go through, for the steps that answer by themselves (the
    /// deadline race and the job card of [`super::answer`]).
    pub fn http(&self) -> &'a Http {
        self.http
    }

    fn message(&self, reply: &Reply) -> CreateInteractionResponseMessage {
        CreateInteractionResponseMessage::new()
            .content(clip(&reply.text, 2000))
            .ephemeral(reply.private)
            .allowed_mentions(mentions::only_user(MemberId(self.user.get())))
    }

    /// The initial response (type 4).
    pub async fn answer(&self, reply: &Reply) -> Result<(), serenity::Error> {
        let response = CreateInteractionResponse::Message(self.message(reply));
        initial(self.http, self.id, self.token, response).await
    }

    /// The initial response saying the answer follows (type 5): a loading message everyone
    /// sees, or only the member when `private`.
    pub async fn defer(&self, private: bool) -> Result<(), serenity::Error> {
        let response = CreateInteractionResponse::Defer(
            CreateInteractionResponseMessage::new().ephemeral(private),
        );
        initial(self.http, self.id, self.token, response).await
    }

    /// Replaces the text of the initial (or deferred) response.
    pub async fn edit_original(&self, text: &str) -> Result<(), serenity::Error> {
        let edit = EditInteractionResponse::new()
            .content(clip(text, 2000))
            .allowed_mentions(mentions::only_user(MemberId(self.user.get())));
        once_discord_has_it(|| edit.clone().execute(self.http, self.token.expose()))
            .await
            .map(drop)
    }

    /// Deletes the initial (or deferred) response.
    pub async fn delete_original(&self) -> Result<(), serenity::Error> {
        once_discord_has_it(|| {
            self.http
                .delete_original_interaction_response(self.token.expose())
        })
        .await
    }

    /// A message after the initial response.
    pub async fn follow_up(&self, reply: &Reply) -> Result<(), serenity::Error> {
        CreateInteractionResponseFollowup::new()
            .content(clip(&reply.text, 2000))
            .ephemeral(reply.private)
            .allowed_mentions(mentions::only_user(MemberId(self.user.get())))
            .execute(self.http, (None, self.token.expose()))
            .await
            .map(drop)
    }
}

tokio::task_local! {
    /// Set while an interaction POSTed to the endpoint is handled: its initial response goes
    /// into the HTTP response's body.
    static IN_BODY: Arc<InBody>;
}

/// The initial response of an interaction that came as an HTTP POST: handed to the endpoint,
/// which sends it back as the body of its HTTP response.
pub struct InBody {
    state: Mutex<BodyState>,
}

struct BodyState {
    /// Taken by the first initial response, or by the endpoint when it defers by itself.
    waiting: Option<oneshot::Sender<serde_json::Value>>,
    /// The endpoint answered with a private deferral because the logic was slow: the logic's
    /// own initial response then edits the deferred one.
    deferred_by_endpoint: bool,
}

impl InBody {
    /// A new slot, and what the endpoint awaits: the JSON of the initial response.
    pub fn new() -> (Arc<InBody>, oneshot::Receiver<serde_json::Value>) {
        let (tx, rx) = oneshot::channel();
        let body = InBody {
            state: Mutex::new(BodyState {
                waiting: Some(tx),
                deferred_by_endpoint: false,
            }),
        };
        (Arc::new(body), rx)
    }

    /// Runs `work` (the handling of one interaction) with its initial response going into
    /// this body.
    pub async fn scope<F: std::future::Future>(self: Arc<Self>, work: F) -> F::Output {
        IN_BODY.scope(self, work).await
    }

    /// For the endpoint when the logic has not answered within the budget: from now on its
    /// initial response edits the deferral the endpoint sends. `false` when it answered
    /// meanwhile (the answer is then in the receiver).
    pub fn defer_unanswered(&self) -> bool {
        let mut state = self.state.lock().expect("in-body lock");
        if state.waiting.take().is_some() {
            state.deferred_by_endpoint = true;
            true
        } else {
            false
        }
    }

    /// Where the initial response goes now.
    fn take(&self, response: &CreateInteractionResponse) -> Slot {
        let mut state = self.state.lock().expect("in-body lock");
        if let Some(tx) = state.waiting.take() {
            let json = serde_json::to_value(response).unwrap_or_default();
            // The endpoint gave up waiting only if the client went away: nothing to answer.
            let _ = tx.send(json);
            Slot::Sent
        } else if state.deferred_by_endpoint {
            Slot::EditDeferral
        } else {
            Slot::AlreadyAnswered
        }
    }
}

enum Slot {
    Sent,
    EditDeferral,
    AlreadyAnswered,
}

/// Sends the initial response of interaction `id`: into the HTTP response's body when the
/// interaction came to the endpoint, through the callback route otherwise.
pub async fn initial(
    http: &Http,
    id: InteractionId,
    token: &Token,
    response: CreateInteractionResponse,
) -> Result<(), serenity::Error> {
    let Ok(body) = IN_BODY.try_with(Arc::clone) else {
        return response.execute(http, (id, token.expose())).await;
    };
    match body.take(&response) {
        Slot::Sent => Ok(()),
        Slot::EditDeferral => match response {
            // The endpoint's deferral stands for this one.
            CreateInteractionResponse::Defer(_) => Ok(()),
            CreateInteractionResponse::Message(message) => {
                let mut edit = serde_json::to_value(&message).unwrap_or_default();
                if let Some(fields) = edit.as_object_mut() {
                    // The deferral fixed the visibility; an edit takes neither.
                    fields.remove("flags");
                    fields.remove("tts");
                }
                once_discord_has_it(|| {
                    http.edit_original_interaction_response(token.expose(), &edit, Vec::new())
                })
                .await
                .map(drop)
            }
            // Nothing else is sent after a deferral: Discord refuses it as it would over the
            // gateway.
            other => other.execute(http, (id, token.expose())).await,
        },
        // A second initial response: Discord refuses it (40060), as over the gateway.
        Slot::AlreadyAnswered => response.execute(http, (id, token.expose())).await,
    }
}

/// The message of the initial response, e.g. to start a thread from it.
pub async fn original(http: &Http, token: &Token) -> Result<Message, serenity::Error> {
    once_discord_has_it(|| http.get_original_interaction_response(token.expose())).await
}

/// Runs `call`, a request on the initial response (reading, editing or deleting it). An
/// initial response sent in the HTTP body reaches Discord only after the endpoint returned
/// it, so while handling such an interaction a 404 is asked again for a short while (up to
/// 3 s); over the gateway the response was confirmed before, and `call` runs once.
pub async fn once_discord_has_it<T, F, Fut>(mut call: F) -> Result<T, serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, serenity::Error>>,
{
    let in_body = IN_BODY.try_with(|_| ()).is_ok();
    let give_up = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut wait = Duration::from_millis(10);
    loop {
        match call().await {
            Err(e) if in_body && unknown_message(&e) && tokio::time::Instant::now() < give_up => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(200));
            }
            done => return done,
        }
    }
}

fn unknown_message(e: &serenity::Error) -> bool {
    matches!(
        e,
        serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(r))
            if r.status_code.as_u16() == 404
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> CreateInteractionResponse {
        CreateInteractionResponse::Message(CreateInteractionResponseMessage::new().content(text))
    }

    #[test]
    fn the_first_initial_response_goes_into_the_body_and_only_once() {
        let (body, mut rx) = InBody::new();
        assert!(matches!(body.take(&message("card")), Slot::Sent));
        let sent = rx.try_recv().expect("the endpoint gets it");
        assert_eq!(sent["type"], 4);
        assert_eq!(sent["data"]["content"], "card");
        // A second one is not the body's: it goes to Discord, which refuses it.
        assert!(matches!(
            body.take(&message("again")),
            Slot::AlreadyAnswered
        ));
        // Too late for the endpoint to defer by itself.
        assert!(!body.defer_unanswered());
    }

    #[test]
    fn after_the_endpoint_deferred_the_answer_edits_the_deferral() {
        let (body, mut rx) = InBody::new();
        assert!(body.defer_unanswered());
        assert!(matches!(body.take(&message("late")), Slot::EditDeferral));
        assert!(rx.try_recv().is_err(), "nothing more goes into the body");
    }
}
