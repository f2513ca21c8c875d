//! A local Discord double: the REST routes a bot like ours uses and a gateway websocket, on
//! 127.0.0.1, that the real serenity client connects to.
//!
//! Point the bot at it with `discord.api_base_url = double.base_url()`. Then:
//! - `inject(&SlashCommand::in_guild(..).option(Opt::string(..)))` sends an
//!   `INTERACTION_CREATE`, `press(&ButtonPress::in_guild(..))` a button press;
//! - `wait_for(|r| r.is("POST", "/interactions/*/*/callback"), secs(3))` waits for a request;
//! - `requests()`, `messages_in(channel)`, `commands(guild)` show what the bot did;
//! - `violations()` lists every body that broke one of Discord's limits (see `validate`);
//! - `deny_threads_in(channel)`, `fail_next(route, status, body)` and
//!   `delay_next(route, delay)` inject faults.

// A toolkit for the bot's tests, some still to be written: not every item is used yet.
#![allow(dead_code)]

mod delivery;
mod interactions;
pub mod objects;
mod responses;
pub mod validate;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, Multipart, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

pub use interactions::{
    ButtonPress, DEFAULT_ATTACHMENT_SIZE_LIMIT, File, MessageCommand, ModalSubmit, Opt,
    SlashCommand, perms,
};
pub use objects::{BOT_ID, BOT_NAME};

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

    fn dispatch(&mut self, event: &str, d: Value) -> bool {
        self.sequence += 1;
        let frame = json!({ "op": 0, "t": event, "s": self.sequence, "d": d }).to_string();
        self.gateway.as_ref().is_some_and(|g| g.send(frame).is_ok())
    }
}

struct Shared {
    inner: Mutex<Inner>,
    base_url: String,
    /// Bumped on every change, so waiters re-check.
    changed: watch::Sender<u64>,
    /// The `heartbeat_interval` HELLO announces, in milliseconds.
    heartbeat_ms: std::sync::atomic::AtomicU64,
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
        });
        let app = Router::new()
            .route("/gw", any(gateway))
            .fallback(rest)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        DiscordDouble { shared, server }
    }

    /// The heartbeat interval announced to sessions that connect from now on (Discord's is
    /// about 41 s; serenity sends its first heartbeat one interval after IDENTIFY).
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self.shared
            .heartbeat_ms
            .store(ms, std::sync::atomic::Ordering::SeqCst);
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

    /// Waits until the bot has a gateway session that got READY.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.wait_until(timeout, "the bot to connect and get READY", |s| {
            s.sessions > 0 && s.gateway.as_ref().is_some_and(|g| !g.is_closed())
        })
        .await;
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

    /// Sends an application-command interaction to the bot. Waits (up to 10 s) for the bot
    /// to be connected. Panics if serenity could not read the payload.
    pub async fn inject(&self, command: &SlashCommand) -> Injected {
        self.wait_ready(Duration::from_secs(10)).await;
        let base = self.shared.base_url.clone();
        let ex = command.link_ex();
        self.send_interaction(
            command.origin.channel_id,
            command.origin.guild_id,
            |s, id, token| {
                let mut files = Vec::new();
                let payload =
                    command.to_json(id, token, &mut || s.next_id(), &mut |aid, f: &File| {
                        files.push((aid, f.clone()));
                        format!(
                            "{base}/attachments/{}/{aid}/{}?ex={ex}&is=69f00000&hm=00ff",
                            command.origin.channel_id, f.filename
                        )
                    });
                if command.origin.nsfw {
                    let o = &command.origin;
                    s.nsfw_channels.insert(o.parent_id.unwrap_or(o.channel_id));
                }
                for (aid, f) in files {
                    if let Some(bytes) = f.bytes {
                        s.files.insert(aid, (f.content_type, bytes));
                    }
                }
                payload
            },
        )
    }

    /// Sends a message context-menu command used on a message. Its files have signed links
    /// on Discord's CDN (valid for a day) that the double does not serve: the provider
    /// fetches references, the bot never does.
    pub async fn use_on_message(&self, command: &MessageCommand) -> Injected {
        self.wait_ready(Duration::from_secs(10)).await;
        self.send_interaction(
            command.origin.channel_id,
            command.origin.guild_id,
            |s, id, token| {
                let day = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    + 86_400;
                command.to_json(id, token, &mut || s.next_id(), &mut |aid, f: &File| {
                    format!(
                        "https://cdn.discordapp.com/attachments/{}/{aid}/{}?ex={day:x}&is=69f00000&hm=00ff&",
                        command.origin.channel_id, f.filename
                    )
                })
            },
        )
    }

    /// Sends a submitted form (modal).
    pub async fn submit(&self, form: &ModalSubmit) -> Injected {
        self.wait_ready(Duration::from_secs(10)).await;
        self.send_interaction(
            form.origin.channel_id,
            form.origin.guild_id,
            |_, id, token| form.to_json(id, token),
        )
    }

    /// Sends a button press on one of the bot's messages.
    pub async fn press(&self, press: &ButtonPress) -> Injected {
        self.wait_ready(Duration::from_secs(10)).await;
        self.send_interaction(
            press.origin.channel_id,
            press.origin.guild_id,
            |s, id, token| press.to_json(id, token, s.messages.get(&press.message_id).cloned()),
        )
    }

    fn send_interaction(
        &self,
        channel_id: u64,
        guild_id: Option<u64>,
        build: impl FnOnce(&mut Inner, u64, &str) -> Value,
    ) -> Injected {
        self.shared.with(|s| {
            let id = s.next_id();
            let token = format!("interaction-token-{id}");
            let payload = build(s, id, &token);
            if let Err(e) = objects::check_shape::<serenity::all::Interaction>(&payload) {
                panic!("serenity would drop this interaction silently: {e}\n{payload:#}");
            }
            if let Some(g) = guild_id {
                s.channel_guilds.insert(channel_id, g);
            }
            s.interactions.insert(
                token.clone(),
                InteractionState {
                    injected_at: Instant::now(),
                    answered_after: None,
                    channel_id,
                    acknowledged: false,
                    original: None,
                    loading: false,
                    followups: Vec::new(),
                },
            );
            assert!(
                s.dispatch("INTERACTION_CREATE", payload.clone()),
                "no gateway session"
            );
            Injected {
                id,
                token,
                channel_id,
                payload,
            }
        })
    }

    /// For each answered interaction, the time from its injection to its initial response
    /// (what a member waits for), in no particular order.
    pub fn answer_latencies(&self) -> Vec<Duration> {
        self.shared.with(|s| {
            s.interactions
                .values()
                .filter_map(|i| i.answered_after)
                .collect()
        })
    }

    /// The bytes of the original response of an interaction, if it was answered.
    pub fn original_response(&self, injected: &Injected) -> Option<Value> {
        self.shared.with(|s| {
            let id = s.interactions.get(&injected.token)?.original?;
            s.messages.get(&id).cloned()
        })
    }
}

