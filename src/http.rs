//! The operator's HTTP endpoint on `http.listen`: `/healthz` (JSON, 200 or 503) and
//! `/metrics` (Prometheus text, rendered by the `metrics` exporter).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::clock::now_ms;

/// How long the provider may go without a successful call, while calls fail, before the
/// bot calls itself unhealthy.
pub const PROVIDER_GRACE: Duration = Duration::from_secs(300);

/// What `/healthz` looks at. Shared by the parts that know: the gateway handler sets
/// `gateway`, the provider wrapper records calls, the store is probed on each request.
#[derive(Debug)]
pub struct Health {
    gateway: AtomicBool,
    /// Set once at the shutdown signal: new interactions are turned away from then on.
    draining: AtomicBool,
    provider_ok_at: AtomicI64,
    provider_err_at: AtomicI64,
    started_at: i64,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            gateway: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            provider_ok_at: AtomicI64::new(0),
            provider_err_at: AtomicI64::new(0),
            started_at: now_ms(),
        }
    }
}

impl Health {
    pub fn set_gateway_connected(&self, connected: bool) {
        self.gateway.store(connected, Ordering::Relaxed);
    }

    /// The bot is stopping: it answers new interactions with "restarting" and reports
    /// itself unhealthy so that nothing routes new work to it.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn provider_answered(&self, ok: bool) {
        let slot = if ok {
            &self.provider_ok_at
        } else {
            &self.provider_err_at
        };
        slot.store(now_ms(), Ordering::Relaxed);
    }

    /// The provider is fine unless its calls have been failing for longer than the grace.
    fn provider_ok(&self) -> bool {
        let ok_at = self.provider_ok_at.load(Ordering::Relaxed);
        let err_at = self.provider_err_at.load(Ordering::Relaxed);
        let grace = PROVIDER_GRACE.as_millis() as i64;
        !(err_at > ok_at && now_ms() - ok_at.max(self.started_at) > grace)
    }
}

/// Installs the global metrics recorder once and returns the handle that renders it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // A recorder set elsewhere first (tests) keeps working; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

#[derive(Clone)]
struct AppState {
    health: Arc<Health>,
    db: sled::Db,
    metrics: PrometheusHandle,
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    health: Arc<Health>,
    db: sled::Db,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState {
        health,
        db,
        metrics: metrics_handle(),
    };
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(render_metrics))
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `http.listen`.
pub async fn bind(listen: &str) -> std::io::Result<tokio::net::TcpListener> {
    let addr: SocketAddr = listen.parse().map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("http.listen `{listen}`: {e}"),
        )
    })?;
    tokio::net::TcpListener::bind(addr).await
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let gateway = state.health.gateway.load(Ordering::Relaxed);
    let store = probe_store(&state.db).await;
    let provider = state.health.provider_ok();
    let draining = state.health.draining();
    let healthy = gateway && store.is_ok() && provider && !draining;
    let status = match (healthy, draining) {
        (true, _) => "ok",
        (false, true) => "draining",
        (false, false) => "unhealthy",
    };
    let body = json!({
        "status": status,
        "checks": {
            "gateway": { "ok": gateway },
            "store": { "ok": store.is_ok(), "error": store.err() },
            "provider": { "ok": provider },
        }
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body))
}

/// Writes and flushes a probe key: the store is writable only if both succeed.
async fn probe_store(db: &sled::Db) -> Result<(), String> {
    let tree = db.open_tree("meta").map_err(|e| e.to_string())?;
    tree.insert(b"health_probe", &now_ms().to_be_bytes())
        .map_err(|e| e.to_string())?;
    crate::store::flush(db).await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
