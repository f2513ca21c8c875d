//! Every documented error code, quirks of the envelope, timeouts, and the key never showing.

use std::time::{Duration, SystemTime};

use seedance_bot::seedance::{SeedanceError, TaskId, TaskInput};

use super::{KEY, client, client_with_timeout};
use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted};

fn input() -> TaskInput {
    TaskInput {
        prompt: Some("a cat".into()),
        ..TaskInput::default()
    }
}

/// The variant's name, for table-driven comparison.
fn kind(e: &SeedanceError) -> &'static str {
    match e {
        SeedanceError::InvalidInput(_) => "InvalidInput",
        SeedanceError::Config(_) => "Config",
        SeedanceError::InvalidRequest { .. } => "InvalidRequest",
        SeedanceError::Auth { .. } => "Auth",
        SeedanceError::OutOfCredits { .. } => "OutOfCredits",
        SeedanceError::NotFound { .. } => "NotFound",
        SeedanceError::Busy { .. } => "Busy",
        SeedanceError::RateLimited { .. } => "RateLimited",
        SeedanceError::ProviderFault { .. } => "ProviderFault",
        SeedanceError::Transport(_) => "Transport",
        SeedanceError::Unreachable(_) => "Unreachable",
        SeedanceError::Timeout => "Timeout",
        SeedanceError::Malformed(_) => "Malformed",
    }
}

const DOCUMENTED: [(u16, &str, bool); 11] = [
    (400, "InvalidRequest", false),
    (401, "Auth", false),
    (402, "OutOfCredits", false),
    (404, "NotFound", false),
    (409, "Busy", true),
    (422, "InvalidRequest", false),
    (429, "RateLimited", true),
    (455, "ProviderFault", true),
    (500, "ProviderFault", true),
    (501, "ProviderFault", false),
    (505, "ProviderFault", false),
];

#[tokio::test]
async fn every_documented_code_maps_to_its_variant_on_both_endpoints() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    for (code, expected, retryable) in DOCUMENTED {
        let msg = format!("provider says {code}");
        fake.push(Endpoint::CreateTask, Scripted::error(code, &msg));
        fake.push(Endpoint::RecordInfo, Scripted::error(code, &msg));
        let created = client.create_task(&input()).await.unwrap_err();
        let read = client.record_info(&TaskId("t".into())).await.unwrap_err();
        for err in [created, read] {
            assert_eq!(kind(&err), expected, "{code}: {err:?}");
            assert_eq!(err.retryable(), retryable, "{code}: {err:?}");
            assert!(err.to_string().contains(&msg), "{code}: {err}");
            assert!(!err.advice().is_empty());
        }
    }
}

#[tokio::test]
async fn error_statuses_without_an_envelope_are_classified_by_http_status() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    for (code, expected, retryable) in DOCUMENTED {
        fake.push(
            Endpoint::RecordInfo,
            Scripted::raw(code, "<html>oops</html>"),
        );
        let err = client.record_info(&TaskId("t".into())).await.unwrap_err();
        assert_eq!(kind(&err), expected, "{code}: {err:?}");
        assert_eq!(err.retryable(), retryable, "{code}");
    }
    fake.push(Endpoint::RecordInfo, Scripted::raw(502, ""));
    let err = client.record_info(&TaskId("t".into())).await.unwrap_err();
    assert_eq!(kind(&err), "ProviderFault");
    assert!(err.retryable());
}

#[tokio::test]
async fn an_error_code_inside_http_200_is_an_error() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    fake.push(
        Endpoint::CreateTask,
        Scripted::error_in_200(401, "Invalid API key"),
    );
    let err = client.create_task(&input()).await.unwrap_err();
    assert_eq!(
        err,
        SeedanceError::Auth {
            message: "Invalid API key".into()
        }
    );
    assert_eq!(err.advice(), "check SEEDANCE_API_KEY");
    assert_eq!(
        format!("{err}: {}", err.advice()),
        "the API key was rejected (Invalid API key): check SEEDANCE_API_KEY"
    );
    fake.push(
        Endpoint::CreateTask,
        Scripted::error_in_200(402, "Insufficient credits"),
    );
    let err = client.create_task(&input()).await.unwrap_err();
    assert_eq!(kind(&err), "OutOfCredits");
    fake.push(
        Endpoint::RecordInfo,
        Scripted::error_in_200(429, "slow down"),
    );
    let err = client.record_info(&TaskId("t".into())).await.unwrap_err();
    assert_eq!(kind(&err), "RateLimited");
}

