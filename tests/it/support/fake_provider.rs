//! A stateful fake of the Seedance provider on 127.0.0.1.
//!
//! It serves the two endpoints the client uses, with the provider's envelope
//! `{"code","msg","data"}`:
//! - `POST /api/v1/jobs/createTask` checks the model id (422 otherwise) and the prompt length,
//!   stores the body and answers a new id `task_fake_0001`, `task_fake_0002`, ...
//! - `GET /api/v1/jobs/recordInfo?taskId=..` answers the task's current [`Step`] and moves it
//!   one step along its script (staying on the last). The default script is
//!   `waiting -> generating -> success` with one URL `https://results.fake.test/<id>.mp4`.
//!
//! How to drive it:
//! - [`FakeProvider::push`] / [`FakeProvider::push_n`] queue [`Scripted`] answers for the
//!   next calls of an endpoint (any status and body, `Retry-After`, a delay). A scripted
//!   answer replaces the call entirely: no task is made, no task moves.
//! - [`FakeProvider::set_task_state`], [`FakeProvider::set_task_script`] and
//!   [`FakeProvider::set_default_script`] decide what tasks report; [`FakeProvider::add_task`]
//!   makes a task without a createTask call.
//! - [`FakeProvider::set_unknown_for`] / [`FakeProvider::set_new_tasks_unknown_for`] make a
//!   task answer 404 to its first K recordInfo calls (as a fresh task sometimes does).
//! - [`FakeProvider::require_api_key`] answers `{"code":401}` inside HTTP 200 (as the real
//!   provider has been seen to) to any other Bearer token.
//! - [`FakeProvider::requests`] lists every call with its body, headers and arrival time
//!   (both `tokio::time::Instant` and `std::time::Instant`); [`FakeProvider::count`] and
//!   [`FakeProvider::max_in_window`] count calls and rates.
//!
//! The server runs on the runtime that started it and stops when the `FakeProvider` drops.
#![allow(dead_code)] // Not every test binary module uses every knob.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The model id the fake accepts (the provider's exact public id).
pub const MODEL: &str = "seedance-2.0-reference-to-video";

/// The fake's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    CreateTask,
    RecordInfo,
}

/// One scripted answer: any HTTP status, any body, an optional `Retry-After`, an optional
/// delay before answering (to provoke client timeouts).
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
    pub delay: Option<Duration>,
}

impl Scripted {
    /// A raw body (need not be JSON) with this HTTP status.
    pub fn raw(status: u16, body: impl Into<String>) -> Self {
        Scripted {
            status,
            body: body.into(),
            retry_after: None,
            delay: None,
        }
    }

    /// A JSON body with this HTTP status.
    pub fn json(status: u16, body: Value) -> Self {
        Self::raw(status, body.to_string())
    }

    /// HTTP `code` carrying the envelope `{"code": code, "msg": msg, "data": null}`.
    pub fn error(code: u16, msg: &str) -> Self {
        Self::json(code, json!({"code": code, "msg": msg, "data": null}))
    }

    /// HTTP 200 carrying an error `code` in the envelope (the provider does this).
    pub fn error_in_200(code: u16, msg: &str) -> Self {
        Self::json(200, json!({"code": code, "msg": msg, "data": null}))
    }

    /// A success envelope around `data`.
    pub fn ok(data: Value) -> Self {
        Self::json(200, json!({"code": 200, "msg": "success", "data": data}))
    }

    /// Adds a `Retry-After` header (seconds or an HTTP date, sent as given).
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    /// Waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// What a task reports on one recordInfo call.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The `state` string, sent as is (so unknown states can be tested).
    pub state: String,
    /// `resultJson.resultUrls`; `{id}` in a URL is replaced by the task id.
    pub result_urls: Vec<String>,
    /// `failCode`, any JSON (string, number, null).
    pub fail_code: Value,
    pub fail_msg: Option<String>,
}

impl Step {
    pub fn state(state: &str) -> Self {
        Step {
            state: state.into(),
            result_urls: Vec::new(),
            fail_code: Value::Null,
            fail_msg: None,
        }
    }
    pub fn waiting() -> Self {
        Self::state("waiting")
    }
    pub fn queuing() -> Self {
        Self::state("queuing")
    }
    pub fn generating() -> Self {
        Self::state("generating")
    }
    pub fn success<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Self {
        Step {
            result_urls: urls.into_iter().map(Into::into).collect(),
            ..Self::state("success")
        }
    }
    pub fn fail(code: impl Into<Value>, msg: &str) -> Self {
        Step {
            fail_code: code.into(),
            fail_msg: Some(msg.into()),
            ..Self::state("fail")
        }
    }
}

