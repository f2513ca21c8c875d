//! What the client sends and gets back: the task input, task ids, states and records, and
//! the tolerant parsing of the provider's `{"code","msg","data"}` envelope.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;
use serde_json::Value;

use super::error::{MAX_MESSAGE_CHARS, SeedanceError, clip};
use crate::video::{Ratio, Resolution};

/// The provider's limit on `prompt`, in characters.
pub const MAX_PROMPT_CHARS: usize = 20_000;

/// A provider task id, as returned by `createTask`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub String);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `input` object of `createTask`: every field of the provider page. Unset and empty
/// fields are left out of the JSON, so the provider applies its own defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskInput {
    /// At most [`MAX_PROMPT_CHARS`] characters; checked by [`TaskInput::validate`].
    #[serde(skip_serializing_if = "prompt_is_empty")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_image_urls: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_video_urls: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_audio_urls: Vec<String>,
    /// The output ratio. Set this one: when both are sent, the provider uses `ratio`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<Ratio>,
    /// The provider's convenience alias of `ratio`; sent only when set explicitly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<Ratio>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// Seconds of output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_audio: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_search: Option<bool>,
    /// The provider's default is `false`, which turns its content filter off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsfw_checker: Option<bool>,
}

fn prompt_is_empty(prompt: &Option<String>) -> bool {
    prompt.as_deref().is_none_or(str::is_empty)
}

impl TaskInput {
    /// Checks what the provider would refuse anyway, before anything is spent.
    pub fn validate(&self) -> Result<(), SeedanceError> {
        if let Some(prompt) = &self.prompt {
            let chars = prompt.chars().count();
            if chars > MAX_PROMPT_CHARS {
                return Err(SeedanceError::InvalidInput(format!(
                    "the prompt has {chars} characters; the provider allows at most {MAX_PROMPT_CHARS}"
                )));
            }
        }
        Ok(())
    }
}

/// A task's state upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskState {
    Waiting,
    Queuing,
    Generating,
    Success,
    Fail,
    /// A state this client does not know: treated as still running (logged once per value).
    Other(String),
}

impl TaskState {
    /// Parses the provider's `state`; never fails.
    pub fn parse(text: &str) -> TaskState {
        match text.trim().to_ascii_lowercase().as_str() {
            "waiting" => TaskState::Waiting,
            "queuing" => TaskState::Queuing,
            "generating" => TaskState::Generating,
            "success" => TaskState::Success,
            "fail" => TaskState::Fail,
            _ => {
                let value = clip(text, 64);
                warn_unknown_state_once(&value);
                TaskState::Other(value)
            }
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaskState::Waiting => "waiting",
            TaskState::Queuing => "queuing",
            TaskState::Generating => "generating",
            TaskState::Success => "success",
            TaskState::Fail => "fail",
            TaskState::Other(other) => other,
        }
    }

    /// `success` or `fail`: the task will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TaskState::Success | TaskState::Fail)
    }

    /// Not terminal, including unknown states.
    pub fn is_running(&self) -> bool {
        !self.is_terminal()
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Logs an unknown state the first time it is seen in this process (a bounded set).
fn warn_unknown_state_once(value: &str) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if seen.len() < 64 && seen.insert(value.to_owned()) {
        tracing::warn!(
            state = value,
            "provider reported an unknown task state; treating it as running"
        );
    }
}

/// A task as `recordInfo` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    pub task_id: TaskId,
    pub state: TaskState,
    /// The output videos (usually one), from `resultJson.resultUrls`.
    pub result_urls: Vec<String>,
    /// The provider's failure code, as text whether it came as a string or a number.
    pub fail_code: Option<String>,
    /// The provider's failure message, meant for humans (clipped).
    pub fail_msg: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub create_time: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub complete_time: Option<i64>,
    /// Milliseconds the generation took.
    pub cost_time: Option<i64>,
}

/// The body of a `createTask` call.
#[derive(Debug, Serialize)]
pub(crate) struct CreateTaskRequest<'a> {
    pub model: &'a str,
    pub input: &'a TaskInput,
}

