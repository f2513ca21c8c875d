//! Answering an interaction, whichever transport brought it: the initial response (public,
//! private, or a deferral), editing it, following it up. Everything goes through Discord's
//! interaction routes with serenity's `Http` and the interaction's token, which serve
//! gateway and HTTP interactions alike.

use serenity::all::{
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    EditInteractionResponse, Http, InteractionId, UserId, builder::Builder,
};

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
        CreateInteractionResponse::Message(self.message(reply))
            .execute(self.http, (self.id, self.token.expose()))
            .await
    }

    /// The initial response saying the answer follows (type 5): a loading message everyone
    /// sees, or only the member when `private`.
    pub async fn defer(&self, private: bool) -> Result<(), serenity::Error> {
        CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(private))
            .execute(self.http, (self.id, self.token.expose()))
            .await
    }

    /// Replaces the text of the initial (or deferred) response.
    pub async fn edit_original(&self, text: &str) -> Result<(), serenity::Error> {
        EditInteractionResponse::new()
            .content(clip(text, 2000))
            .allowed_mentions(mentions::only_user(MemberId(self.user.get())))
            .execute(self.http, self.token.expose())
            .await
            .map(drop)
    }

    /// Deletes the initial (or deferred) response.
    pub async fn delete_original(&self) -> Result<(), serenity::Error> {
        self.http
            .delete_original_interaction_response(self.token.expose())
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
