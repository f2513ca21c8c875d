//! Measures the running binary the way Discord sees it, against the local Discord double and
//! the fake provider: startup time to ready, resident memory when idle, and the time from an
//! interaction arriving to its first answer under a burst of `/video` commands.
//!
//! Each figure is taken in both transports, `discord.mode = "gateway"` (the first answer is
//! the bot's callback POST) and `"http"` (the first answer is the HTTP response to the
//! double's signed POST), each with a fresh double, provider and data directory.
//!
//! Run: `cargo bench --bench discord` (BURST=500 MEMBERS=100 SERVERS=10 to change,
//! MODES=http for one transport only, BOT=path to run another build of the bot).

mod common;

#[path = "../tests/it/support"]
#[allow(unused_imports)] // The benchmark uses a part of the test toolkit.
mod support {
    pub mod discord_double;
    pub mod fake_provider;
}

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{cpu_seconds, percentile, rss_mib};
use support::discord_double::{DiscordDouble, Opt, SlashCommand, public_key_hex};
use support::fake_provider::{FakeProvider, Step};

const TOKEN: &str = "Bot.BENCH-TOKEN";
const FIRST_GUILD: u64 = 910_000_000_000_000_000;
const FIRST_CHANNEL: u64 = 920_000_000_000_000_000;
const FIRST_MEMBER: u64 = 930_000_000_000_000_000;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The cores this machine gives the bench, the bot and the double to share.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

struct Setup {
    env: Vec<(String, String)>,
    guilds: Vec<u64>,
    http_mode: bool,
}

impl Setup {
    fn command(&self, args: &[&str]) -> Command {
        // BOT=path runs another build of the bot against this bench, to compare two builds in
        // one sitting.
        let bot =
            std::env::var("BOT").unwrap_or_else(|_| env!("CARGO_BIN_EXE_seedance-bot").into());
        let mut cmd = Command::new(bot);
        for (k, _) in std::env::vars() {
            if k.starts_with("SEEDANCE_BOT__") {
                cmd.env_remove(k);
            }
        }
        cmd.args(args).envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }
}

/// Starts the bot and returns it with the time to READY (in http mode: to its commands
/// registered) and to the first healthy `/healthz`.
async fn start(setup: &Setup, double: &DiscordDouble, base: &str) -> (Child, Duration, Duration) {
    let started = Instant::now();
    let mut child = setup
        .command(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seedance-bot run");
    // Drain the logs so the bot never blocks on a full pipe.
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).count());
    if setup.http_mode {
        let registered = || {
            double
                .requests()
                .iter()
                .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
                .count()
        };
        while registered() < setup.guilds.len() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never registered"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        double.deliver_over_http(&format!("{base}/interactions"));
    } else {
        double.wait_ready(Duration::from_secs(30)).await;
    }
    let ready = started.elapsed();
    let client = reqwest::Client::new();
    loop {
        let ok = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never healthy");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (child, ready, started.elapsed())
}

#[tokio::main]
async fn main() {
    let modes = std::env::var("MODES").unwrap_or_else(|_| "gateway,http".into());
    for mode in modes.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        assert!(
            matches!(mode, "gateway" | "http"),
            "MODES lists gateway and/or http"
        );
        println!("== discord.mode = {mode}");
        run(mode == "http").await;
    }
}

