//! Final reports in a fleet sharing one PostgreSQL store, with real processes of the
//! binary against the local Discord double and the fake provider: each report is sent under
//! a per-job claim. A report left unconfirmed by a process killed with SIGKILL is sent by
//! the scheduler's holder once the claim runs out, and a scheduler takeover never sends a
//! report another live process is still delivering: exactly one final message per job.
//!
//! The process tests make a member's job end on the gateway process, which does not run the
//! scheduler (a worker does): one video runs upstream for the whole test (the running cap is
//! one), the member's second video waits in the queue, and the member presses Cancel on it.

use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::discord::video::{COST, card_id};
use crate::discord::{CHANNEL, GUILD};
use crate::fleet::{leads, postgres_env, wait_until, with_listen};
use crate::fleet_http::{cancel_queued, cli_ok, grant};
use crate::process::{Running, bot, output, wait_healthy};
use crate::support::discord_double::{DiscordDouble, Injected, Opt, Request, SlashCommand};
use crate::support::fake_provider::{Endpoint, FakeProvider, Step};

/// The member whose video runs upstream all along, and the one who cancels a queued video.
const RUNNER: u64 = 7_001;
const CANCELLER: u64 = 7_002;
/// The route of every message the bot posts in a channel or thread.
const MESSAGES: &str = "/channels/*/messages";

/// The stored job `id`, through `jobs export` while the fleet runs.
fn exported(env: &[(String, String)], id: u64) -> Option<Value> {
    let guild = GUILD.to_string();
    let args = ["jobs", "export", "--guild", &guild, "--format", "jsonl"];
    cli_ok(env, &args)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|j| j["job"] == json!(id.to_string()))
}

/// Every request that tried to post job `id`'s final message (its nonce), in order.
fn final_posts(double: &DiscordDouble, id: u64) -> Vec<Request> {
    let nonce = json!(format!("final:{id}"));
    double
        .requests()
        .into_iter()
        .filter(|r| r.is("POST", MESSAGES) && r.body()["nonce"] == nonce)
        .collect()
}

/// Whether `process` has logged `what` about job `id`.
fn logged_about(process: &Running, what: &str, id: u64) -> bool {
    let id = id.to_string();
    process
        .logs
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains(what) && l.contains(&id))
}

fn logs(process: &Running) -> String {
    process.logs.lock().unwrap().join("\n")
}

/// The fleet's start: a worker that runs the scheduler, then the gateway process (its
/// environment with `gateway_extra`), a video running upstream and a second one queued.
struct Fleet {
    double: DiscordDouble,
    _provider: FakeProvider,
    _dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    worker: Running,
    gateway: Running,
    /// The queued video's command.
    queued: Injected,
}

