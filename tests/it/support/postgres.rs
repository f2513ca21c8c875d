//! A throwaway PostgreSQL server for the tests: started once per test process from the
//! machine's PostgreSQL binaries (`pg_config --bindir`, or Debian's
//! `/usr/lib/postgresql/*/bin`) with `initdb` + `pg_ctl` in a temp dir on a free loopback
//! port, and stopped when the process exits. As root it runs as the `postgres` user
//! (`runuser`). Each test gets a database of its own.
//!
//! `DATABASE_URL` in the environment means "use this server instead" (each test still
//! creates its own database there). Without binaries and without `DATABASE_URL` the
//! PostgreSQL tests say so loudly and are skipped, unless `SEEDANCE_REQUIRE_POSTGRES=1`
//! (set by `.ci/run`), where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use secrecy::SecretString;
use seedance_bot::store::Store;
use seedance_bot::store::postgres::PgStore;

/// The server every test in this process shares.
struct Server {
    /// `postgres://user@127.0.0.1:port`, without a database name.
    base: String,
}

static SERVER: OnceLock<Option<Server>> = OnceLock::new();
static STOP: Mutex<Option<(PathBuf, PathBuf, bool)>> = Mutex::new(None);
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A fresh database's URL, or `None` (after a loud message) when PostgreSQL is not there.
pub fn database_url() -> Option<SecretString> {
    let server = SERVER.get_or_init(start).as_ref()?;
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let admin = format!("{}/postgres", server.base);
    // The blocking client must not run on an async runtime's thread.
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server: {e}"));
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create a test database");
        })
        .join()
        .expect("create a test database")
    });
    Some(SecretString::from(format!("{}/{name}", server.base)))
}

/// A store on a fresh database (migrated), or `None` when PostgreSQL is not there.
pub fn store() -> Option<Store> {
    let url = database_url()?;
    // Connecting runs blocking calls on their own threads, so this is safe anywhere.
    Some(Store::Postgres(PgStore::connect(&url).expect("connect")))
}

fn start() -> Option<Server> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let base = url
            .rsplit_once('/')
            .map(|(base, _)| base.to_owned())
            .filter(|b| b.contains("://") && b.len() > "postgres://".len())
            .unwrap_or(url);
        return Some(Server { base });
    }
    let Some(bindir) = bindir() else {
        let required = std::env::var("SEEDANCE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SEEDANCE_REQUIRE_POSTGRES=1 but no PostgreSQL binaries were found (pg_config --bindir, /usr/lib/postgresql/*/bin) and DATABASE_URL is not set"
        );
        eprintln!(
            "\n*** PostgreSQL tests SKIPPED: no PostgreSQL binaries (pg_config --bindir) and no DATABASE_URL ***\n"
        );
        return None;
    };
    let as_postgres = is_root();
    // Removed by `stop_server` at exit.
    let dir = tempfile::Builder::new()
        .prefix("seedance-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let data = dir.join("data");
    std::fs::create_dir(&data).expect("data dir");
    if as_postgres {
        // The server refuses to run as root; its files belong to the `postgres` user.
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir));
    }
    run(&mut pg(
        &bindir,
        "initdb",
        as_postgres,
        &[
            "-D",
            path(&data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ],
    ));
    let port = free_port();
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=on -c max_connections=300 -c shared_buffers=32MB",
        path(&dir)
    );
    let log = dir.join("server.log");
    run(&mut pg(
        &bindir,
        "pg_ctl",
        as_postgres,
        &[
            "-D",
            path(&data),
            "-l",
            path(&log),
            "-o",
            &options,
            "-w",
            "start",
        ],
    ));
    // A process killed outright (SIGKILL, an abort) runs no exit handler: a watchdog stops
    // the server once this process is gone.
    let stop = pg(
        &bindir,
        "pg_ctl",
        as_postgres,
        &["-D", path(&data), "-m", "immediate", "-w", "stop"],
    );
    let stop_line = std::iter::once(stop.get_program())
        .chain(stop.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let watchdog = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop_line} >/dev/null 2>&1; rm -rf '{}'",
        std::process::id(),
        path(&dir)
    );
    let _ = Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    *STOP.lock().unwrap() = Some((bindir, data, as_postgres));
    // The test harness ends the process with `exit`, which runs these handlers.
    unsafe { libc::atexit(stop_server) };
    Some(Server {
        base: format!("postgres://postgres@127.0.0.1:{port}"),
    })
}

extern "C" fn stop_server() {
    if let Some((bindir, data, as_postgres)) = STOP.lock().ok().and_then(|mut s| s.take()) {
        let _ = pg(
            &bindir,
            "pg_ctl",
            as_postgres,
            &["-D", path(&data), "-m", "immediate", "-w", "stop"],
        )
        .output();
        if let Some(dir) = data.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn pg(bindir: &Path, program: &str, as_postgres: bool, args: &[&str]) -> Command {
    let binary = bindir.join(program);
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(binary);
        c
    } else {
        Command::new(binary)
    };
    command.args(args);
    command
}

fn run(command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .max();
    [from_pg_config, debian]
        .into_iter()
        .flatten()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .unwrap()
        .port()
}