/// How `resultJson` is sent: as a JSON-encoded string (the provider's habit) or an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultJsonStyle {
    String,
    Object,
}

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub endpoint: Endpoint,
    /// The `taskId` query parameter (recordInfo).
    pub task_id: Option<String>,
    /// The body as JSON, when it was JSON.
    pub body: Option<Value>,
    pub raw_body: String,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
    pub at: tokio::time::Instant,
    pub at_std: std::time::Instant,
}

#[derive(Debug)]
struct Task {
    request: Value,
    script: Vec<Step>,
    position: usize,
    unknown_for: u32,
    status_calls: u32,
    create_time: i64,
}

#[derive(Debug)]
struct Inner {
    tasks: HashMap<String, Task>,
    created: Vec<String>,
    next_id: u64,
    queued: HashMap<Endpoint, VecDeque<Scripted>>,
    default_script: Vec<Step>,
    new_tasks_unknown_for: u32,
    requests: Vec<RecordedRequest>,
    api_key: Option<String>,
    result_style: ResultJsonStyle,
    /// Answers of these endpoints wait for a permit before they are sent.
    gates: HashMap<Endpoint, Arc<tokio::sync::Semaphore>>,
    /// Answers sent, per endpoint.
    answered: HashMap<Endpoint, usize>,
    /// How long a createTask that makes a task takes to answer.
    create_delay: Option<Duration>,
}

/// The running fake. See the module documentation for how to script it.
pub struct FakeProvider {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeProvider {
    /// Starts the fake on `127.0.0.1:0` on the current tokio runtime.
    pub async fn start() -> FakeProvider {
        let inner = Arc::new(Mutex::new(Inner {
            tasks: HashMap::new(),
            created: Vec::new(),
            next_id: 1,
            queued: HashMap::new(),
            default_script: vec![
                Step::waiting(),
                Step::generating(),
                Step::success(["https://results.fake.test/{id}.mp4"]),
            ],
            new_tasks_unknown_for: 0,
            requests: Vec::new(),
            api_key: None,
            result_style: ResultJsonStyle::String,
            gates: HashMap::new(),
            answered: HashMap::new(),
            create_delay: None,
        }));
        let app = Router::new()
            .route("/api/v1/jobs/createTask", post(create_task))
            .route("/api/v1/jobs/recordInfo", get(record_info))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake provider");
        let addr = listener.local_addr().expect("fake provider address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeProvider {
            inner,
            addr,
            server,
        }
    }

    /// `http://127.0.0.1:<port>`, for `seedance.base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds every answer of `endpoint` (decided when the call arrives) until
    /// [`FakeProvider::release`]: the way to make an answer arrive late on purpose.
    pub fn hold(&self, endpoint: Endpoint) {
        self.lock()
            .gates
            .insert(endpoint, Arc::new(tokio::sync::Semaphore::new(0)));
    }

    /// Every createTask that makes a task answers only after `delay`.
    pub fn set_create_delay(&self, delay: Duration) {
        self.lock().create_delay = Some(delay);
    }

    /// Lets every held answer of `endpoint` go, and holds no more.
    pub fn release(&self, endpoint: Endpoint) {
        if let Some(gate) = self.lock().gates.remove(&endpoint) {
            gate.close();
        }
    }

    /// How many answers of `endpoint` were sent back (held ones count once sent).
    pub fn answered(&self, endpoint: Endpoint) -> usize {
        self.lock().answered.get(&endpoint).copied().unwrap_or(0)
    }

    /// Queues an answer for the next call of `endpoint` (first in, first out).
    pub fn push(&self, endpoint: Endpoint, answer: Scripted) {
        self.lock()
            .queued
            .entry(endpoint)
            .or_default()
            .push_back(answer);
    }

    /// Queues the same answer for the next `n` calls of `endpoint`.
    pub fn push_n(&self, endpoint: Endpoint, n: usize, answer: Scripted) {
        for _ in 0..n {
            self.push(endpoint, answer.clone());
        }
    }

