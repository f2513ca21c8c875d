//! A local Discord double: the REST routes a bot like ours uses ([`rest`]), a gateway
//! websocket that the real serenity client connects to ([`gateway`]), and the delivery of
//! interactions over the gateway or, signed, to the bot's HTTP endpoint ([`interactions`]),
//! on 127.0.0.1.
//!
//! Point the bot at it with `discord.api_base_url = double.base_url()` (and, for
//! `discord.mode = "http"`, `deliver_over_http(bot_url)` with `discord.public_key =
//! public_key_hex()`). Then:
//! - `inject(&SlashCommand::in_guild(..).option(Opt::string(..)))` sends an
//!   interaction, `press(&ButtonPress::in_guild(..))` a button press;
//! - `wait_for(|r| r.is("POST", "/interactions/*/*/callback"), secs(3))` waits for a request;
//! - `requests()`, `messages_in(channel)`, `commands(guild)` show what the bot did;
//! - `violations()` lists every body that broke one of Discord's limits (see `validate`);
//! - `deny_threads_in(channel)`, `fail_next(route, status, body)` and
//!   `delay_next(route, delay)` inject faults.

// A toolkit for the bot's tests, some still to be written: not every item is used yet.
#![allow(dead_code)]

mod delivery;
mod gateway;
mod interactions;
pub mod objects;
mod payloads;
mod responses;
mod rest;
pub mod validate;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::any;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

pub use interactions::{HttpAnswer, public_key_hex, sign, test_key, timestamp_now};
pub use objects::{BOT_ID, BOT_NAME};
pub use payloads::{
    ButtonPress, DEFAULT_ATTACHMENT_SIZE_LIMIT, File, MessageCommand, ModalSubmit, Opt,
    SlashCommand, perms,
};
use rest::{Answer, err, ok};

/// Discord's deadline for the first answer to an interaction (docs "Responding to an
/// Interaction"): after it, the callback route answers 404 Unknown interaction (10062).
pub const INTERACTION_DEADLINE: Duration = Duration::from_secs(3);

/// One REST request the bot made, as the double received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path under `/api/v10`, e.g. `/channels/12/messages`.
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    /// The JSON body; for a multipart body, its `payload_json` part.
    pub json: Option<Value>,
    /// The file parts of a multipart body.
    pub files: Vec<FilePart>,
    /// The status the double answered with.
    pub status: u16,
    /// When the double received it (compare requests with each other, not with a budget).
    pub at: Instant,
    /// Not a request but the body of the bot's HTTP response to an interaction delivered to
    /// its endpoint, recorded as the callback it stands for.
    pub in_http_response: bool,
}

impl Request {
    /// `route` is `"METHOD /path"` where a `*` stands for one path segment.
    pub fn is(&self, method: &str, route: &str) -> bool {
        self.method == method && path_matches(route, &self.path)
    }
    /// The JSON body, or `Null`.
    pub fn body(&self) -> &Value {
        self.json.as_ref().unwrap_or(&Value::Null)
    }
}

/// A file sent in a multipart body.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A body that broke one of Discord's rules, or a route the double does not know.
#[derive(Debug, Clone)]
pub struct Violation {
    pub method: String,
    pub path: String,
    pub problem: String,
}

/// What `inject` or `press` sent: enough to find the bot's answers.
#[derive(Debug, Clone)]
pub struct Injected {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    /// The full dispatch payload (`d`).
    pub payload: Value,
}

impl Injected {
    /// The route of this interaction's callback, for `Request::is`.
    pub fn callback_path(&self) -> String {
        format!("/interactions/{}/{}/callback", self.id, self.token)
    }
}

struct Fault {
    method: String,
    route: String,
    status: u16,
    body: Value,
}

