//! Stopping without dropping work: once the bot is draining, new commands and button presses
//! get a short "restarting" answer, and the interactions already being handled are counted
//! so shutdown can wait for them (and the ledger writes they make) to finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serenity::all::{
    Client, Context as SerenityContext, CreateInteractionResponse,
    CreateInteractionResponseMessage, Framework, FullEvent, Interaction,
};
use serenity::async_trait;

use super::mentions;
use crate::http::Health;
use crate::ids::MemberId;

/// What a member sees when an interaction arrives after the shutdown signal.
pub const RESTARTING: &str = "The bot is restarting; try again in a minute.";

/// Wraps the poise framework: turns interactions away while draining and counts the events
/// being handled.
pub struct Gate<F> {
    inner: F,
    health: Arc<Health>,
    in_flight: Arc<AtomicUsize>,
}

impl<F> Gate<F> {
    pub fn new(inner: F, health: Arc<Health>) -> Gate<F> {
        Gate {
            inner,
            health,
            in_flight: Arc::default(),
        }
    }

    /// The number of events being handled, for [`wait_idle`].
    pub fn in_flight(&self) -> Arc<AtomicUsize> {
        self.in_flight.clone()
    }
}

/// Counts an interaction (or event) being handled; decrements the count when its handling
/// ends, however it ends.
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    pub fn enter(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::SeqCst);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl<F: Framework> Framework for Gate<F> {
    async fn init(&mut self, client: &Client) {
        self.inner.init(client).await;
    }

    async fn dispatch(&self, ctx: SerenityContext, event: FullEvent) {
        let _guard = InFlight::enter(&self.in_flight);
        if let FullEvent::InteractionCreate { interaction } = &event
            && self.health.draining()
        {
            turn_away(&ctx, interaction).await;
            return;
        }
        self.inner.dispatch(ctx, event).await;
    }
}

/// Answers a command, button press or submitted form, only to its author, that the bot is
/// restarting.
async fn turn_away(ctx: &SerenityContext, interaction: &Interaction) {
    let (name, user, result) = match interaction {
        Interaction::Command(command) => (
            command.data.name.clone(),
            command.user.id,
            command
                .create_response(&ctx.http, restarting(command.user.id.get()))
                .await,
        ),
        Interaction::Component(press) => (
            "button".to_owned(),
            press.user.id,
            press
                .create_response(&ctx.http, restarting(press.user.id.get()))
                .await,
        ),
        Interaction::Modal(form) => (
            "form".to_owned(),
            form.user.id,
            form.create_response(&ctx.http, restarting(form.user.id.get()))
                .await,
        ),
        _ => return,
    };
    super::observe::interaction(&name, "restarting", interaction.id().get());
    match result {
        Ok(()) => tracing::info!(command = %name, user = user.get(), "turned away: restarting"),
        Err(e) => tracing::warn!(command = %name, error = %e, "could not answer while restarting"),
    }
}

/// The private "restarting" answer to `user`, the same over both transports.
pub fn restarting(user: u64) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(RESTARTING)
            .ephemeral(true)
            .allowed_mentions(mentions::only_user(MemberId(user))),
    )
}

/// Waits until no event is being handled, or `grace` has passed; says which.
pub async fn wait_idle(in_flight: &AtomicUsize, grace: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        let busy = in_flight.load(Ordering::SeqCst);
        if busy == 0 {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(busy, "interactions still running at shutdown; leaving them");
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
