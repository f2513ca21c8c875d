//! The operator's endpoint: /healthz reflects the gateway, the store and the provider;
//! /metrics renders counters the bot really recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use seedance_bot::config::Config;
use seedance_bot::http::{self, Health};
use seedance_bot::jobs::Provider;
use seedance_bot::seedance::{TaskId, TaskInput};

use crate::support::fake_provider::{Endpoint, FakeProvider, Scripted};

/// The endpoint's base URL, the sender that stops it, and the server task.
type Started = (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

async fn start(health: Arc<Health>, db: sled::Db) -> Started {
    let listener = http::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(http::serve(listener, health, db.into(), async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop, server)
}

async fn healthz(base: &str) -> (u16, serde_json::Value) {
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

fn open_store(dir: &tempfile::TempDir) -> sled::Db {
    seedance_bot::store::open(dir.path()).unwrap()
}

#[tokio::test]
async fn healthz_reports_each_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_store(&dir);
    let health = Arc::new(Health::default());
    let (base, _stop, _server) = start(health.clone(), db).await;

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

/// A monitor polling `/healthz` costs no store write (and so no fsync) per request: the
/// answer is the periodic probe's.
#[tokio::test]
async fn healthz_does_not_write_the_store_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_store(&dir);
    let health = Arc::new(Health::default().with_store_probe_every(Duration::from_secs(3600)));
    let (base, _stop, _server) = start(health, db.clone()).await;
    assert_eq!(healthz(&base).await.1["checks"]["store"]["ok"], true);

    let meta = db.open_tree("meta").unwrap();
    let mut writes = meta.watch_prefix(b"health_probe");
    for _ in 0..5 {
        let (_, body) = healthz(&base).await;
        assert_eq!(body["checks"]["store"]["ok"], true, "{body}");
    }
    let mut seen = 0;
    while writes.next_timeout(Duration::from_millis(100)).is_ok() {
        seen += 1;
    }
    assert_eq!(
        seen, 0,
        "/healthz wrote the store {seen} times for 5 requests"
    );
    // The watch does see a write of the probe key.
    meta.insert(b"health_probe", &[0u8; 8]).unwrap();
    assert!(writes.next_timeout(Duration::from_secs(5)).is_ok());
}

/// A store check older than three probe intervals (a probe stuck on the disk) fails the
/// health check; stopping the server stops the probe.
#[tokio::test]
async fn a_stale_store_check_fails_and_the_probe_stops_with_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_store(&dir);
    let now = Arc::new(AtomicI64::new(1_700_000_000_000));
    let read = now.clone();
    let health = Arc::new(
        Health::default()
            .with_clock(Arc::new(move || read.load(Ordering::SeqCst)))
            .with_store_probe_every(Duration::from_secs(3600)),
    );
    health.set_gateway_connected(true);
    let (base, stop, server) = start(health.clone(), db).await;
    assert_eq!(healthz(&base).await.0, 200);

    now.fetch_add(3 * 3600 * 1000 + 1000, Ordering::SeqCst);
    let (status, body) = healthz(&base).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["store"]["ok"], false, "{body}");
    let why = body["checks"]["store"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("10801 s ago"), "{body}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(
        Arc::strong_count(&health),
        1,
        "the probe still holds the health state after the server stopped"
    );
}

#[tokio::test]
async fn metrics_show_provider_calls_by_endpoint_and_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_store(&dir);
    let health = Arc::new(Health::default());
    let (base, _stop, _server) = start(health.clone(), db).await;

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