impl Fleet {
    async fn start(url: &str, gateway_extra: &[(&str, &str)]) -> Fleet {
        let double = DiscordDouble::start().await;
        let provider = FakeProvider::start().await;
        // Every video keeps running upstream.
        provider.set_default_script(vec![Step::waiting()]);
        let dir = tempfile::tempdir().unwrap();
        let mut env = postgres_env(&double, &provider, dir.path(), url);
        env.push(("SEEDANCE_BOT__SEEDANCE__MAX_RUNNING".into(), "1".into()));
        grant(&env, COST * 2);

        let (worker_env, _) = with_listen(&env);
        let worker = Running::spawn_command(bot(&worker_env, &["worker"]));
        wait_until("the worker to lead", Duration::from_secs(20), || {
            leads(&worker)
        })
        .await;
        let (mut gateway_env, listen) = with_listen(&env);
        gateway_env.extend(
            gateway_extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let gateway = Running::spawn(&gateway_env);
        wait_healthy(&format!("http://{listen}")).await;
        double.wait_ready(Duration::from_secs(20)).await;

        // One video runs upstream (the running cap is one), the next waits in the queue.
        let running = double
            .inject(&video_by(RUNNER, "a lighthouse that keeps turning"))
            .await;
        wait_until("the first video upstream", Duration::from_secs(20), || {
            has_card(&double, &running) && provider.count(Endpoint::CreateTask) >= 1
        })
        .await;
        let queued = double
            .inject(&video_by(CANCELLER, "a kite that never flies"))
            .await;
        wait_until("the second video's card", Duration::from_secs(20), || {
            has_card(&double, &queued)
        })
        .await;
        let state = exported(&env, queued.id).expect("the queued job")["state"].clone();
        assert_eq!(state, "queued");
        Fleet {
            double,
            _provider: provider,
            _dir: dir,
            env,
            worker,
            gateway,
            queued,
        }
    }

    /// The member presses Cancel on the queued video's card (the gateway process gets it).
    async fn cancel_queued(&self) {
        let card = card_id(&self.double, &self.queued);
        let job = self.queued.id.to_string();
        let patience = Duration::from_secs(20);
        cancel_queued(&self.double, &job, card, CANCELLER, patience).await;
    }

    /// Waits until the store has the queued (now cancelled) job's report delivered.
    async fn wait_delivered(&self, others: &[&Running]) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let job = exported(&self.env, self.queued.id).expect("the job");
            if job["delivery"] == "delivered" {
                assert_eq!(job["state"], "cancelled");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the report was never delivered: {job:#?}\n{}",
                others
                    .iter()
                    .map(|p| logs(p))
                    .collect::<Vec<_>>()
                    .join("\n---\n")
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Exactly one final message reached the job's thread, pinging its member, and the
    /// shared ledger verifies with the cancelled video refunded.
    fn assert_told_once(&self) {
        let id = self.queued.id;
        let sent: Vec<Request> = final_posts(&self.double, id)
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect();
        assert_eq!(sent.len(), 1, "job {id}: final message sent {sent:#?}");
        let card = card_id(&self.double, &self.queued);
        let mention = format!("<@{CANCELLER}>");
        let finals: Vec<Value> = self
            .double
            .messages_in(card)
            .into_iter()
            .filter(|m| m["content"].as_str().is_some_and(|c| c.contains(&mention)))
            .collect();
        assert_eq!(finals.len(), 1, "job {id}: {finals:#?}");
        assert_eq!(finals[0]["nonce"], json!(format!("final:{id}")));

        let verified = output(&self.env, &["credits", "verify"]);
        assert!(
            verified.status.success(),
            "{}{}",
            String::from_utf8_lossy(&verified.stdout),
            String::from_utf8_lossy(&verified.stderr)
        );
        let shown = cli_ok(
            &self.env,
            &["credits", "show", "--guild", &GUILD.to_string()],
        );
        let field = |name: &str| crate::fleet_http::credits_field(&shown, name);
        // The running video's hold; the cancelled one came back.
        assert_eq!(field("pending"), COST, "{shown}");
        assert_eq!(field("available"), COST, "{shown}");
    }
}

fn video_by(member: u64, prompt: &str) -> SlashCommand {
    SlashCommand::in_guild("video", GUILD, CHANNEL, member).option(Opt::string("prompt", prompt))
}

fn has_card(double: &DiscordDouble, injected: &Injected) -> bool {
    double
        .original_response(injected)
        .is_some_and(|m| m["embeds"].as_array().is_some_and(|e| !e.is_empty()))
}

/// The gateway process ends a job (the member's Cancel) and Discord rate limits its final
/// message for a while; the process is killed before the retry. The worker, which runs the
/// scheduler all along (no takeover, no restart), sends the message once the dead process's
/// claim has run out (and not before the retry it recorded): exactly one final message, in
/// the job's thread. Before per-job claims nobody sent it until a scheduler takeover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_left_by_a_killed_process_is_sent_once_by_the_scheduler() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let url = url.expose_secret().to_owned();
    let mut fleet = Fleet::start(&url, &[]).await;
    let id = fleet.queued.id;

    // The final message's first try is refused with a wait longer than the bot sits out
    // inline: the report waits for its next try, claimed by the gateway process.
    fleet.double.fail_next(
        &format!("POST {MESSAGES}"),
        429,
        json!({ "message": "You are being rate limited.", "retry_after": 15.0, "global": false }),
    );
    fleet.cancel_queued().await;
    wait_until(
        "the final message's refused try",
        Duration::from_secs(20),
        || {
            final_posts(&fleet.double, id)
                .iter()
                .any(|r| r.status == 429)
                && logged_about(&fleet.gateway, "final report not delivered", id)
        },
    )
    .await;
    fleet.gateway.child.kill().unwrap();
    let _ = fleet.gateway.child.wait();
    assert!(
        !leads(&fleet.gateway),
        "the gateway process was not the scheduler's"
    );

    fleet.wait_delivered(&[&fleet.worker]).await;
    assert!(
        logged_about(&fleet.worker, "took over a final report", id)
            || logged_about(&fleet.worker, "claimed by another process", id),
        "the worker watched the report: {}",
        logs(&fleet.worker)
    );
    fleet.assert_told_once();
    // The refused try and the one that was sent.
    let posts = final_posts(&fleet.double, id);
    assert_eq!(posts.len(), 2, "{posts:#?}");
}

/// The gateway process ends a job and its final message is in flight (Discord takes a
/// while to answer) when the worker running the scheduler is killed and a second worker
/// takes the scheduler over. The new holder finds the ended job whose report is not yet
/// recorded, but the gateway process still claims it: it sends nothing and stops watching
/// once the gateway process has recorded the report. Before per-job claims the takeover
/// sent the message a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_leaves_a_report_to_the_live_process_that_claims_it() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let url = url.expose_secret().to_owned();
    // The gateway process asks for the scheduler lease rarely (its lease would live four
    // minutes), so the second worker is the one that takes the scheduler over.
    let mut fleet =
        Fleet::start(&url, &[("SEEDANCE_BOT__SEEDANCE__REQUEST_TIMEOUT", "120s")]).await;
    let id = fleet.queued.id;
    let (second_env, _) = with_listen(&fleet.env);
    let second = Running::spawn_command(bot(&second_env, &["worker"]));
    wait_until("the second worker", Duration::from_secs(20), || {
        crate::fleet::logged(&second, "running as a worker")
    })
    .await;

    // The final message takes effect at once but its answer comes 25 s later (within the
    // bot's 30 s call timeout): the gateway process's try is in flight meanwhile.
    fleet
        .double
        .hold_answers(&format!("POST {MESSAGES}"), Duration::from_secs(25));
    fleet.cancel_queued().await;
    wait_until("the final message's try", Duration::from_secs(20), || {
        !final_posts(&fleet.double, id).is_empty()
    })
    .await;
    fleet.double.release_answers();

    // The scheduler's worker dies; the second worker takes over and finds the report.
    fleet.worker.child.kill().unwrap();
    let _ = fleet.worker.child.wait();
    wait_until("the second worker to lead", Duration::from_secs(30), || {
        leads(&second)
    })
    .await;
    fleet.wait_delivered(&[&second, &fleet.gateway]).await;
    let posts = final_posts(&fleet.double, id);
    assert_eq!(
        posts.len(),
        1,
        "sent once, by the gateway process: {posts:#?}"
    );
    // The new holder did find the report, while the gateway process claimed it, and stopped
    // watching it once it was recorded.
    wait_until(
        "the new holder to have found the report claimed",
        Duration::from_secs(30),
        || logged_about(&second, "claimed by another process", id),
    )
    .await;
    wait_until(
        "the new holder to stop watching the report",
        Duration::from_secs(30),
        || logged_about(&second, "no longer watched", id),
    )
    .await;
    assert!(!leads(&fleet.gateway), "{}", logs(&fleet.gateway));
    assert_eq!(final_posts(&fleet.double, id).len(), 1);
    fleet.assert_told_once();
    drop(second);
}

/// The claims' primitive on a shared store: a named lease per job, renewed in one statement
/// for every name its owner still holds, taken over by another owner only once it ran out,
/// and listed as left behind once it ran out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_claims_pass_to_another_owner_only_once_they_ran_out() {
    let Some(store) = crate::support::postgres::store() else {
        return;
    };
    let (a, b) = ("process-a", "process-b");
    let long = Duration::from_secs(600);
    let short = Duration::from_secs(1);

