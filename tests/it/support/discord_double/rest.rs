//! The double's REST routes: every request is recorded, may be delayed or failed on
//! purpose (`delay_next`, `fail_next`), has its body checked against Discord's rules, and is
//! answered by the small handler of its route.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Multipart, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{
    BOT_ID, BOT_NAME, FilePart, INTERACTION_DEADLINE, Inner, Request, Shared, delivery, objects,
    path_matches, responses, validate,
};

pub(super) async fn rest(
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
        in_http_response: false,
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

pub(super) type Answer = (u16, Vec<(&'static str, String)>, Option<Value>);

pub(super) fn ok(body: Value) -> Answer {
    (200, Vec::new(), Some(body))
}

pub(super) fn err(status: u16, code: u64, message: &str) -> Answer {
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

/// Answers one request by its route; every body is checked against Discord's rules first.
fn route(s: &mut Inner, base_url: &str, r: &Request) -> Answer {
    let seg: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    let body = r.body();
    match (r.method.as_str(), seg.as_slice()) {
        ("GET", ["gateway"] | ["gateway", "bot"]) => gateway_url(base_url),
        ("GET", ["users", "@me"]) => ok(objects::user(BOT_ID, BOT_NAME)),
        ("GET", ["oauth2", "applications", "@me"]) => ok(objects::application()),
        ("POST", ["interactions", _, token, "callback"]) => {
            check(s, r, validate::callback(body));
            interaction_callback(s, token, body)
        }
        (_, ["webhooks", _, token, "messages", which]) => webhook_message(s, r, token, which),
        ("POST", ["webhooks", _, token]) => {
            check(s, r, validate::message(body, r.files.len(), true));
            responses::followup(s, token, body)
        }
        ("POST", ["channels", channel, "messages"]) => {
            check(s, r, validate::message(body, r.files.len(), true));
            delivery::create_message(s, channel.parse().unwrap_or(0), body)
        }
        (_, ["channels", _, "messages", id]) => channel_message(s, r, id.parse().ok()),
        ("POST", ["channels", channel, "messages", id, "threads"]) => {
            start_thread(s, r, channel.parse().unwrap_or(0), id.parse().ok())
        }
        ("GET", ["channels", channel]) => channel_info(s, channel.parse().unwrap_or(0)),
        ("POST", ["users", "@me", "channels"]) => dm_channel(s, body),
        ("PUT", ["applications", _, "commands"]) => overwrite_commands(s, r, None),
        ("PUT", ["applications", _, "guilds", g, "commands"]) => {
            overwrite_commands(s, r, g.parse().ok())
        }
        ("GET", ["applications", _, "commands"]) => registered(s, None),
        ("GET", ["applications", _, "guilds", g, "commands"]) => registered(s, g.parse().ok()),
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

/// Records each broken rule of `r`'s body.
fn check(s: &mut Inner, r: &Request, problems: Vec<String>) {
    for p in problems {
        s.violation(&r.method, &r.path, p);
    }
}

/// `GET /gateway(/bot)`: where the websocket is.
fn gateway_url(base_url: &str) -> Answer {
    ok(json!({
        "url": format!("{}/gw", base_url.replace("http", "ws")),
        "shards": 1,
        "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1 },
    }))
}

/// `GET | PATCH | DELETE /webhooks/{app}/{token}/messages/{id | @original}`.
fn webhook_message(s: &mut Inner, r: &Request, token: &str, which: &str) -> Answer {
    if !matches!(r.method.as_str(), "GET" | "PATCH" | "DELETE") {
        return unknown(s, r);
    }
    let id = match which {
        "@original" => s.interactions.get(token).and_then(|i| i.original),
        other => other.parse().ok(),
    };
    let Some(id) = id.filter(|id| s.messages.contains_key(id)) else {
        return err(404, 10008, "Unknown Message");
    };
    responses::resolve_loading(s, token, id, &r.method);
    message_op(s, r, id)
}

/// `GET | PATCH | DELETE /channels/{channel}/messages/{id}`.
fn channel_message(s: &mut Inner, r: &Request, id: Option<u64>) -> Answer {
    if !matches!(r.method.as_str(), "GET" | "PATCH" | "DELETE") {
        return unknown(s, r);
    }
    let Some(id) = id.filter(|id| s.messages.contains_key(id)) else {
        return err(404, 10008, "Unknown Message");
    };
    message_op(s, r, id)
}

/// Reads, edits or deletes an existing message.
fn message_op(s: &mut Inner, r: &Request, id: u64) -> Answer {
    match r.method.as_str() {
        "PATCH" => {
            check(s, r, validate::message(r.body(), r.files.len(), false));
            let m = s.messages.get_mut(&id).expect("checked");
            objects::apply_edit(m, r.body());
            ok(m.clone())
        }
        "DELETE" => {
            s.messages.remove(&id);
            (204, Vec::new(), None)
        }
        _ => ok(s.messages[&id].clone()),
    }
}

/// `POST /channels/{channel}/messages/{id}/threads`: a public thread from a message, once.
fn start_thread(s: &mut Inner, r: &Request, channel: u64, message: Option<u64>) -> Answer {
    check(s, r, validate::thread(r.body()));
    if s.denied_thread_channels.contains(&channel) {
        return err(403, 50013, "Missing Permissions");
    }
    let Some(mid) = message.filter(|id| s.messages.contains_key(id)) else {
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
    let t = objects::thread(mid, guild, channel, r.body());
    if let Some(g) = guild {
        s.channel_guilds.insert(mid, g);
    }
    s.threads.insert(mid, t.clone());
    delivery::mark_thread_start(s, mid, &t);
    (201, Vec::new(), Some(t))
}

/// `GET /channels/{id}`: a text channel of its server, age-restricted when a test said so.
fn channel_info(s: &Inner, id: u64) -> Answer {
    let guild = s.channel_guilds.get(&id).copied().unwrap_or(0);
    ok(objects::text_channel(
        id,
        guild,
        s.nsfw_channels.contains(&id),
    ))
}

/// `POST /users/@me/channels`: the DM channel with a user, the same one each time.
fn dm_channel(s: &mut Inner, body: &Value) -> Answer {
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

/// `GET /applications/{app}(/guilds/{guild})/commands`.
fn registered(s: &Inner, guild: Option<u64>) -> Answer {
    ok(json!(s.commands.get(&guild).cloned().unwrap_or_default()))
}

fn unknown(s: &mut Inner, r: &Request) -> Answer {
    s.violation(
        &r.method,
        &r.path,
        "unknown route: the double does not implement it",
    );
    err(404, 0, "404: Not Found")
}

/// `PUT .../commands`: replaces the registered commands of a scope.
fn overwrite_commands(s: &mut Inner, r: &Request, guild: Option<u64>) -> Answer {
    let problems = validate::commands(r.body());
    if !problems.is_empty() {
        check(s, r, problems);
        return err(400, 50035, "Invalid Form Body");
    }
    let list: Vec<Value> = r
        .body()
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

/// `POST /interactions/{id}/{token}/callback`, or the body of the bot's HTTP response to an
/// interaction delivered to its endpoint: the initial response, within Discord's 3 s.
pub(super) fn interaction_callback(s: &mut Inner, token: &str, body: &Value) -> Answer {
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