struct InteractionState {
    injected_at: Instant,
    /// From injection to the initial response's arrival.
    answered_after: Option<Duration>,
    channel_id: u64,
    acknowledged: bool,
    original: Option<u64>,
    /// Deferred (type 5) and not yet resolved by an edit or a follow-up.
    loading: bool,
    /// Follow-up messages, in order.
    followups: Vec<u64>,
}

#[derive(Default)]
struct Inner {
    last_id: u64,
    requests: Vec<Request>,
    violations: Vec<Violation>,
    /// Every message by id; each holds its `channel_id`.
    messages: BTreeMap<u64, Value>,
    threads: BTreeMap<u64, Value>,
    channel_guilds: HashMap<u64, u64>,
    dm_channels: HashMap<u64, u64>,
    /// Registered commands by scope: `None` global, `Some(guild)`.
    commands: HashMap<Option<u64>, Vec<Value>>,
    interactions: HashMap<String, InteractionState>,
    files: HashMap<u64, (Option<String>, Vec<u8>)>,
    denied_thread_channels: HashSet<u64>,
    /// Messages created with `enforce_nonce`, by (channel, nonce): see `delivery`.
    nonces: HashMap<(u64, String), u64>,
    /// (method, route, delay): matching requests take effect, then are answered that late.
    holds: Vec<(String, String, Duration)>,
    /// Age-restricted channels, from the commands injected in them.
    nsfw_channels: HashSet<u64>,
    faults: Vec<Fault>,
    /// (method, route, delay): the next matching request is answered that much later.
    delays: Vec<(String, String, Duration)>,
    identify: Option<Value>,
    gateway: Option<mpsc::UnboundedSender<String>>,
    sequence: u64,
    sessions: u32,
    /// The bot's interactions endpoints, once interactions are delivered over HTTP: each
    /// interaction goes to the next one in turn (round robin, as a load balancer would).
    endpoints: Vec<String>,
    /// The index in `endpoints` of the next delivery.
    next_endpoint: usize,
    /// The bot's HTTP answers to delivered interactions (token, answer).
    http_answers: Vec<(String, HttpAnswer)>,
    /// How long the double takes to act on the bot's HTTP answer once it has it.
    http_answer_lag: Duration,
}

impl Inner {
    /// A snowflake from the current time, always above the last one handed out.
    fn next_id(&mut self) -> u64 {
        const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.last_id = ((now_ms - DISCORD_EPOCH_MS) << 22).max(self.last_id + 1);
        self.last_id
    }

    fn violation(&mut self, method: &str, path: &str, problem: impl Into<String>) {
        let problem = problem.into();
        tracing::warn!(%method, %path, %problem, "discord double: violation");
        self.violations.push(Violation {
            method: method.into(),
            path: path.into(),
            problem,
        });
    }
}

struct Shared {
    inner: Mutex<Inner>,
    base_url: String,
    /// Bumped on every change, so waiters re-check.
    changed: watch::Sender<u64>,
    /// The `heartbeat_interval` HELLO announces, in milliseconds.
    heartbeat_ms: std::sync::atomic::AtomicU64,
    /// Delivers interactions to the bot's endpoint.
    client: reqwest::Client,
}

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let out = f(&mut self.inner.lock().expect("double state"));
        self.changed.send_modify(|v| *v += 1);
        out
    }
}

/// The running double. Dropping it stops the server.
pub struct DiscordDouble {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for DiscordDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl DiscordDouble {
    /// Starts the double on `127.0.0.1:0`.
    pub async fn start() -> DiscordDouble {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            base_url: format!("http://{addr}"),
            changed: watch::channel(0).0,
            heartbeat_ms: std::sync::atomic::AtomicU64::new(41_250),
            client: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/gw", any(gateway::gateway))
            .fallback(rest::rest)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        DiscordDouble { shared, server }
    }

    /// `http://127.0.0.1:PORT`: the value for `discord.api_base_url`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// Every REST request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.with(|s| s.requests.clone())
    }