/// `route` with `*` segments against a concrete path.
fn path_matches(route: &str, path: &str) -> bool {
    let (r, p): (Vec<_>, Vec<_>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len() && r.iter().zip(&p).all(|(r, p)| *r == "*" || r == p)
}

// ---- the gateway -------------------------------------------------------------------------

async fn gateway(ws: WebSocketUpgrade, State(shared): State<Arc<Shared>>) -> Response {
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

// ---- REST ----------------------------------------------------------------------------------

async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let full_path = uri.path().to_owned();
    if method == Method::GET && full_path.starts_with("/attachments/") {
        return serve_file(&shared, &full_path);
    }
    let path = full_path
        .strip_prefix("/api/v10")
        .unwrap_or(&full_path)
        .to_owned();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (json, files) = read_body(&content_type, &headers, body).await;
    let mut request = Request {
        method: method.to_string(),
        path,
        query: uri.query().map(str::to_owned),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        json,
        files,
        status: 0,
        at: Instant::now(),
    };
    let delay = shared.with(|s| {
        let i = s
            .delays
            .iter()
            .position(|(m, route, _)| *m == request.method && path_matches(route, &request.path))?;
        Some(s.delays.remove(i).2)
    });
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let (status, extra_headers, answer, hold) = shared.with(|s| {
        let answered = fault(s, &request).unwrap_or_else(|| route(s, &shared.base_url, &request));
        request.status = answered.0;
        let hold = delivery::held(s, &request);
        s.requests.push(request);
        (answered.0, answered.1, answered.2, hold)
    });
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    let mut response = match answer {
        Some(body) => (
            StatusCode::from_u16(status).expect("status"),
            axum::Json(body),
        )
            .into_response(),
        None => StatusCode::from_u16(status)
            .expect("status")
            .into_response(),
    };
    for (k, v) in extra_headers {
        response.headers_mut().insert(k, v.parse().expect("header"));
    }
    response
}

async fn read_body(
    content_type: &str,
    headers: &HeaderMap,
    body: Body,
) -> (Option<Value>, Vec<FilePart>) {
    if content_type.starts_with("multipart/form-data") {
        let mut req = axum::http::Request::new(body);
        *req.headers_mut() = headers.clone();
        let Ok(mut multipart) = Multipart::from_request(req, &()).await else {
            return (None, Vec::new());
        };
        let (mut json, mut files) = (None, Vec::new());
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or("").to_owned();
            let filename = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            if name == "payload_json" {
                json = serde_json::from_slice(&bytes).ok();
            } else {
                files.push(FilePart {
                    name,
                    filename,
                    content_type,
                    bytes,
                });
            }
        }
        return (json, files);
    }
    let bytes = to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    (serde_json::from_slice(&bytes).ok(), Vec::new())
}

