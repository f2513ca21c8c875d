//! Delivering interactions to the bot, the two ways Discord does: an `INTERACTION_CREATE`
//! dispatch on the gateway, or (after `deliver_over_http`) a POST to the bot's
//! Interactions Endpoint URL signed with the application's key (a fixed test key pair:
//! [`public_key_hex`] goes in `discord.public_key`). The HTTP response's body is the initial
//! response: it is recorded and takes effect exactly like a callback the bot POSTs over the
//! gateway (`Request::in_http_response` tells them apart), so tests read both the same way.
//! With `deliver_round_robin` the POSTs go to several endpoints in turn (instances behind
//! one URL); each answer keeps the endpoint it came from.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value;

use super::rest::interaction_callback;
use super::{
    ButtonPress, DiscordDouble, File, Injected, Inner, InteractionState, MessageCommand,
    ModalSubmit, Request, Shared, SlashCommand, objects, validate,
};

/// The seed of the application's test key pair.
pub const TEST_KEY_SEED: [u8; 32] = *b"seedance-bot test signing key!!!";

/// The application's test key pair.
pub fn test_key() -> SigningKey {
    SigningKey::from_bytes(&TEST_KEY_SEED)
}

/// The value for `discord.public_key`: the test key pair's public half, hex.
pub fn public_key_hex() -> String {
    hex(test_key().verifying_key().as_bytes())
}

/// `X-Signature-Ed25519` for `body` sent at `timestamp`, signed with `key`.
pub fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    hex(&key.sign(&message).to_bytes())
}

/// Now, as `X-Signature-Timestamp` writes it (unix seconds).
pub fn timestamp_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the bot's endpoint answered to a POST.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// The endpoint it was POSTed to.
    pub url: String,
    /// 0 when no HTTP answer came (the connection was refused or broken).
    pub status: u16,
    pub body: String,
}

impl HttpAnswer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends `payload` to the bot the way the double delivers now; over HTTP the answer is
/// taken in the background, as a gateway dispatch returns before the bot answers.
pub(super) fn deliver(shared: &Arc<Shared>, s: &mut Inner, token: &str, payload: Value) {
    match s.next_endpoint_url() {
        None => assert!(
            s.dispatch("INTERACTION_CREATE", payload),
            "no gateway session"
        ),
        Some(url) => {
            let shared = shared.clone();
            let token = token.to_owned();
            tokio::spawn(async move {
                let body = payload.to_string().into_bytes();
                let timestamp = timestamp_now();
                let signature = sign(&test_key(), &timestamp, &body);
                let headers = vec![
                    ("x-signature-ed25519", signature),
                    ("x-signature-timestamp", timestamp),
                ];
                let answer = post(&shared.client, &url, headers, body).await;
                let lag = shared.with(|s| s.http_answer_lag);
                tokio::time::sleep(lag).await;
                shared.with(|s| take_answer(s, &payload, &token, answer));
            });
        }
    }
}

/// POSTs `body` with `headers` (and a JSON content type) to `url`.
async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: Vec<(&str, String)>,
    body: Vec<u8>,
) -> HttpAnswer {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => HttpAnswer {
            url: url.to_owned(),
            status: response.status().as_u16(),
            body: response.text().await.unwrap_or_default(),
        },
        // The bot is gone (killed, stopping): Discord sees no answer.
        Err(e) => HttpAnswer {
            url: url.to_owned(),
            status: 0,
            body: e.to_string(),
        },
    }
}

/// The bot's HTTP answer to an interaction: a 200 with a body is its initial response,
/// recorded and applied as a callback would be; anything else is kept in `http_answers`.
fn take_answer(s: &mut Inner, payload: &Value, token: &str, answer: HttpAnswer) {
    let id = payload["id"].as_str().unwrap_or("0").to_owned();
    s.http_answers.push((token.to_owned(), answer.clone()));
    if answer.status != 200 {
        return;
    }
    let body = answer.json();
    let path = format!("/interactions/{id}/{token}/callback");
    for problem in validate::callback(&body) {
        s.violation("POST", &path, problem);
    }
    let (status, _, _) = interaction_callback(s, token, &body);
    s.requests.push(Request {
        method: "POST".into(),
        path,
        query: None,
        authorization: None,
        json: Some(body),
        files: Vec::new(),
        status,
        at: Instant::now(),
        in_http_response: true,
    });
}

impl Inner {
    /// Where the next interaction goes over HTTP (the round robin moves on), if it does.
    fn next_endpoint_url(&mut self) -> Option<String> {
        if self.endpoints.is_empty() {
            return None;
        }
        let url = self.endpoints[self.next_endpoint % self.endpoints.len()].clone();
        self.next_endpoint = (self.next_endpoint + 1) % self.endpoints.len();
        Some(url)
    }
}

impl DiscordDouble {
    /// From now on interactions are POSTed, signed, to `url` (the bot's
    /// `http://ADDRESS/interactions`) instead of being dispatched on the gateway.
    pub fn deliver_over_http(&self, url: &str) {
        self.deliver_round_robin(&[url.to_owned()]);
    }

