//! The integration tests: one binary. Everything they need (a fake provider, a local
//! Discord double, temp data directories) is started here on 127.0.0.1.

/// Runs each named `async fn name(backend: Backend)` as two tests, `name::sled` and
/// `name::postgres` (the latter skipped, loudly, where no PostgreSQL can be started); with
/// `multi_thread:` first, on a runtime of four worker threads (tests of concurrency).
#[macro_export]
macro_rules! on_both_backends {
    (multi_thread: $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sled() {
                super::$name($crate::credits::Backend::Sled).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::credits::Backend::Postgres).await;
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sled() {
                super::$name($crate::credits::Backend::Sled).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::credits::Backend::Postgres).await;
            }
        }
    )*};
}

mod admin;
mod cli;
mod credits;
mod discord;
mod first_hour;
mod fleet;
mod fleet_http;
mod fleet_reports;
mod http;
mod jobs;
mod process;
mod seedance;
mod support;