/// The outcome of reading an envelope: its `data`, or the error its code stands for.
///
/// `http_status` is used when the body has no envelope (or an envelope claiming success on
/// an HTTP error); the envelope's own code wins otherwise, even on HTTP 200.
pub(crate) fn open_envelope(
    http_status: u16,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
) -> Result<Value, SeedanceError> {
    let http_ok = (200..300).contains(&http_status);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let envelope = parsed.as_ref().and_then(Value::as_object);
    let code = envelope.and_then(|e| e.get("code")).and_then(code_of);
    let message = envelope
        .and_then(|e| e.get("msg").or_else(|| e.get("message")))
        .and_then(Value::as_str)
        .map(|m| clip(m, MAX_MESSAGE_CHARS))
        .filter(|m| !m.is_empty());

    match code {
        Some(code) if code != 200 => {
            let message = message.unwrap_or_else(|| format!("code {code}"));
            Err(SeedanceError::from_code(code, message, retry_after))
        }
        _ if !http_ok => {
            let message = message.unwrap_or_else(|| describe_raw_body(http_status, body));
            Err(SeedanceError::from_code(http_status, message, retry_after))
        }
        Some(_) => match envelope.and_then(|e| e.get("data")) {
            Some(data) if !data.is_null() => Ok(data.clone()),
            _ => Err(SeedanceError::Malformed(
                "a success answer without `data`".into(),
            )),
        },
        None if parsed.is_none() => Err(SeedanceError::Malformed(format!(
            "the body is not JSON: {}",
            describe_raw_body(http_status, body)
        ))),
        None => Err(SeedanceError::Malformed(
            "the body has no numeric `code`".into(),
        )),
    }
}

/// A code given as a number or a numeric string.
fn code_of(value: &Value) -> Option<u16> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A short description of a body that is not an envelope (an HTML error page, plain text).
fn describe_raw_body(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') {
        format!("HTTP {status}, no details")
    } else {
        format!("HTTP {status}: {}", clip(text, 200))
    }
}

/// Reads the `data` of a `createTask` answer.
pub(crate) fn parse_created(data: &Value) -> Result<TaskId, SeedanceError> {
    data.get("taskId")
        .and_then(text_of)
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .map(TaskId)
        .ok_or_else(|| SeedanceError::Malformed("createTask answer has no `data.taskId`".into()))
}

/// Reads the `data` of a `recordInfo` answer, tolerating the known variations: `resultJson`
/// as a JSON string, an object or null; `failCode` as string, number or null; null times.
/// `asked` fills in a missing `taskId`.
pub(crate) fn parse_record(data: &Value, asked: &TaskId) -> Result<TaskRecord, SeedanceError> {
    if !data.is_object() {
        return Err(SeedanceError::Malformed(
            "recordInfo `data` is not an object".into(),
        ));
    }
    let state = match data.get("state").and_then(Value::as_str) {
        Some(state) => TaskState::parse(state),
        None => {
            return Err(SeedanceError::Malformed(
                "recordInfo answer has no `state`".into(),
            ));
        }
    };
    let task_id = data
        .get("taskId")
        .and_then(text_of)
        .filter(|id| !id.is_empty())
        .map(TaskId)
        .unwrap_or_else(|| asked.clone());
    Ok(TaskRecord {
        task_id,
        state,
        result_urls: data.get("resultJson").map(result_urls).unwrap_or_default(),
        fail_code: data
            .get("failCode")
            .and_then(text_of)
            .map(|c| clip(&c, 64))
            .filter(|c| !c.is_empty()),
        fail_msg: data
            .get("failMsg")
            .and_then(text_of)
            .map(|m| clip(&m, MAX_MESSAGE_CHARS))
            .filter(|m| !m.is_empty()),
        create_time: data.get("createTime").and_then(millis_of),
        complete_time: data.get("completeTime").and_then(millis_of),
        cost_time: data.get("costTime").and_then(millis_of),
    })
}

/// `resultUrls` from `resultJson`, which may be a JSON-encoded string, an object or null.
fn result_urls(result_json: &Value) -> Vec<String> {
    let decoded;
    let object = match result_json {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                decoded = value;
                &decoded
            }
            Err(_) => {
                tracing::warn!("provider sent a resultJson string that is not JSON; ignoring it");
                return Vec::new();
            }
        },
        other => other,
    };
    match object.get("resultUrls") {
        Some(Value::Array(urls)) => urls
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::String(url)) if !url.trim().is_empty() => vec![url.trim().to_owned()],
        _ => Vec::new(),
    }
}