    /// Answers `{"code":401}` in HTTP 200 to any Bearer token but this one.
    pub fn require_api_key(&self, key: &str) {
        self.lock().api_key = Some(key.into());
    }

    pub fn set_result_json_style(&self, style: ResultJsonStyle) {
        self.lock().result_style = style;
    }

    /// The script every task made from now on follows.
    pub fn set_default_script(&self, script: Vec<Step>) {
        assert!(!script.is_empty(), "a script needs at least one step");
        self.lock().default_script = script;
    }

    /// Tasks made from now on answer 404 to their first `k` recordInfo calls.
    pub fn set_new_tasks_unknown_for(&self, k: u32) {
        self.lock().new_tasks_unknown_for = k;
    }

    /// Makes a task as if createTask had been called (with an empty request).
    pub fn add_task(&self, id: &str, script: Vec<Step>) {
        assert!(!script.is_empty(), "a script needs at least one step");
        self.lock().tasks.insert(
            id.into(),
            Task {
                request: json!({}),
                script,
                position: 0,
                unknown_for: 0,
                status_calls: 0,
                create_time: now_millis(),
            },
        );
    }

    /// From now on the task reports exactly `step`.
    pub fn set_task_state(&self, id: &str, step: Step) {
        self.set_task_script(id, vec![step]);
    }

    /// From now on the task follows `script` from its first step.
    pub fn set_task_script(&self, id: &str, script: Vec<Step>) {
        assert!(!script.is_empty(), "a script needs at least one step");
        let mut inner = self.lock();
        let task = inner.tasks.get_mut(id).expect("no such fake task");
        task.script = script;
        task.position = 0;
    }

    /// The task answers 404 to its next `k` recordInfo calls.
    pub fn set_unknown_for(&self, id: &str, k: u32) {
        let mut inner = self.lock();
        let task = inner.tasks.get_mut(id).expect("no such fake task");
        task.unknown_for = k;
    }

    /// Every call so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The calls so far to one endpoint.
    pub fn requests_to(&self, endpoint: Endpoint) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .cloned()
            .collect()
    }

