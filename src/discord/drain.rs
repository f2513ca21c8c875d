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
use tokio::runtime::Handle;

use super::mentions;
use crate::http::Health;
use crate::i18n::Lang;
use crate::ids::MemberId;

/// Wraps the poise framework: turns interactions away while draining, counts the events
/// being handled, and handles each on the bot's main runtime (`handlers`), away from the
/// runtime that reads the gateway.
pub struct Gate<F> {
    inner: Arc<F>,
    health: Arc<Health>,
    in_flight: Arc<AtomicUsize>,
    handlers: Handle,
}

impl<F> Gate<F> {
    pub fn new(inner: F, health: Arc<Health>, handlers: Handle) -> Gate<F> {
        Gate {
            inner: Arc::new(inner),
            health,
            in_flight: Arc::default(),
            handlers,
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
impl<F: Framework + 'static> Framework for Gate<F> {
    async fn init(&mut self, client: &Client) {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.init(client).await,
            // Only `dispatch` clones it, and it runs after `init`.
            None => tracing::error!("the command framework was shared before it was set up"),
        }
    }

    async fn dispatch(&self, ctx: SerenityContext, event: FullEvent) {
        let guard = InFlight::enter(&self.in_flight);
        let draining = self.health.draining();
        let inner = self.inner.clone();
        let handled = self.handlers.spawn(async move {
            let _guard = guard;
            match &event {
                FullEvent::InteractionCreate { interaction } if draining => {
                    turn_away(&ctx, interaction).await;
                }
                _ => inner.dispatch(ctx, event).await,
            }
        });
        if let Err(e) = handled.await
            && e.is_panic()
        {
            tracing::error!("an event's handler panicked");
        }
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
                .create_response(
                    &ctx.http,
                    restarting(Lang::of_locale(&command.locale), command.user.id.get()),
                )
                .await,
        ),
        Interaction::Component(press) => (
            "button".to_owned(),
            press.user.id,
            press
                .create_response(
                    &ctx.http,
                    restarting(Lang::of_locale(&press.locale), press.user.id.get()),
                )
                .await,
        ),
        Interaction::Modal(form) => (
            "form".to_owned(),
            form.user.id,
            form.create_response(
                &ctx.http,
                restarting(Lang::of_locale(&form.locale), form.user.id.get()),
            )
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

/// The private "restarting" answer to `user`, in the member's language, the same over
/// both transports.
pub fn restarting(lang: Lang, user: u64) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(crate::tr!(lang, "bot-restarting"))
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