fn serve_file(shared: &Shared, path: &str) -> Response {
    let id = path
        .split('/')
        .nth(3)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    match shared.with(|s| s.files.get(&id).cloned()) {
        Some((content_type, bytes)) => {
            let ct = content_type.unwrap_or_else(|| "application/octet-stream".into());
            ([("content-type", ct)], bytes).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

type Answer = (u16, Vec<(&'static str, String)>, Option<Value>);

fn ok(body: Value) -> Answer {
    (200, Vec::new(), Some(body))
}

fn err(status: u16, code: u64, message: &str) -> Answer {
    (status, Vec::new(), Some(objects::error(code, message)))
}

fn fault(s: &mut Inner, r: &Request) -> Option<Answer> {
    let i = s
        .faults
        .iter()
        .position(|f| f.method == r.method && path_matches(&f.route, &r.path))?;
    let f = s.faults.remove(i);
    let mut headers = Vec::new();
    if f.status == 429 {
        let retry = f.body["retry_after"].as_f64().unwrap_or(1.0);
        headers.push(("retry-after", format!("{}", retry.ceil() as u64)));
        headers.push(("x-ratelimit-limit", "5".into()));
        headers.push(("x-ratelimit-remaining", "0".into()));
        headers.push(("x-ratelimit-reset-after", format!("{retry}")));
        headers.push(("x-ratelimit-scope", "user".into()));
    }
    Some((f.status, headers, Some(f.body)))
}

fn route(s: &mut Inner, base_url: &str, r: &Request) -> Answer {
    let seg: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    let body = r.body().clone();
    let mut check = |s: &mut Inner, problems: Vec<String>| {
        for p in problems {
            s.violation(&r.method, &r.path, p);
        }
    };
    match (r.method.as_str(), seg.as_slice()) {
        ("GET", ["gateway"] | ["gateway", "bot"]) => ok(json!({
            "url": format!("{}/gw", base_url.replace("http", "ws")),
            "shards": 1,
            "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1 },
        })),
        ("GET", ["users", "@me"]) => ok(objects::user(BOT_ID, BOT_NAME)),
        ("GET", ["oauth2", "applications", "@me"]) => ok(objects::application()),
        ("POST", ["interactions", _, token, "callback"]) => {
            check(s, validate::callback(&body));
            interaction_callback(s, token, &body)
        }
        ("GET" | "PATCH" | "DELETE", ["webhooks", _, token, "messages", which]) => {
            let id = match *which {
                "@original" => s.interactions.get(*token).and_then(|i| i.original),
                other => other.parse().ok(),
            };
            let Some(id) = id.filter(|id| s.messages.contains_key(id)) else {
                return err(404, 10008, "Unknown Message");
            };
            responses::resolve_loading(s, token, id, &r.method);
            match r.method.as_str() {
                "PATCH" => {
                    check(s, validate::message(&body, r.files.len(), false));
                    let m = s.messages.get_mut(&id).expect("checked");
                    objects::apply_edit(m, &body);
                    ok(m.clone())
                }
                "DELETE" => {
                    s.messages.remove(&id);
                    (204, Vec::new(), None)
                }
                _ => ok(s.messages[&id].clone()),
            }
        }
        ("POST", ["webhooks", _, token]) => {
            check(s, validate::message(&body, r.files.len(), true));
            responses::followup(s, token, &body)
        }
        ("POST", ["channels", channel, "messages"]) => {
            check(s, validate::message(&body, r.files.len(), true));
            delivery::create_message(s, channel.parse().unwrap_or(0), &body)
        }
        ("GET" | "PATCH" | "DELETE", ["channels", _, "messages", mid]) => {
            let Some(id) = mid
                .parse::<u64>()
                .ok()
                .filter(|id| s.messages.contains_key(id))
            else {
                return err(404, 10008, "Unknown Message");
            };
            match r.method.as_str() {
                "PATCH" => {
                    check(s, validate::message(&body, r.files.len(), false));
                    let m = s.messages.get_mut(&id).expect("checked");
                    objects::apply_edit(m, &body);
                    ok(m.clone())
                }
                "DELETE" => {
                    s.messages.remove(&id);
                    (204, Vec::new(), None)
                }
                _ => ok(s.messages[&id].clone()),
            }
        }
        ("POST", ["channels", channel, "messages", mid, "threads"]) => {
            check(s, validate::thread(&body));
            let channel: u64 = channel.parse().unwrap_or(0);
            if s.denied_thread_channels.contains(&channel) {
                return err(403, 50013, "Missing Permissions");
            }
            let Some(mid) = mid
                .parse::<u64>()
                .ok()
                .filter(|id| s.messages.contains_key(id))
            else {
                return err(404, 10008, "Unknown Message");
            };
            if s.threads.contains_key(&mid) {
                return err(
                    400,
                    160004,
                    "A thread has already been created for this message",
                );
            }
            let guild = s.channel_guilds.get(&channel).copied();
            let t = objects::thread(mid, guild, channel, &body);
            if let Some(g) = guild {
                s.channel_guilds.insert(mid, g);
            }
            s.threads.insert(mid, t.clone());
            delivery::mark_thread_start(s, mid, &t);
            (201, Vec::new(), Some(t))
        }
        ("GET", ["channels", channel]) => {
            let id: u64 = channel.parse().unwrap_or(0);
            let guild = s.channel_guilds.get(&id).copied().unwrap_or(0);
            ok(objects::text_channel(
                id,
                guild,
                s.nsfw_channels.contains(&id),
            ))
        }
        ("POST", ["users", "@me", "channels"]) => {
            let recipient = body["recipient_id"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .or_else(|| body["recipient_id"].as_u64())
                .unwrap_or(0);
            let id = match s.dm_channels.get(&recipient) {
                Some(id) => *id,
                None => {
                    let id = s.next_id();
                    s.dm_channels.insert(recipient, id);
                    id
                }
            };
            ok(objects::dm_channel(id, recipient))
        }
        ("PUT", ["applications", _, "commands"]) => overwrite_commands(s, None, &body, &mut check),
        ("PUT", ["applications", _, "guilds", g, "commands"]) => {
            let g = g.parse().ok();
            overwrite_commands(s, g, &body, &mut check)
        }
        ("GET", ["applications", _, "commands"]) => {
            ok(json!(s.commands.get(&None).cloned().unwrap_or_default()))
        }
        ("GET", ["applications", _, "guilds", g, "commands"]) => ok(json!(
            s.commands.get(&g.parse().ok()).cloned().unwrap_or_default()
        )),
        _ => {
            s.violation(
                &r.method,
                &r.path,
                "unknown route: the double does not implement it",
            );
            err(404, 0, "404: Not Found")
        }
    }
}

fn overwrite_commands(
    s: &mut Inner,
    guild: Option<u64>,
    body: &Value,
    check: &mut impl FnMut(&mut Inner, Vec<String>),
) -> Answer {
    let problems = validate::commands(body);
    if !problems.is_empty() {
        check(s, problems);
        return err(400, 50035, "Invalid Form Body");
    }
    let list: Vec<Value> = body
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let id = s.next_id();
            objects::command(id, guild, c)
        })
        .collect();
    s.commands.insert(guild, list.clone());
    ok(json!(list))
}

fn interaction_callback(s: &mut Inner, token: &str, body: &Value) -> Answer {
    let Some(i) = s.interactions.get(token) else {
        return err(404, 10062, "Unknown interaction");
    };
    if i.acknowledged {
        return err(400, 40060, "Interaction has already been acknowledged.");
    }
    let late = i.injected_at.elapsed();
    let channel = i.channel_id;
    if late > INTERACTION_DEADLINE {
        s.violation(
            "POST",
            token,
            format!("initial response after {late:?}, the limit is 3 s"),
        );
        return err(404, 10062, "Unknown interaction");
    }
    let kind = body["type"].as_u64().unwrap_or(0);
    let original = matches!(kind, 4 | 5).then(|| {
        let id = s.next_id();
        let data = if kind == 4 {
            body["data"].clone()
        } else {
            json!({ "flags": body["data"]["flags"] })
        };
        s.messages.insert(
            id,
            objects::message(id, channel, objects::user(BOT_ID, BOT_NAME), &data),
        );
        id
    });
    let i = s.interactions.get_mut(token).expect("checked");
    i.acknowledged = true;
    i.answered_after = Some(late);
    i.original = original;
    i.loading = kind == 5;
    (204, Vec::new(), None)
}