    /// How many calls `endpoint` has had.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .count()
    }

    /// When each call to `endpoint` arrived, oldest first (for a failing assertion to show).
    pub fn arrivals(&self, endpoint: Endpoint) -> Vec<tokio::time::Instant> {
        self.requests_to(endpoint).iter().map(|r| r.at).collect()
    }

    /// The most calls to `endpoint` that arrived within any `window` (by wall clock).
    pub fn max_in_window(&self, endpoint: Endpoint, window: Duration) -> usize {
        let times: Vec<std::time::Instant> = self
            .requests_to(endpoint)
            .iter()
            .map(|r| r.at_std)
            .collect();
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end].duration_since(times[start]) >= window {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    /// Forgets the calls recorded so far (tasks and scripts stay).
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Ids of the tasks made through createTask, in order.
    pub fn created_task_ids(&self) -> Vec<String> {
        self.lock().created.clone()
    }

    /// The createTask body that made a task.
    pub fn task_request(&self, id: &str) -> Option<Value> {
        self.lock().tasks.get(id).map(|t| t.request.clone())
    }

    /// How many recordInfo calls a task has had (404s included).
    pub fn status_calls(&self, id: &str) -> u32 {
        self.lock().tasks.get(id).map_or(0, |t| t.status_calls)
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

type Shared = Arc<Mutex<Inner>>;

/// Records the call, then takes a queued answer or checks the key.
fn arrive(
    inner: &mut Inner,
    endpoint: Endpoint,
    task_id: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Scripted> {
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header(header::AUTHORIZATION);
    inner.requests.push(RecordedRequest {
        endpoint,
        task_id,
        body: serde_json::from_slice(body).ok(),
        raw_body: String::from_utf8_lossy(body).into_owned(),
        authorization: authorization.clone(),
        user_agent: header(header::USER_AGENT),
        content_type: header(header::CONTENT_TYPE),
        at: tokio::time::Instant::now(),
        at_std: std::time::Instant::now(),
    });
    if let Some(answer) = inner
        .queued
        .get_mut(&endpoint)
        .and_then(VecDeque::pop_front)
    {
        return Some(answer);
    }
    match &inner.api_key {
        Some(key) if authorization.as_deref() != Some(&format!("Bearer {key}")) => {
            Some(Scripted::error_in_200(401, "Invalid API key"))
        }
        _ => None,
    }
}

async fn respond(answer: Scripted) -> Response {
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, answer.body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(value) = answer
        .retry_after
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn create_task(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = {
        let mut inner = shared.lock().unwrap_or_else(|p| p.into_inner());
        match arrive(&mut inner, Endpoint::CreateTask, None, &headers, &body) {
            Some(answer) => answer,
            None => Scripted {
                delay: inner.create_delay,
                ..make_task(&mut inner, &body)
            },
        }
    };
    answer_after_gate(&shared, Endpoint::CreateTask, answer).await
}

/// Waits at the endpoint's gate if it is held, then answers and counts the answer.
async fn answer_after_gate(shared: &Shared, endpoint: Endpoint, answer: Scripted) -> Response {
    let gate = {
        let inner = shared.lock().unwrap_or_else(|p| p.into_inner());
        inner.gates.get(&endpoint).cloned()
    };
    if let Some(gate) = gate {
        // Closed on release: every waiter goes on.
        let _ = gate.acquire().await;
    }
    let response = respond(answer).await;
    let mut inner = shared.lock().unwrap_or_else(|p| p.into_inner());
    *inner.answered.entry(endpoint).or_default() += 1;
    response
}

fn make_task(inner: &mut Inner, body: &Bytes) -> Scripted {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Scripted::error(400, "request body is not JSON");
    };
    if request.get("model").and_then(Value::as_str) != Some(MODEL) {
        return Scripted::error(422, "model must be exactly seedance-2.0-reference-to-video");
    }
    let Some(input) = request.get("input").filter(|i| i.is_object()) else {
        return Scripted::error(422, "input is required");
    };
    let prompt_chars = input
        .get("prompt")
        .and_then(Value::as_str)
        .map_or(0, |p| p.chars().count());
    if prompt_chars > 20_000 {
        return Scripted::error(422, "prompt is longer than 20000 characters");
    }
    let id = format!("task_fake_{:04}", inner.next_id);
    inner.next_id += 1;
    let script = inner.default_script.clone();
    inner.tasks.insert(
        id.clone(),
        Task {
            request,
            script,
            position: 0,
            unknown_for: inner.new_tasks_unknown_for,
            status_calls: 0,
            create_time: now_millis(),
        },
    );
    inner.created.push(id.clone());
    Scripted::ok(json!({ "taskId": id }))
}

async fn record_info(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let task_id = query.get("taskId").cloned();
    let answer = {
        let mut inner = shared.lock().unwrap_or_else(|p| p.into_inner());
        match arrive(
            &mut inner,
            Endpoint::RecordInfo,
            task_id.clone(),
            &headers,
            &Bytes::new(),
        ) {
            Some(answer) => answer,
            None => describe_task(&mut inner, task_id.as_deref().unwrap_or("")),
        }
    };
    answer_after_gate(&shared, Endpoint::RecordInfo, answer).await
}

fn describe_task(inner: &mut Inner, id: &str) -> Scripted {
    let style = inner.result_style;
    let Some(task) = inner.tasks.get_mut(id) else {
        return Scripted::error(404, "task not found");
    };
    task.status_calls += 1;
    if task.unknown_for > 0 {
        task.unknown_for -= 1;
        return Scripted::error(404, "task not found");
    }
    let step = task.script[task.position.min(task.script.len() - 1)].clone();
    task.position = (task.position + 1).min(task.script.len() - 1);
    let terminal = matches!(step.state.as_str(), "success" | "fail");
    let result_json = if step.result_urls.is_empty() {
        Value::Null
    } else {
        let urls: Vec<String> = step
            .result_urls
            .iter()
            .map(|u| u.replace("{id}", id))
            .collect();
        let object = json!({ "resultUrls": urls });
        match style {
            ResultJsonStyle::String => Value::String(object.to_string()),
            ResultJsonStyle::Object => object,
        }
    };
    let now = now_millis();
    Scripted::ok(json!({
        "taskId": id,
        "model": MODEL,
        "state": step.state,
        "param": task.request.to_string(),
        "resultJson": result_json,
        "failCode": step.fail_code,
        "failMsg": step.fail_msg,
        "costTime": if terminal { json!(now - task.create_time) } else { Value::Null },
        "completeTime": if terminal { json!(now) } else { Value::Null },
        "createTime": task.create_time,
    }))
}
