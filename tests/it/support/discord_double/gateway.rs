//! The double's gateway: a websocket session (HELLO, IDENTIFY -> READY, RESUME -> RESUMED,
//! heartbeats -> ACK) that the real serenity client connects to, and the dispatches a test
//! sends through it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{BOT_ID, BOT_NAME, DiscordDouble, Inner, Shared, objects};

impl Inner {
    pub(super) fn dispatch(&mut self, event: &str, d: Value) -> bool {
        self.sequence += 1;
        let frame = json!({ "op": 0, "t": event, "s": self.sequence, "d": d }).to_string();
        self.gateway.as_ref().is_some_and(|g| g.send(frame).is_ok())
    }
}

impl DiscordDouble {
    /// The heartbeat interval announced to sessions that connect from now on (Discord's is
    /// about 41 s; serenity sends its first heartbeat one interval after IDENTIFY).
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self.shared
            .heartbeat_ms
            .store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// The IDENTIFY payload of the last gateway session (it carries the token).
    pub fn identify(&self) -> Option<Value> {
        self.shared.with(|s| s.identify.clone())
    }

    /// How many gateway sessions got READY.
    pub fn sessions(&self) -> u32 {
        self.shared.with(|s| s.sessions)
    }

    /// Whether a gateway session is open now.
    pub fn connected(&self) -> bool {
        self.shared
            .with(|s| s.gateway.as_ref().is_some_and(|g| !g.is_closed()))
    }

    /// Waits until the bot has a gateway session that got READY.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.wait_until(timeout, "the bot to connect and get READY", |s| {
            s.sessions > 0 && s.gateway.as_ref().is_some_and(|g| !g.is_closed())
        })
        .await;
    }
}

pub(super) async fn gateway(ws: WebSocketUpgrade, State(shared): State<Arc<Shared>>) -> Response {
    ws.on_upgrade(move |socket| run_gateway(socket, shared))
}

/// One gateway session: HELLO, then IDENTIFY -> READY, RESUME -> RESUMED, heartbeats -> ACK,
/// and whatever the test dispatches.
async fn run_gateway(socket: WebSocket, shared: Arc<Shared>) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut outgoing) = mpsc::unbounded_channel::<String>();
    let interval = shared
        .heartbeat_ms
        .load(std::sync::atomic::Ordering::SeqCst);
    let hello = json!({ "op": 10, "d": { "heartbeat_interval": interval } }).to_string();
    if sink.send(WsMessage::Text(hello.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = stream.next() => {
                let text = match frame {
                    Some(Ok(WsMessage::Text(t))) => t.to_string(),
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Binary(_))) => continue,
                    _ => break,
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                match v["op"].as_u64() {
                    Some(1) => {
                        let _ = out.send(json!({ "op": 11 }).to_string());
                    }
                    Some(2) => shared.with(|s| {
                        s.identify = Some(v["d"].clone());
                        s.gateway = Some(out.clone());
                        s.sessions += 1;
                        let session = format!("session-{}", s.sessions);
                        let ready = json!({
                            "v": 10,
                            "user": objects::user(BOT_ID, BOT_NAME),
                            "guilds": [],
                            "session_id": session,
                            "resume_gateway_url": format!("{}/gw", shared.base_url.replace("http", "ws")),
                            "application": { "id": BOT_ID.to_string(), "flags": 0 },
                        });
                        s.dispatch("READY", ready);
                    }),
                    Some(6) => shared.with(|s| {
                        s.gateway = Some(out.clone());
                        s.dispatch("RESUMED", json!({}));
                    }),
                    _ => {}
                }
            }
            Some(frame) = outgoing.recv() => {
                if sink.send(WsMessage::Text(frame.into())).await.is_err() {
                    break;
                }
            }
        }
    }
    shared.with(|s| {
        if s.gateway.as_ref().is_some_and(|g| g.same_channel(&out)) {
            s.gateway = None;
        }
    });
}