    assert!(store.lease("report:1", a, short).await.unwrap());
    assert!(store.lease("report:2", a, long).await.unwrap());
    assert!(
        !store.lease("report:1", b, long).await.unwrap(),
        "held by a"
    );
    let names = vec!["report:2".to_owned(), "report:3".to_owned()];
    assert_eq!(
        store.renew_leases(names, a, long).await.unwrap(),
        ["report:2"],
        "only what a holds is renewed"
    );
    // report:1 is not renewed: it runs out and is listed as left behind.
    wait_until_async("report:1 to run out", Duration::from_secs(30), || async {
        store.expired_leases("report:").await.unwrap() == ["report:1"]
    })
    .await;
    assert!(store.expired_leases("scheduler").await.unwrap().is_empty());
    // Another owner takes it over; the first can neither renew nor give it up any more.
    assert!(store.lease("report:1", b, long).await.unwrap());
    assert!(store.expired_leases("report:").await.unwrap().is_empty());
    let mine = vec!["report:1".to_owned(), "report:2".to_owned()];
    assert_eq!(
        store.renew_leases(mine, a, long).await.unwrap(),
        ["report:2"]
    );
    store.release("report:1", a).await.unwrap();
    assert!(
        !store.lease("report:1", a, long).await.unwrap(),
        "still b's"
    );
    // Given up by its holder, it is free at once.
    store.release("report:1", b).await.unwrap();
    assert!(store.lease("report:1", a, long).await.unwrap());
}

async fn wait_until_async<F: std::future::Future<Output = bool>>(
    what: &str,
    timeout: Duration,
    mut done: impl FnMut() -> F,
) {
    let deadline = Instant::now() + timeout;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