/// A string, or a number written as text.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Milliseconds as an integer, a float or a numeric string.
fn millis_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(data: Value) -> Result<TaskRecord, SeedanceError> {
        parse_record(&data, &TaskId("asked".into()))
    }

    #[test]
    fn empty_input_serializes_to_an_empty_object() {
        let input = TaskInput {
            prompt: Some(String::new()),
            ..TaskInput::default()
        };
        assert_eq!(serde_json::to_value(&input).unwrap(), json!({}));
    }

    #[test]
    fn result_json_as_string_object_or_null() {
        let r = record(json!({"state":"success","resultJson":"{\"resultUrls\":[\"a\",\"b\"]}"}))
            .unwrap();
        assert_eq!(r.result_urls, ["a", "b"]);
        assert_eq!(r.task_id.0, "asked");
        let r = record(json!({"state":"success","resultJson":{"resultUrls":["c"]}})).unwrap();
        assert_eq!(r.result_urls, ["c"]);
        let r = record(json!({"state":"waiting","resultJson":null})).unwrap();
        assert!(r.result_urls.is_empty());
        let r = record(json!({"state":"success","resultJson":"not json"})).unwrap();
        assert!(r.result_urls.is_empty());
    }

    #[test]
    fn fail_code_and_times_are_tolerant() {
        let r = record(json!({"state":"fail","failCode":500,"failMsg":"boom","createTime":1.5e12,"costTime":"12"})).unwrap();
        assert_eq!(r.fail_code.as_deref(), Some("500"));
        assert_eq!(r.fail_msg.as_deref(), Some("boom"));
        assert_eq!(r.create_time, Some(1_500_000_000_000));
        assert_eq!(r.cost_time, Some(12));
        let r = record(json!({"state":"fail","failCode":null,"failMsg":""})).unwrap();
        assert_eq!((r.fail_code, r.fail_msg), (None, None));
    }

    #[test]
    fn envelope_code_wins_over_http_status() {
        let e = open_envelope(200, br#"{"code":401,"msg":"bad key"}"#, None).unwrap_err();
        assert!(matches!(e, SeedanceError::Auth { .. }), "{e:?}");
        let e = open_envelope(200, br#"{"code":"402"}"#, None).unwrap_err();
        assert!(matches!(e, SeedanceError::OutOfCredits { .. }), "{e:?}");
        let e = open_envelope(502, b"<html>bad gateway</html>", None).unwrap_err();
        assert_eq!(
            e,
            SeedanceError::ProviderFault {
                status: 502,
                message: "HTTP 502, no details".into()
            }
        );
        let e = open_envelope(200, br#"{"code":200,"msg":"ok"}"#, None).unwrap_err();
        assert!(matches!(e, SeedanceError::Malformed(_)), "{e:?}");
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// Arbitrary JSON, a few levels deep.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,40}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("code".to_owned()),
                            Just("data".to_owned()),
                            Just("state".to_owned()),
                            Just("resultJson".to_owned()),
                            Just("resultUrls".to_owned()),
                            Just("failCode".to_owned()),
                            Just("createTime".to_owned()),
                            "[a-zA-Z]{1,8}",
                        ],
                        inner
                    ),
                    0..6
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = open_envelope(status, &body, None);
        }

        #[test]
        fn arbitrary_json_never_panics(status in 100u16..600, data in any_json(), result in any_json()) {
            let asked = TaskId("asked".into());
            let mut record = data.clone();
            if let Value::Object(map) = &mut record {
                map.insert("state".into(), json!("success"));
                map.insert("resultJson".into(), Value::String(result.to_string()));
            }
            let _ = parse_record(&record, &asked);
            let _ = parse_record(&data, &asked);
            let _ = parse_created(&data);
            let body = json!({"code": 200, "data": data}).to_string();
            if let Ok(opened) = open_envelope(status, body.as_bytes(), None) {
                let _ = parse_record(&opened, &asked);
            }
        }
    }
}