async fn run(http_mode: bool) {
    let burst = env_or("BURST", 500);
    let members = env_or("MEMBERS", 100);
    let servers = env_or("SERVERS", 10).max(1);
    let per_member = burst.div_ceil(members.max(1));

    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    // Jobs stay running upstream: the burst measures answering, not making videos.
    provider.set_default_script(vec![Step::waiting()]);
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let guilds: Vec<u64> = (0..servers as u64).map(|i| FIRST_GUILD + i).collect();
    let ids: Vec<String> = guilds.iter().map(u64::to_string).collect();
    let setup = Setup {
        env: vec![
            ("DISCORD_TOKEN".into(), TOKEN.into()),
            ("SEEDANCE_API_KEY".into(), "sk-bench".into()),
            (
                "SEEDANCE_BOT__DISCORD__API_BASE_URL".into(),
                double.base_url().into(),
            ),
            (
                "SEEDANCE_BOT__DISCORD__COMMAND_GUILD_IDS".into(),
                format!("[{}]", ids.join(",")),
            ),
            (
                "SEEDANCE_BOT__SEEDANCE__BASE_URL".into(),
                provider.base_url(),
            ),
            (
                "SEEDANCE_BOT__JOBS__MAX_ACTIVE_PER_USER".into(),
                per_member.to_string(),
            ),
            (
                "SEEDANCE_BOT__STORAGE__PATH".into(),
                dir.path().display().to_string(),
            ),
            ("SEEDANCE_BOT__HTTP__LISTEN".into(), listen.clone()),
            (
                "SEEDANCE_BOT__DISCORD__MODE".into(),
                if http_mode { "http" } else { "gateway" }.into(),
            ),
            ("SEEDANCE_BOT__DISCORD__PUBLIC_KEY".into(), public_key_hex()),
            ("RUST_LOG".into(), "warn".into()),
        ],
        guilds,
        http_mode,
    };
    for guild in &setup.guilds {
        let out = setup
            .command(&[
                "credits",
                "grant",
                "--guild",
                &guild.to_string(),
                "--amount",
                "1000000",
                "--reason",
                "bench",
                "--create",
            ])
            .output()
            .expect("grant");
        assert!(out.status.success(), "{out:?}");
    }

    let base = format!("http://{listen}");
    let (mut child, ready, healthy) = start(&setup, &double, &base).await;
    println!(
        "startup: {} after {}, /healthz 200 after {}",
        if http_mode {
            "commands registered"
        } else {
            "READY"
        },
        ms(ready),
        ms(healthy)
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "resident memory, idle: {:.1} MiB",
        rss_mib(&child.id().to_string())
    );

    // The burst: member m (in server m % servers) sends its commands back to back.
    let bot_pid = child.id().to_string();
    let cpu_before = (cpu_seconds(&bot_pid), cpu_seconds("self"));
    let started = Instant::now();
    for n in 0..burst {
        let m = (n % members.max(1)) as u64;
        let guild = setup.guilds[m as usize % servers];
        let channel = FIRST_CHANNEL + m % servers as u64;
        let command = SlashCommand::in_guild("video", guild, channel, FIRST_MEMBER + m)
            .option(Opt::string("prompt", &format!("burst video {n}")));
        double.inject(&command).await;
    }
    let injected_in = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut latencies = loop {
        let answered = double.answer_latencies();
        if answered.len() >= burst || Instant::now() > deadline {
            break answered;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let cpu = (
        cpu_seconds(&bot_pid) - cpu_before.0,
        cpu_seconds("self") - cpu_before.1,
    );
    latencies.sort();
    let cards = double
        .requests()
        .iter()
        .filter(|r| {
            r.path.ends_with("/callback")
                && r.body()["data"]["embeds"]
                    .as_array()
                    .is_some_and(|e| !e.is_empty())
        })
        .count();
    println!(
        "burst: {burst} /video from {members} members in {servers} servers, injected in {}; \
         {} answered ({cards} job cards), {} late (> 3 s)",
        ms(injected_in),
        latencies.len(),
        double.violations().len()
    );
    if !latencies.is_empty() {
        println!(
            "first answer: median {}, p99 {}, max {}",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            ms(*latencies.last().expect("not empty"))
        );
    }
    // From the first injection until every command had its first answer (polled every
    // 20 ms; the kernel counts in 10 ms ticks). The bot's figure includes what it did
    // after a command's first answer within that time (admissions, cards, job starts).
    println!(
        "CPU while the burst was answered: bot {:.0} ms ({:.2} ms a command), this bench \
         (double, fake provider) {:.0} ms; the machine has {} cores",
        cpu.0 * 1000.0,
        cpu.0 * 1000.0 / burst as f64,
        cpu.1 * 1000.0,
        cores()
    );
    println!(
        "resident memory after the burst ({burst} jobs running): {:.1} MiB",
        rss_mib(&child.id().to_string())
    );

    let stop = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    println!("SIGTERM to exit: {} ({status})", ms(stop.elapsed()));
}