    /// From now on interactions are POSTed, signed, to each of `urls` in turn (several
    /// instances of the bot behind one Interactions Endpoint URL).
    pub fn deliver_round_robin(&self, urls: &[String]) {
        self.shared.with(|s| {
            s.endpoints = urls.to_vec();
            s.next_endpoint = 0;
        });
    }

    /// The next interaction goes to `url` (one of the round robin's), the turn going on
    /// from there.
    pub fn deliver_next_to(&self, url: &str) {
        self.shared.with(|s| {
            s.next_endpoint = s
                .endpoints
                .iter()
                .position(|u| u == url)
                .expect("one of the endpoints");
        });
    }

    /// Every message (in every channel and thread), oldest first, with edits applied.
    pub fn all_messages(&self) -> Vec<Value> {
        self.shared.with(|s| s.messages.values().cloned().collect())
    }

    /// Acts on each HTTP answer of the bot `lag` after receiving it, as Discord may: the
    /// bot's follow-up calls can come before its initial response took effect.
    pub fn lag_http_answers(&self, lag: Duration) {
        self.shared.with(|s| s.http_answer_lag = lag);
    }

    /// Whether interactions go to the bot's endpoint.
    pub fn over_http(&self) -> bool {
        self.shared.with(|s| !s.endpoints.is_empty())
    }

    /// Over the gateway: waits (up to 10 s) for the bot to be connected. Over HTTP there is
    /// nothing to wait for.
    async fn wait_deliverable(&self) {
        if !self.over_http() {
            self.wait_ready(Duration::from_secs(10)).await;
        }
    }

    /// POSTs `body` with exactly `headers` to the bot's endpoint and returns its answer, for
    /// tests of what the endpoint refuses. Nothing is recorded.
    pub async fn post_to_bot(&self, headers: Vec<(&str, String)>, body: Vec<u8>) -> HttpAnswer {
        let url = self
            .shared
            .with(|s| s.endpoints.first().cloned())
            .expect("deliver_over_http first");
        post(&self.shared.client, &url, headers, body).await
    }

    /// Signs `body` now with the test key pair and POSTs it to the bot's endpoint.
    pub async fn post_signed(&self, body: Vec<u8>) -> HttpAnswer {
        let timestamp = timestamp_now();
        let signature = sign(&test_key(), &timestamp, &body);
        self.post_to_bot(
            vec![
                ("x-signature-ed25519", signature),
                ("x-signature-timestamp", timestamp),
            ],
            body,
        )
        .await
    }

    /// The bot's HTTP answers to delivered interactions, in arrival order (token, answer).
    pub fn http_answers(&self) -> Vec<(String, HttpAnswer)> {
        self.shared.with(|s| s.http_answers.clone())
    }

    /// A PING, as Discord sends to check the endpoint URL.
    pub fn ping_payload(&self) -> Value {
        self.shared.with(|s| {
            let id = s.next_id();
            serde_json::json!({
                "id": id.to_string(),
                "application_id": super::BOT_ID.to_string(),
                "type": 1,
                "token": format!("interaction-token-{id}"),
                "version": 1,
            })
        })
    }

    /// Sends an application-command interaction to the bot. Waits (up to 10 s) for the bot
    /// to be connected. Panics if serenity could not read the payload.
    pub async fn inject(&self, command: &SlashCommand) -> Injected {
        self.wait_deliverable().await;
        let injected = self.prepare(command);
        self.redeliver(&injected);
        injected
    }

    /// An application-command interaction, known to the double (it can be answered) but not
    /// delivered: for tests that send it themselves (`post_to_bot`), or later (`redeliver`).
    pub fn prepare(&self, command: &SlashCommand) -> Injected {
        let base = self.shared.base_url.clone();
        let ex = command.link_ex();
        self.make_interaction(
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
        self.wait_deliverable().await;
        let injected = self.make_interaction(
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
        );
        self.redeliver(&injected);
        injected
    }

    /// Sends a submitted form (modal).
    pub async fn submit(&self, form: &ModalSubmit) -> Injected {
        self.wait_deliverable().await;
        let injected = self.make_interaction(
            form.origin.channel_id,
            form.origin.guild_id,
            |_, id, token| form.to_json(id, token),
        );
        self.redeliver(&injected);
        injected
    }

    /// Sends a button press on one of the bot's messages.
    pub async fn press(&self, press: &ButtonPress) -> Injected {
        self.wait_deliverable().await;
        let injected = self.make_interaction(
            press.origin.channel_id,
            press.origin.guild_id,
            |s, id, token| press.to_json(id, token, s.messages.get(&press.message_id).cloned()),
        );
        self.redeliver(&injected);
        injected
    }

    /// Builds an interaction (`build` gets its id and token), checks that serenity reads
    /// it, and keeps its state so that it can be answered.
    fn make_interaction(
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