    /// Every broken rule and unknown route so far.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared.with(|s| s.violations.clone())
    }

    /// Messages in a channel (or thread), oldest first, with edits applied.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        self.shared.with(|s| {
            s.messages
                .values()
                .filter(|m| m["channel_id"] == json!(channel_id.to_string()))
                .cloned()
                .collect()
        })
    }

    /// One message by id, with edits applied.
    pub fn message(&self, id: u64) -> Option<Value> {
        self.shared.with(|s| s.messages.get(&id).cloned())
    }

    /// Threads the bot made, by id (a thread's id is its starter message's id).
    pub fn threads(&self) -> Vec<Value> {
        self.shared.with(|s| s.threads.values().cloned().collect())
    }

    /// The commands registered in a guild (`Some`) or globally (`None`).
    pub fn commands(&self, guild_id: Option<u64>) -> Vec<Value> {
        self.shared
            .with(|s| s.commands.get(&guild_id).cloned().unwrap_or_default())
    }

    /// Thread creation in `channel_id` answers 403 Missing Permissions (50013).
    pub fn deny_threads_in(&self, channel_id: u64) {
        self.shared
            .with(|s| s.denied_thread_channels.insert(channel_id));
    }

    /// The next request matching `"METHOD /path/*"` answers `status` with `body`. A 429
    /// also gets `Retry-After` and `X-RateLimit-*` headers from `body["retry_after"]`.
    pub fn fail_next(&self, route: &str, status: u16, body: Value) {
        let (method, path) = route.split_once(' ').expect("route is \"METHOD /path\"");
        self.shared.with(|s| {
            s.faults.push(Fault {
                method: method.into(),
                route: path.into(),
                status,
                body,
            })
        });
    }

    /// Holds the next request matching `route` (`"METHOD /path"`, `*` for a segment) for
    /// `delay` before answering it normally: a slow Discord, or a handler kept in flight.
    pub fn delay_next(&self, route: &str, delay: Duration) {
        let (method, path) = route.split_once(' ').expect("route is \"METHOD /path\"");
        self.shared
            .with(|s| s.delays.push((method.into(), path.into(), delay)));
    }

    /// Waits until every delay set with [`DiscordDouble::delay_next`] has caught its request
    /// (the request arrived and is being held), at most `timeout`.
    pub async fn wait_delays_taken(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.shared.with(|s| !s.delays.is_empty()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no request came for a delay within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Posts a message as someone else (a member), e.g. to start a thread from it later.
    pub fn seed_message(&self, channel_id: u64, author_id: u64, content: &str) -> u64 {
        self.shared.with(|s| {
            let id = s.next_id();
            let author = objects::user(author_id, &format!("member{author_id}"));
            let m = objects::message(id, channel_id, author, &json!({ "content": content }));
            s.messages.insert(id, m);
            id
        })
    }

    /// Waits for the first recorded request (from the start) that matches `predicate`.
    /// Panics after `timeout`, listing what was recorded.
    pub async fn wait_for(
        &self,
        predicate: impl Fn(&Request) -> bool,
        timeout: Duration,
    ) -> Request {
        let mut found = None;
        self.wait_until(timeout, "a matching request", |s| {
            found = s.requests.iter().find(|r| predicate(r)).cloned();
            found.is_some()
        })
        .await;
        found.expect("found")
    }

    async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        mut done: impl FnMut(&Inner) -> bool,
    ) {
        let mut changes = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.shared.inner.lock().expect("double state")) {
                return;
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} -> {} {}", r.method, r.path, r.status, r.body()))
                    .collect();
                panic!(
                    "timed out after {timeout:?} waiting for {what}; requests:\n{}",
                    seen.join("\n")
                );
            }
        }
    }
}

/// `route` with `*` segments against a concrete path.
fn path_matches(route: &str, path: &str) -> bool {
    let (r, p): (Vec<_>, Vec<_>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len() && r.iter().zip(&p).all(|(r, p)| *r == "*" || r == p)
}
