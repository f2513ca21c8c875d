//! `discord.mode = "http"`: what the interactions endpoint refuses before anything happens
//! (a missing or forged signature, a replayed timestamp: 401; an oversized body: 413; an
//! unreadable one: 400), the PING Discord sends to check the URL, `/healthz` without a
//! gateway, and draining. The scenarios shared with gateway mode run in both modes in their
//! own files.

use super::RESTARTING;
use ed25519_dalek::SigningKey;

use super::video::{COST, callback, setup_in, video};
use super::*;
use crate::support::discord_double::{ButtonPress, sign, test_key, timestamp_now};
use crate::support::fake_provider::Endpoint;

/// Request headers, by name.
type Headers = Vec<(&'static str, String)>;

fn signed(key: &SigningKey, timestamp: &str, body: &[u8]) -> Headers {
    vec![
        ("x-signature-ed25519", sign(key, timestamp, body)),
        ("x-signature-timestamp", timestamp.to_owned()),
    ]
}

fn seconds_from_now(delta: i64) -> String {
    let now: i64 = timestamp_now().parse().unwrap();
    (now + delta).to_string()
}

/// Nothing reached a channel, an interaction route or the provider, and no money moved.
fn assert_nothing_happened(double: &DiscordDouble, provider: &FakeProvider, app: &TestApp) {
    let touched: Vec<String> = double
        .requests()
        .iter()
        .filter(|r| {
            ["/interactions/", "/channels/", "/webhooks/"]
                .iter()
                .any(|p| r.path.starts_with(p))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(touched.is_empty(), "{touched:#?}");
    assert_eq!(provider.count(Endpoint::CreateTask), 0, "nothing upstream");
    let b = app.balance();
    assert_eq!(
        (b.available, b.pending, b.settled),
        (1000, 0, 0),
        "nothing charged"
    );
}

#[tokio::test]
async fn ping_gets_pong_and_no_gateway_is_opened() {
    let (double, _provider, _dir, app) = setup_in(Mode::Http).await;
    let ping = double.ping_payload().to_string().into_bytes();
    let answer = double.post_signed(ping).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json(), serde_json::json!({ "type": 1 }));
    // No option of the bot offers suggestions: an autocomplete gets none.
    let mut typing = double.prepare(&video("a boa")).payload;
    typing["type"] = serde_json::json!(4);
    typing["data"]["options"][0]["focused"] = serde_json::json!(true);
    let answer = double.post_signed(typing.to_string().into_bytes()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        serde_json::json!({ "type": 8, "data": { "choices": [] } })
    );
    // The commands are registered over REST; no gateway is ever asked for.
    assert!(!double.commands(Some(GUILD)).is_empty());
    assert_eq!(double.sessions(), 0);
    assert!(
        !double
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/gateway")),
        "no gateway lookup"
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_unsigned_and_replayed_requests_get_401_and_change_nothing() {
    let (double, provider, _dir, app) = setup_in(Mode::Http).await;
    let injected = double.prepare(&video("a forged boat"));
    let body = injected.payload.to_string().into_bytes();
    let now = timestamp_now();
    let mut flipped = body.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x01;
    let wrong_key = SigningKey::from_bytes(&[0x42; 32]);
    let good = signed(&test_key(), &now, &body);
    let cases: Vec<(&str, Headers, Vec<u8>)> = vec![
        (
            "signed with another key",
            signed(&wrong_key, &now, &body),
            body.clone(),
        ),
        ("a body byte flipped after signing", good.clone(), flipped),
        (
            "signed six minutes ago",
            signed(&test_key(), &seconds_from_now(-360), &body),
            body.clone(),
        ),
        (
            "signed six minutes ahead",
            signed(&test_key(), &seconds_from_now(360), &body),
            body.clone(),
        ),
        ("no signature headers", vec![], body.clone()),
        ("no timestamp", vec![good[0].clone()], body.clone()),
        ("no signature", vec![good[1].clone()], body.clone()),
        (
            "a signature that is not hex",
            vec![("x-signature-ed25519", "zz".repeat(64)), good[1].clone()],
            body.clone(),
        ),
    ];
    for (what, headers, sent) in cases {
        let answer = double.post_to_bot(headers, sent).await;
        assert_eq!(answer.status, 401, "{what}: {answer:?}");
    }
    assert_nothing_happened(&double, &provider, &app);
    assert!(
        app.jobs
            .get(&seedance_bot::jobs::JobId(injected.id.to_string()))
            .is_none()
    );

    // The same request, signed now with the application's key, is served.
    let answer = double.post_to_bot(good, body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["type"], 4, "the card: {}", answer.body);
    let deadline = tokio::time::Instant::now() + secs(5);
    while app.balance().pending + app.balance().settled != COST {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            app.balance()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_4xx_and_the_bot_keeps_serving() {
    let (double, provider, _dir, app) = setup_in(Mode::Http).await;
    let huge = {
        let mut payload = double.prepare(&video("a huge boat")).payload;
        payload["data"]["padding"] = serde_json::json!("x".repeat(300 * 1024));
        payload.to_string().into_bytes()
    };
    let answer = double.post_signed(huge).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    for (what, body) in [
        ("not JSON", b"{\"type\": 2, \"data\":".to_vec()),
        ("JSON of no interaction", b"{\"type\": 2}".to_vec()),
        ("an unknown type", b"{\"type\": 99, \"id\": \"1\"}".to_vec()),
        ("empty", Vec::new()),
    ] {
        let answer = double.post_signed(body).await;
        assert_eq!(answer.status, 400, "{what}: {answer:?}");
    }
    assert_nothing_happened(&double, &provider, &app);

    // Still serving: a PING and a command.
    let ping = double.ping_payload().to_string().into_bytes();
    assert_eq!(double.post_signed(ping).await.json()["type"], 1);
    let injected = double.inject(&video("a boat after the noise")).await;
    assert_eq!(callback(&double, &injected).await["type"], 4);
    assert_no_violations(&double);
    app.stop().await;
}

async fn healthz(app: &TestApp) -> (u16, Value) {
    let url = format!("http://{}/healthz", app.address.expect("listening"));
    let response = reqwest::get(url).await.expect("healthz answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn healthz_reports_http_mode_and_checks_no_gateway() {
    let (_double, _provider, _dir, app) = setup_in(Mode::Http).await;
    let (status, body) = healthz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mode"], "http");
    assert_eq!(body["status"], "ok");
    assert!(body["checks"].get("gateway").is_none(), "{body}");
    assert_eq!(body["checks"]["store"]["ok"], true, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn while_draining_http_interactions_are_answered_restarting() {
    let (double, provider, _dir, mut app) = setup_in(Mode::Http).await;
    // A /video whose thread creation Discord holds 2.5 s: still being handled when the
    // shutdown signal comes, so the bot drains (up to 3 s) with its endpoint still up.
    double.delay_next(
        "POST /channels/*/messages/*/threads",
        Duration::from_millis(2500),
    );
    let first = double.inject(&video("a boat before the restart")).await;
    assert_eq!(callback(&double, &first).await["type"], 4);
    app.begin_stop();
    let deadline = tokio::time::Instant::now() + secs(2);
    while healthz(&app).await.1["status"] != "draining" {
        assert!(tokio::time::Instant::now() < deadline, "never draining");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let command = double.inject(&video("a boat while restarting")).await;
    let cb = callback(&double, &command).await;
    assert_eq!(cb["data"]["flags"].as_u64().unwrap_or(0) & 64, 64, "{cb}");
    assert_eq!(cb["data"]["content"], RESTARTING);
    let press = double
        .press(&ButtonPress::in_guild(
            "seedance:cancel:x",
            42,
            GUILD,
            CHANNEL,
            OTHER_MEMBER,
        ))
        .await;
    let cb = callback(&double, &press).await;
    assert_eq!(cb["data"]["content"], RESTARTING, "{cb}");
    let chinese = double.inject(&video("一条船").locale("zh-CN")).await;
    let cb = callback(&double, &chinese).await;
    assert_eq!(
        cb["data"]["content"], "机器人正在重启，请一分钟后再试。",
        "{cb}"
    );
    assert!(
        app.jobs
            .get(&seedance_bot::jobs::JobId(command.id.to_string()))
            .is_none()
    );
    // The interaction handled before the signal finished: its job was accepted.
    assert!(
        app.jobs
            .get(&seedance_bot::jobs::JobId(first.id.to_string()))
            .is_some()
    );
    assert!(provider.count(Endpoint::CreateTask) <= 1);
    assert_pings_at_most_one(&double);
    app.stop().await;
}

#[tokio::test]
async fn a_card_discord_has_not_taken_in_yet_is_waited_for_before_its_thread() {
    let (double, _provider, _dir, app) = setup_in(Mode::Http).await;
    // Discord acts on the HTTP response 300 ms after getting it; the bot asks for the
    // card's message (to start its thread) at once.
    double.lag_http_answers(Duration::from_millis(300));
    let injected = double
        .inject(&video("a boat Discord is slow to show"))
        .await;
    assert_eq!(callback(&double, &injected).await["type"], 4);
    let card = super::video::card_id(&double, &injected);
    let job = super::video::wait_delivered(&app, &injected.id.to_string()).await;
    assert_eq!(job.reply.message, Some(card));
    assert_eq!(
        job.reply.thread.map(|t| t.0),
        Some(card),
        "the thread of the card"
    );
    // The original was asked for before Discord had it, then found.
    let lookups: Vec<u16> = double
        .requests()
        .iter()
        .filter(|r| {
            r.is(
                "GET",
                &format!("/webhooks/*/{}/messages/@original", injected.token),
            )
        })
        .map(|r| r.status)
        .collect();
    assert_eq!(lookups.first(), Some(&404), "{lookups:?}");
    assert_eq!(lookups.last(), Some(&200), "{lookups:?}");
    // Nobody was told the card could not be shown.
    assert!(
        double.answers(&injected).len() == 1,
        "{:#?}",
        double.answers(&injected)
    );
    assert_pings_only(&double, MEMBER);
    app.stop().await;
}

/// The real binary, configured by the environment as an operator would: no gateway, a PING
/// and a `/video` answered over HTTP, an unsigned request refused, SIGTERM exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_in_http_mode_serves_interactions_and_stops_cleanly() {
    use crate::process::{Running, environment, free_port, grant_before_the_run, wait_healthy};

    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![crate::support::fake_provider::Step::waiting()]);
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut env = environment(&double, &provider, dir.path(), &listen);
    env.push(("SEEDANCE_BOT__DISCORD__MODE".into(), "http".into()));
    env.push((
        "SEEDANCE_BOT__DISCORD__PUBLIC_KEY".into(),
        crate::support::discord_double::public_key_hex(),
    ));
    grant_before_the_run(&env, 1000);
    let mut bot = Running::spawn(&env);
    let health = wait_healthy(&format!("http://{listen}")).await;
    assert_eq!(health["mode"], "http", "{health}");
    let deadline = tokio::time::Instant::now() + secs(10);
    while double.commands(Some(GUILD)).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "never registered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    double.deliver_over_http(&format!("http://{listen}/interactions"));

    let ping = double.ping_payload().to_string().into_bytes();
    assert_eq!(double.post_signed(ping.clone()).await.json()["type"], 1);
    assert_eq!(double.post_to_bot(vec![], ping).await.status, 401);
    let injected = double.inject(&video("a boat over HTTP")).await;
    let card = callback(&double, &injected).await;
    assert!(card["data"]["embeds"][0].is_object(), "{card}");
    assert_eq!(double.sessions(), 0, "no gateway session");

    bot.terminate();
    assert_eq!(bot.exit_code(secs(5)).await, Some(0));
    let logs = bot.logs.lock().unwrap().join("\n");
    assert!(logs.contains("serving interactions over HTTP"), "{logs}");
    assert!(!logs.contains(TOKEN_SECRET), "the bot token leaked");
    assert!(
        !logs.contains(&injected.token),
        "an interaction token leaked"
    );
    assert_no_violations(&double);
}