#[tokio::test]
async fn retry_after_is_honoured_in_seconds_or_as_a_date() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    let id = TaskId("t".into());
    fake.push(
        Endpoint::RecordInfo,
        Scripted::error(429, "slow").retry_after("7"),
    );
    let err = client.record_info(&id).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.retryable() && err.resubmit_safe());

    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    fake.push(
        Endpoint::RecordInfo,
        Scripted::error(429, "slow").retry_after(date),
    );
    let wait = client
        .record_info(&id)
        .await
        .unwrap_err()
        .retry_after()
        .unwrap();
    assert!(
        (Duration::from_secs(110)..=Duration::from_secs(120)).contains(&wait),
        "{wait:?}"
    );

    fake.push(Endpoint::RecordInfo, Scripted::error(429, "slow"));
    let err = client.record_info(&id).await.unwrap_err();
    assert_eq!(kind(&err), "RateLimited");
    assert_eq!(err.retry_after(), None);
    assert!(err.retryable());
}

#[tokio::test]
async fn malformed_answers_are_malformed_not_panics() {
    let fake = FakeProvider::start().await;
    let client = client(&fake);
    let id = TaskId("t".into());
    for body in [
        "{not json",
        "",
        "[]",
        r#"{"code":200,"msg":"success"}"#,
        r#"{"code":200,"data":null}"#,
        r#"{"code":200,"data":{"taskId":"t"}}"#,
        r#"{"code":200,"data":"text"}"#,
        r#"{"msg":"no code"}"#,
    ] {
        fake.push(Endpoint::RecordInfo, Scripted::raw(200, body));
        let err = client.record_info(&id).await.unwrap_err();
        assert_eq!(kind(&err), "Malformed", "{body}: {err:?}");
        assert!(!err.retryable());
    }
    fake.push(
        Endpoint::CreateTask,
        Scripted::ok(serde_json::json!({"id": "x"})),
    );
    let err = client.create_task(&input()).await.unwrap_err();
    assert_eq!(kind(&err), "Malformed", "{err:?}");
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let fake = FakeProvider::start().await;
    let client = client_with_timeout(&fake, Duration::from_millis(200));
    fake.push(
        Endpoint::RecordInfo,
        Scripted::error(200, "late").delay(Duration::from_secs(3)),
    );
    let started = std::time::Instant::now();
    let err = client.record_info(&TaskId("t".into())).await.unwrap_err();
    assert_eq!(err, SeedanceError::Timeout);
    assert!(err.retryable() && !err.resubmit_safe());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_an_unreachable_error_without_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = seedance_bot::config::Config::from_toml(&format!(
        "[seedance]\nbase_url = \"http://127.0.0.1:{port}\"\napi_key = \"{KEY}\"\n"
    ))
    .unwrap();
    let client = seedance_bot::seedance::SeedanceClient::new(&config.seedance).unwrap();
    let err = client.record_info(&TaskId("t".into())).await.unwrap_err();
    // Refused before anything was sent: proven safe to send createTask again.
    assert_eq!(kind(&err), "Unreachable", "{err:?}");
    assert!(err.retryable());
    assert!(err.resubmit_safe());
    assert!(!err.to_string().contains("taskId"), "{err}");
}

#[tokio::test]
async fn the_key_never_shows_in_debug_display_or_echoed_messages() {
    let fake = FakeProvider::start().await;
    let client = client_with_timeout(&fake, Duration::from_millis(200));
    assert!(!format!("{client:?}").contains(KEY), "{client:?}");

    let echo = format!("key {KEY} is not valid");
    fake.push(Endpoint::CreateTask, Scripted::error_in_200(401, &echo));
    fake.push(Endpoint::RecordInfo, Scripted::raw(500, echo.clone()));
    fake.push(Endpoint::RecordInfo, Scripted::raw(200, echo.clone()));
    fake.push(
        Endpoint::RecordInfo,
        Scripted::error(200, "late").delay(Duration::from_secs(1)),
    );
    let mut errors = vec![client.create_task(&input()).await.unwrap_err()];
    for _ in 0..3 {
        errors.push(client.record_info(&TaskId("t".into())).await.unwrap_err());
    }
    for err in &errors {
        for text in [
            format!("{err}"),
            format!("{err:?}"),
            err.advice().to_string(),
        ] {
            assert!(!text.contains(KEY), "{text}");
            assert!(!text.contains("SECRET"), "{text}");
        }
    }
    assert!(
        errors[0].to_string().contains("[redacted]"),
        "{}",
        errors[0]
    );
}

#[tokio::test]
async fn a_client_without_a_key_is_refused() {
    let config = seedance_bot::config::Config::defaults();
    let err = seedance_bot::seedance::SeedanceClient::new(&config.seedance).unwrap_err();
    assert_eq!(kind(&err), "Config");
    assert!(err.to_string().contains("SEEDANCE_API_KEY"), "{err}");
}
