//! Two real bot processes in `discord.mode = "http"` sharing one PostgreSQL store, behind
//! one Interactions Endpoint URL: the double delivers the interactions round robin, as a
//! load balancer would. They behave as one bot: the pool's race is decided once for both, a
//! card's Cancel works on the other instance, and when one of them is killed with SIGKILL in
//! the middle of a burst, every interaction answered with a card has its job finished with
//! exactly one final message, and the ledger verifies.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::discord::video::{COST, RESULT_URL};
use crate::discord::{CHANNEL, GUILD};
use crate::fleet::{leads, postgres_env, wait_until, with_listen};
use crate::process::{Running, output, wait_healthy};
use crate::support::discord_double::{
    ButtonPress, DiscordDouble, HttpAnswer, Injected, Opt, SlashCommand, public_key_hex,
};
use crate::support::fake_provider::{FakeProvider, Step};

const RACERS: u64 = 20;
const AFFORDABLE: u64 = 7;
/// The burst during which one process is killed, and how many more videos it may pay for.
const BURST: u64 = 16;
const BURST_AFFORDABLE: u64 = 10;

/// The environment shared by both processes (each then gets its own `http.listen`).
fn http_fleet_env(
    double: &DiscordDouble,
    provider: &FakeProvider,
    dir: &std::path::Path,
    url: &str,
) -> Vec<(String, String)> {
    let mut env = postgres_env(double, provider, dir, url);
    env.extend(
        [
            ("SEEDANCE_BOT__DISCORD__MODE", "http".to_owned()),
            ("SEEDANCE_BOT__DISCORD__PUBLIC_KEY", public_key_hex()),
            // Two videos upstream at a time: the later jobs of the race wait in the queue.
            ("SEEDANCE_BOT__SEEDANCE__MAX_RUNNING", "2".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    env
}

/// Runs the CLI beside the fleet and returns what it printed; it must succeed.
pub fn cli_ok(env: &[(String, String)], args: &[&str]) -> String {
    let out = output(env, args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Grants `amount` to the test server through the CLI (creating its pool).
pub fn grant(env: &[(String, String)], amount: u64) {
    cli_ok(
        env,
        &[
            "credits",
            "grant",
            "--guild",
            &GUILD.to_string(),
            "--amount",
            &amount.to_string(),
            "--reason",
            "fleet test",
            "--create",
        ],
    );
}

/// The stored jobs of the test server by id, through `jobs export` while the fleet runs.
fn exported(env: &[(String, String)]) -> BTreeMap<String, Value> {
    let guild = GUILD.to_string();
    let args = ["jobs", "export", "--guild", &guild, "--format", "jsonl"];
    cli_ok(env, &args)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|j| (j["job"].as_str().unwrap().to_owned(), j))
        .collect()
}

/// `member` presses Cancel on the card of `job`, still queued, and is told its credits went
/// back to the pool (within `patience`). Returns the press.
pub async fn cancel_queued(
    double: &DiscordDouble,
    job: &str,
    card: u64,
    member: u64,
    patience: Duration,
) -> Injected {
    let press = double
        .press(&ButtonPress::in_guild(
            &format!("seedance:cancel:{job}"),
            card,
            GUILD,
            CHANNEL,
            member,
        ))
        .await;
    wait_until("the Cancel's answer", patience, || {
        double
            .answers(&press)
            .iter()
            .any(|m| m["content"].as_str().is_some_and(|c| !c.is_empty()))
    })
    .await;
    let told = double.answers(&press);
    assert!(
        told[0]["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Cancelled: {COST} credits went back to the pool.")),
        "{told:#?}"
    );
    press
}

/// `credits show`'s field `name` (available, pending, settled).
fn shown(env: &[(String, String)], name: &str) -> u64 {
    let text = cli_ok(env, &["credits", "show", "--guild", &GUILD.to_string()]);
    credits_field(&text, name)
}

/// The field `name` of what `credits show` printed.
pub fn credits_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

fn video_by(member: u64, prompt: &str) -> SlashCommand {
    SlashCommand::in_guild("video", GUILD, CHANNEL, member).option(Opt::string("prompt", prompt))
}

/// What a member was shown for `/video`, once it is clear: `Some(true)` a card, `Some(false)`
/// a private refusal saying nothing was charged, `None` nothing (yet).
fn outcome(double: &DiscordDouble, injected: &Injected) -> Option<bool> {
    let answers = double.answers(injected);
    if answers
        .iter()
        .any(|m| m["embeds"].as_array().is_some_and(|e| !e.is_empty()))
    {
        return Some(true);
    }
    let refused = answers.iter().any(|m| {
        m["flags"].as_u64().unwrap_or(0) & 64 == 64
            && m["content"].as_str().is_some_and(|c| {
                c.starts_with("Not enough credits") && c.contains("Nothing was charged")
            })
    });
    refused.then_some(false)
}

/// The endpoint's HTTP answer to `injected`.
fn http_answer(double: &DiscordDouble, injected: &Injected) -> Option<HttpAnswer> {
    double
        .http_answers()
        .into_iter()
        .find(|(token, _)| *token == injected.token)
        .map(|(_, a)| a)
}

/// The snowflake in an object's `id`.
fn id_of(object: &Value) -> Option<u64> {
    object["id"].as_str()?.parse().ok()
}

/// The bot's messages anywhere that ping `member`, but the card itself.
fn pings_of(double: &DiscordDouble, member: u64, card: Option<u64>) -> Vec<Value> {
    let mention = format!("<@{member}>");
    double
        .all_messages()
        .into_iter()
        .filter(|m| id_of(&m["author"]) == Some(crate::support::discord_double::BOT_ID))
        .filter(|m| card.is_none_or(|c| id_of(m) != Some(c)))
        .filter(|m| m["content"].as_str().is_some_and(|c| c.contains(&mention)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_http_processes_behind_one_url_act_as_one_bot_and_survive_a_kill() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let url = url.expose_secret().to_owned();
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    // Each video takes a dozen polls, so the race's later jobs are still queued for a while
    // and the burst's are running when a process dies.
    let mut script = vec![Step::waiting(); 12];
    script.push(Step::success([RESULT_URL]));
    provider.set_default_script(script);
    let dir = tempfile::tempdir().unwrap();
    let env = http_fleet_env(&double, &provider, dir.path(), &url);
    grant(&env, COST * AFFORDABLE);

    let (a_env, a_listen) = with_listen(&env);
    let (b_env, b_listen) = with_listen(&env);
    let a = Running::spawn(&a_env);
    let b = Running::spawn(&b_env);
    let health = wait_healthy(&format!("http://{a_listen}")).await;
    assert_eq!(health["mode"], "http", "{health}");
    let health = wait_healthy(&format!("http://{b_listen}")).await;
    assert_eq!(health["mode"], "http", "{health}");
    wait_until("both to register", Duration::from_secs(10), || {
        double
            .requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.ends_with("/commands") && r.status == 200)
            .count()
            >= 2
    })
    .await;
    let urls = [
        format!("http://{a_listen}/interactions"),
        format!("http://{b_listen}/interactions"),
    ];
    double.deliver_round_robin(&urls);

    // Twenty members race for a pool worth seven videos, their commands spread over both.
    let racers = (0..RACERS).map(|i| {
        let command = video_by(5_000 + i, &format!("a lighthouse number {i}"));
        let double = &double;
        async move { double.inject(&command).await }
    });
    let racers: Vec<Injected> = futures::future::join_all(racers).await;
    wait_until("every racer's answer", Duration::from_secs(15), || {
        racers.iter().all(|i| outcome(&double, i).is_some())
    })
    .await;
    let mut served = BTreeMap::<String, u64>::new();
    for injected in &racers {
        let answer = http_answer(&double, injected).expect("answered over HTTP");
        assert_eq!(answer.status, 200, "{answer:?}");
        *served.entry(answer.url).or_default() += 1;
    }
    assert_eq!(
        served.values().copied().collect::<Vec<_>>(),
        [RACERS / 2, RACERS / 2],
        "round robin over both processes: {served:?}"
    );
    let carded: Vec<&Injected> = racers
        .iter()
        .filter(|i| outcome(&double, i) == Some(true))
        .collect();
    assert_eq!(carded.len() as u64, AFFORDABLE, "exactly seven accepted");
    // The refused were charged nothing: the pool holds exactly the seven.
    assert_eq!(shown(&env, "available"), 0);
    assert_eq!(
        shown(&env, "pending") + shown(&env, "settled"),
        COST * AFFORDABLE
    );
    let jobs = exported(&env);
    assert_eq!(jobs.len() as u64, AFFORDABLE, "{jobs:#?}");

    // A queued job's Cancel, pressed on the instance that did not answer its command.
    let (queued, _) = jobs
        .iter()
        .rfind(|(_, j)| j["state"] == "queued")
        .expect("a job still queued");
    let owner = carded
        .iter()
        .find(|i| i.id.to_string() == *queued)
        .expect("its command");
    let answered_by = http_answer(&double, owner).unwrap().url;
    let other = urls.iter().find(|u| **u != answered_by).unwrap();
    let card = crate::discord::video::card_id(&double, owner);
    let member = owner.payload["member"]["user"]["id"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    double.deliver_next_to(other);
    let press = cancel_queued(&double, queued, card, member, Duration::from_secs(5)).await;
    assert_eq!(&http_answer(&double, &press).unwrap().url, other);
    assert_eq!(exported(&env)[queued]["state"], "cancelled");

    // A burst, during which the process running the scheduler dies without a word.
    grant(&env, COST * BURST_AFFORDABLE);
    let a_pid = a.child.id();
    let (mut leader, survivor) = if leads(&a) { (a, b) } else { (b, a) };
    assert!(leads(&leader), "one of them runs the scheduler");
    let killed = if leader.child.id() == a_pid {
        urls[0].clone()
    } else {
        urls[1].clone()
    };
    let mut burst = Vec::new();
    for i in 0..BURST {
        if i == BURST / 2 {
            leader.child.kill().unwrap();
            let _ = leader.child.wait();
        }
        let command = video_by(6_000 + i, &format!("a kite number {i}"));
        burst.push(double.inject(&command).await);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    wait_until("the burst's HTTP answers", Duration::from_secs(10), || {
        burst.iter().all(|i| http_answer(&double, i).is_some())
    })
    .await;
    let dead: Vec<&Injected> = burst
        .iter()
        .filter(|i| http_answer(&double, i).unwrap().status == 0)
        .collect();
    assert!(
        dead.len() as u64 >= BURST / 4,
        "the killed process missed its share: {}",
        dead.len()
    );

    // Every job ends; every command answered with a card gets exactly one final message.
    let everyone: Vec<&Injected> = racers.iter().chain(&burst).collect();
    let with_card = |double: &DiscordDouble| -> Vec<&Injected> {
        everyone
            .iter()
            .copied()
            .filter(|i| outcome(double, i) == Some(true))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let jobs = loop {
        let jobs = exported(&env);
        let carded = with_card(&double);
        let done = jobs.values().all(|j| {
            !matches!(
                j["state"].as_str(),
                Some("queued" | "submitting" | "running")
            )
        }) && carded.iter().all(|i| {
            jobs.get(&i.id.to_string())
                .is_some_and(|j| j["delivery"] == "delivered")
        });
        if done {
            break jobs;
        }
        assert!(
            Instant::now() < deadline,
            "jobs never all finished: {jobs:#?}\nsurvivor:\n{}",
            survivor.logs.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        leads(&survivor),
        "the survivor took the scheduler lease over"
    );
    let carded = with_card(&double);
    eprintln!(
        "http fleet: {} of {BURST} burst commands got no HTTP answer (killed process), {} jobs \
         in all, {} with a card, {} of those cards answered by the killed process",
        dead.len(),
        jobs.len(),
        carded.len(),
        carded
            .iter()
            .filter(|i| http_answer(&double, i).is_some_and(|a| a.url == killed))
            .count()
    );
    assert!(
        carded.len() as u64 > AFFORDABLE,
        "the burst had accepted commands"
    );
    for injected in &carded {
        let id = injected.id.to_string();
        assert!(jobs.contains_key(&id), "a card without a job: {id}");
        let member = injected.payload["member"]["user"]["id"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        let card = crate::discord::video::card_id(&double, injected);
        let finals = pings_of(&double, member, Some(card));
        assert_eq!(finals.len(), 1, "job {id}: {finals:#?}");
    }
    // A job accepted by the killed process whose answer never came is never told twice.
    let carded_ids: BTreeSet<String> = carded.iter().map(|i| i.id.to_string()).collect();
    for (id, job) in &jobs {
        if !carded_ids.contains(id) {
            let member = job["member"].as_u64().unwrap();
            let told = pings_of(&double, member, None);
            assert!(told.len() <= 1, "job {id}: {told:#?}");
        }
    }

    // The shared ledger verifies while the fleet still runs, and the money adds up: what
    // succeeded is settled, everything else came back.
    let verified = output(&env, &["credits", "verify"]);
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    let succeeded = jobs.values().filter(|j| j["state"] == "succeeded").count() as u64;
    assert_eq!(shown(&env, "settled"), succeeded * COST);
    assert_eq!(shown(&env, "pending"), 0);
    assert_eq!(
        shown(&env, "available"),
        (AFFORDABLE + BURST_AFFORDABLE - succeeded) * COST
    );
    drop(survivor);
}
