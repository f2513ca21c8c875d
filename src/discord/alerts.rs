//! Operator alerts: a direct message to each of the bot's operators (`discord.owner_ids`)
//! when the provider refuses the bot's key or account, at most once per [`ALERT_INTERVAL`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serenity::all::{CreateMessage, Http, UserId};
use tokio::time::Instant;

use super::mentions;

/// The least time between two alerts: one is enough to act on, more is noise.
pub const ALERT_INTERVAL: Duration = Duration::from_secs(3600);

/// Sends operator alerts through Discord, rate-limited.
pub struct OperatorAlerts {
    http: Arc<Http>,
    owners: Vec<u64>,
    last: Mutex<Option<Instant>>,
}

impl OperatorAlerts {
    pub fn new(http: Arc<Http>, owners: &[u64]) -> OperatorAlerts {
        OperatorAlerts {
            http,
            owners: owners.iter().copied().filter(|id| *id != 0).collect(),
            last: Mutex::new(None),
        }
    }

    /// Whether an alert may go out now; if so, the next one waits [`ALERT_INTERVAL`].
    fn take_turn(&self) -> bool {
        let now = Instant::now();
        let mut last = self.last.lock().expect("alert lock");
        match *last {
            Some(at) if now.duration_since(at) < ALERT_INTERVAL => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }

    /// Sends `text` to every operator in the background, unless an alert went out within
    /// the last hour. Failures are logged: the job it concerns is already refunded.
    pub fn send(&self, text: &str) {
        if self.owners.is_empty() {
            tracing::warn!("operator alert not sent: discord.owner_ids is empty");
            return;
        }
        if !self.take_turn() {
            tracing::info!("operator alert skipped: one was sent within the hour");
            return;
        }
        let http = self.http.clone();
        let owners = self.owners.clone();
        let text = super::card::clip(text, 2000);
        tokio::spawn(async move {
            for owner in owners {
                let sent = async {
                    let dm = UserId::new(owner).create_dm_channel(&http).await?;
                    dm.id
                        .send_message(
                            &http,
                            CreateMessage::new()
                                .content(text.clone())
                                .allowed_mentions(mentions::nobody()),
                        )
                        .await
                };
                match sent.await {
                    Ok(_) => tracing::info!(owner, "operator alerted"),
                    Err(e) => tracing::warn!(owner, error = %e, "could not alert an operator"),
                }
            }
        });
    }
}
