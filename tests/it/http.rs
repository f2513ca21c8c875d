//! The operator's endpoint: /healthz reflects the gateway, the store and the provider;
//! /metrics renders counters the bot really recorded.

use std::sync::Arc;

use seedance_bot::config::Config;
use seedance_bot::http::{self, Health};
use seedance_bot::jobs::Provider;
use seedance_bot::seedance::{TaskId, TaskInput};

use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted};

async fn start(health: Arc<Health>, db: sled::Db) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = http::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(http::serve(listener, health, db, async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
}

#[tokio::test]
async fn healthz_reports_each_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = seedance_bot::store::open(dir.path()).unwrap();
    let health = Arc::new(Health::default());
    let (base, _stop) = start(health.clone(), db).await;

    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(res.status(), 503, "not connected to the gateway yet");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["gateway"]["ok"], false);
    assert_eq!(body["checks"]["store"]["ok"], true);
    assert_eq!(body["checks"]["provider"]["ok"], true);

    health.set_gateway_connected(true);
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    // Once the bot drains, monitoring sees it as not ready for new work.
    health.start_draining();
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "draining"
    );
}

#[tokio::test]
async fn metrics_show_provider_calls_by_endpoint_and_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let db = seedance_bot::store::open(dir.path()).unwrap();
    let health = Arc::new(Health::default());
    let (base, _stop) = start(health.clone(), db).await;

    let fake = FakeProvider::start().await;
    fake.push(Endpoint::RecordInfo, Scripted::error(429, "slow down"));
    let config = Config::from_toml(&format!(
        "[seedance]\napi_key = \"sk-metrics\"\nbase_url = \"{}\"\n",
        fake.base_url()
    ))
    .unwrap();
    let provider = Provider::from_config(&config.seedance)
        .unwrap()
        .with_health(health);
    let task = provider
        .create_task(&TaskInput {
            prompt: Some("a kite".into()),
            ..TaskInput::default()
        })
        .await
        .unwrap();
    assert!(provider.record_info(&task).await.is_err());
    assert!(provider.record_info(&TaskId("nope".into())).await.is_err());

    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |needle: &str| {
        text.lines()
            .any(|l| l.starts_with("seedance_provider_calls_total") && l.contains(needle))
    };
    assert!(has(r#"endpoint="createTask",outcome="ok""#), "{text}");
    assert!(
        has(r#"endpoint="recordInfo",outcome="rate_limited""#),
        "{text}"
    );
    assert!(
        has(r#"endpoint="recordInfo",outcome="not_found""#),
        "{text}"
    );
}
