//! The operator's HTTP endpoint on `http.listen`: `/healthz` (JSON, 200 or 503) and
//! `/metrics` (Prometheus text, rendered by the `metrics` exporter); with
//! `discord.mode = "http"` also Discord's `POST /interactions` (routes given by
//! `discord::interactions`).
//!
//! The store is not touched by a request: a probe started with the server writes and
//! flushes a key every [`STORE_PROBE_EVERY`] and `/healthz` reports its last result, so a
//! monitor polling often costs no disk syncs and cannot pile up blocking flushes.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::clock::{self, Clock};

/// How long the provider may go without a successful call, while calls fail, before the
/// bot calls itself unhealthy.
pub const PROVIDER_GRACE: Duration = Duration::from_secs(300);

/// How often the store probe writes and flushes its key.
pub const STORE_PROBE_EVERY: Duration = Duration::from_secs(10);

/// What `/healthz` looks at. Shared by the parts that know: the gateway handler sets
/// `gateway`, the provider wrapper records calls, the store probe records its last result.
pub struct Health {
    gateway: AtomicBool,
    /// Interactions come over HTTP: there is no gateway to check.
    http_mode: AtomicBool,
    /// `seedance-bot worker`: no Discord inbound at all, so no gateway to check.
    worker: AtomicBool,
    /// Set once at the shutdown signal: new interactions are turned away from then on.
    draining: AtomicBool,
    provider_ok_at: AtomicI64,
    provider_err_at: AtomicI64,
    started_at: i64,
    /// The last store probe: its result and when it finished (unix ms).
    store: Mutex<Option<(Result<(), String>, i64)>>,
    store_probe_every: Duration,
    clock: Clock,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            gateway: AtomicBool::new(false),
            http_mode: AtomicBool::new(false),
            worker: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            provider_ok_at: AtomicI64::new(0),
            provider_err_at: AtomicI64::new(0),
            started_at: clock::now_ms(),
            store: Mutex::new(None),
            store_probe_every: STORE_PROBE_EVERY,
            clock: clock::system(),
        }
    }
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("gateway", &self.gateway)
            .field("draining", &self.draining)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Health {
    /// Replaces the clock the checks' ages are measured with (tests move it themselves).
    pub fn with_clock(mut self, clock: Clock) -> Health {
        self.started_at = clock();
        self.clock = clock;
        self
    }

    /// Probes the store this often instead of every [`STORE_PROBE_EVERY`].
    pub fn with_store_probe_every(mut self, every: Duration) -> Health {
        self.store_probe_every = every;
        self
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Interactions come as HTTP POSTs (`discord.mode = "http"`): `/healthz` says so and
    /// checks no gateway.
    /// A worker process (`/healthz` says `"mode": "worker"` and checks no gateway).
    pub fn set_worker(&self) {
        self.worker.store(true, Ordering::Relaxed);
    }

    pub fn with_http_mode(self, http_mode: bool) -> Health {
        self.http_mode.store(http_mode, Ordering::Relaxed);
        self
    }

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
        slot.store(self.now(), Ordering::Relaxed);
    }

    /// The provider is fine unless its calls have been failing for longer than the grace.
    fn provider_ok(&self) -> bool {
        let ok_at = self.provider_ok_at.load(Ordering::Relaxed);
        let err_at = self.provider_err_at.load(Ordering::Relaxed);
        let grace = PROVIDER_GRACE.as_millis() as i64;
        !(err_at > ok_at && self.now() - ok_at.max(self.started_at) > grace)
    }

    fn record_store_check(&self, result: Result<(), String>) {
        if let Err(e) = &result {
            tracing::warn!(error = %e, "the store probe failed");
        }
        *self.store.lock().expect("health lock") = Some((result, self.now()));
    }

    /// The last probe's result; a result older than three probe intervals fails, since a
    /// probe stuck on the disk never reports.
    fn store_check(&self) -> Result<(), String> {
        let last = self.store.lock().expect("health lock").clone();
        let Some((result, at)) = last else {
            return Err("the store has not been checked yet".into());
        };
        let age = self.now().saturating_sub(at);
        let limit =
            i64::try_from(self.store_probe_every.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
        if age > limit {
            return Err(format!(
                "the last store check finished {} s ago",
                age / 1000
            ));
        }
        result
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
    metrics: PrometheusHandle,
}

/// Serves until `shutdown` completes. The store probe runs first (so the first answer
/// already has a result), then every probe interval until the server stops.
pub async fn serve(
    listener: tokio::net::TcpListener,
    health: Arc<Health>,
    db: crate::store::Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, health, db, None, shutdown).await
}

/// [`serve`], with more routes beside `/healthz` and `/metrics` (the interactions endpoint).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    health: Arc<Health>,
    db: crate::store::Store,
    routes: Option<Router>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    health.record_store_check(probe_store(&db, health.now()).await);
    let (stop_probe, probe_stopped) = tokio::sync::oneshot::channel();
    let probe = tokio::spawn(probe_loop(health.clone(), db, probe_stopped));
    let state = AppState {
        health,
        metrics: metrics_handle(),
    };
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(render_metrics))
        .with_state(state);
    let app = match routes {
        Some(routes) => app.merge(routes),
        None => app,
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_probe.send(());
    let _ = probe.await;
    served
}

/// Probes the store every interval until `stop` fires (or its sender is dropped, when
/// `serve` itself was dropped).
async fn probe_loop(
    health: Arc<Health>,
    db: crate::store::Store,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut every = tokio::time::interval(health.store_probe_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate, and `serve` has just probed.
    every.tick().await;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = every.tick() => {}
        }
        tokio::select! {
            _ = &mut stop => return,
            result = probe_store(&db, health.now()) => health.record_store_check(result),
        }
    }
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
    let worker = state.health.worker.load(Ordering::Relaxed);
    let http_mode = state.health.http_mode.load(Ordering::Relaxed);
    let no_gateway = worker || http_mode;
    let gateway = state.health.gateway.load(Ordering::Relaxed);
    let store = state.health.store_check();
    let provider = state.health.provider_ok();
    let draining = state.health.draining();
    let healthy = (no_gateway || gateway) && store.is_ok() && provider && !draining;
    let status = match (healthy, draining) {
        (true, _) => "ok",
        (false, true) => "draining",
        (false, false) => "unhealthy",
    };
    let mut checks = json!({
        "store": { "ok": store.is_ok(), "error": store.err() },
        "provider": { "ok": provider },
    });
    if !no_gateway {
        checks["gateway"] = json!({ "ok": gateway });
    }
    let mode = match (worker, http_mode) {
        (true, _) => "worker",
        (false, true) => "http",
        (false, false) => "gateway",
    };
    let body = json!({
        "status": status,
        "mode": mode,
        "checks": checks,
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body))
}

/// Writes and flushes a probe key: the store is writable only if both succeed.
async fn probe_store(db: &crate::store::Store, now: i64) -> Result<(), String> {
    db.probe(now).await.map_err(|e| e.to_string())
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
