//! Approval above a price through Discord: `/video-admin approval above:N` and `approver`,
//! a held job's card ("waiting for approval", **Approve**, **Reject**, **Cancel**), who may
//! press them (Manage Server or the approver role, read from the press; never the requester
//! on their own job without Manage Server), and what each ending tells the member. The ledger
//! verifies after each step and every balance is exact.

use seedance_bot::jobs::{DecisionKind, JobId, JobState};

use super::i18n::private_reply;
use super::video::{COST, callback, card_id, final_message, setup_in, video, wait_delivered};
use super::*;
use crate::support::discord_double::{ButtonPress, Injected, Opt, SlashCommand, perms};
use crate::support::fake_provider::{Endpoint, Step};

/// Holds the approver role in these tests.
const APPROVER: u64 = 900_000_000_000_000_021;
/// A member with neither Manage Server nor the approver role.
const BYSTANDER: u64 = 900_000_000_000_000_022;
/// A member with Manage Server.
const ADMIN: u64 = 900_000_000_000_000_023;

fn admin(sub: &str, options: Vec<Opt>) -> SlashCommand {
    SlashCommand::in_guild("video-admin", GUILD, CHANNEL, ADMIN)
        .member_permissions(perms::MEMBER | perms::MANAGE_GUILD)
        .option(Opt::subcommand(sub, options))
}

fn assert_verifies(app: &TestApp) {
    assert_eq!(app.ledger.verify().unwrap(), Vec::<String>::new());
    assert_eq!(
        seedance_bot::jobs::verify::verify(&app.ledger).unwrap(),
        Vec::<String>::new()
    );
}

fn field(embed: &Value, name: &str) -> String {
    embed["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name} in {embed}"))
        .to_owned()
}

fn buttons(message: &Value) -> Vec<(String, String)> {
    message["components"][0]["components"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|b| {
                    (
                        b["label"].as_str().unwrap_or_default().to_owned(),
                        b["custom_id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A press's private answer.
async fn press(double: &DiscordDouble, press: ButtonPress) -> String {
    let injected = double.press(&press).await;
    let cb = callback(double, &injected).await;
    assert_eq!(
        cb["data"]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "a private answer: {cb}"
    );
    cb["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn on_card(custom_id: &str, card: u64, who: u64) -> ButtonPress {
    ButtonPress::in_guild(custom_id, card, GUILD, CHANNEL, who)
}

/// A held job's card, then who may press what: refusals change nothing, the approver's
/// press queues the job, and it is made and paid as any other.
async fn held_job_is_approved_by_an_approver_not_by_others(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    let text = private_reply(
        &double,
        &admin("approval", vec![Opt::integer("above", 300)]),
    )
    .await;
    assert!(
        text.starts_with("Videos costing more than 300 credits now wait for approval"),
        "{text}"
    );
    assert!(
        text.contains("**Approval**: videos costing more than 300 credits wait for approval; decided by members with Manage Server"),
        "{text}"
    );
    let text = private_reply(&double, &admin("approver", vec![Opt::role("role", ROLE)])).await;
    assert!(
        text.contains(&format!(
            "decided by members with Manage Server or <@&{ROLE}>"
        )),
        "{text}"
    );
    // Not an admin: refused privately, nothing changed.
    let text = private_reply(
        &double,
        &SlashCommand::in_guild("video-admin", GUILD, CHANNEL, BYSTANDER)
            .option(Opt::subcommand("approval", vec![Opt::integer("above", 0)])),
    )
    .await;
    assert!(text.contains("Manage Server"), "{text}");

    // The member holds the approver role themselves: it does not let them approve their own.
    let injected = double.inject(&video("a lighthouse").roles(&[ROLE])).await;
    let cb = callback(&double, &injected).await;
    let embed = &cb["data"]["embeds"][0];
    assert_eq!(
        field(embed, "State"),
        "Waiting for approval: a server admin decides whether it is made"
    );
    assert_eq!(
        field(embed, "Cost"),
        "400 credits (held while it waits for approval; refunded if it is rejected)"
    );
    assert!(!embed.to_string().contains("Queue position"), "{embed}");
    let id = injected.id.to_string();
    let labels: Vec<String> = buttons(&cb["data"]).into_iter().map(|b| b.0).collect();
    assert_eq!(labels, ["Approve", "Reject", "Cancel"]);
    let card = card_id(&double, &injected);
    let approve = format!("seedance:approve:{id}");
    assert_eq!(app.balance().pending, COST, "held at admission");
    assert_eq!(app.balance().available, 1000 - COST);

    let text = press(&double, on_card(&approve, card, BYSTANDER)).await;
    assert_eq!(
        text,
        format!(
            "Only members with the Manage Server permission or <@&{ROLE}> can approve or reject videos here. Nothing changed."
        )
    );
    let text = press(&double, on_card(&approve, card, MEMBER).roles(&[ROLE])).await;
    assert!(
        text.starts_with("You cannot approve your own video"),
        "{text}"
    );
    // A zh-CN bystander reads the refusal in Chinese.
    let text = press(&double, on_card(&approve, card, BYSTANDER).locale("zh-CN")).await;
    assert!(text.starts_with("只有拥有“管理服务器”权限或"), "{text}");
    let job = app.jobs.get(&JobId(id.clone())).unwrap();
    assert_eq!(job.state, JobState::AwaitingApproval);
    assert_eq!(job.decision, None);
    assert_eq!(
        provider.count(Endpoint::CreateTask),
        0,
        "nothing sent while held"
    );
    assert_verifies(&app);

    // The approver role (pressing on someone else's job) approves: queued, made, paid.
    let text = press(&double, on_card(&approve, card, APPROVER).roles(&[ROLE])).await;
    assert_eq!(
        text,
        "Approved: the video joins the queue; its 400 credits stay held until it is made."
    );
    let done = final_message(&double, card).await;
    assert!(
        done["content"]
            .as_str()
            .unwrap()
            .contains("your video is ready"),
        "{done}"
    );
    let job = wait_delivered(&app, &id).await;
    assert!(matches!(job.state, JobState::Succeeded { .. }));
    let decision = job.decision.unwrap();
    assert_eq!(decision.kind, DecisionKind::Approved);
    assert_eq!(decision.by.map(|m| m.0), Some(APPROVER));
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (1000 - COST, 0, COST));
    let shown = double.message(card).unwrap();
    assert_eq!(
        field(&shown["embeds"][0], "Approval"),
        format!("approved by <@{APPROVER}>")
    );
    // Deciding again changes nothing.
    let text = press(
        &double,
        on_card(&approve, card, ADMIN).member_permissions(perms::MEMBER | perms::MANAGE_GUILD),
    )
    .await;
    assert_eq!(
        text,
        "This video is no longer waiting for approval (it is succeeded). Nothing changed."
    );
    assert_verifies(&app);
    assert_pings_at_most_one(&double);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(held_job_is_approved_by_an_approver_not_by_others);

/// Rejected (in a server whose public language is Chinese): refunded, nothing charged, and
/// the member told in the job's thread; the member's own Cancel of a held job refunds too;
/// a requester with Manage Server may approve their own; a video at the threshold goes
/// straight to the queue.
async fn rejection_and_cancel_refund_and_the_threshold_is_exclusive(mode: Mode) {
    let (double, provider, _dir, app) = setup_in(mode).await;
    private_reply(
        &double,
        &admin("language", vec![Opt::integer("language", 1)]),
    )
    .await;
    private_reply(
        &double,
        &admin("approval", vec![Opt::integer("above", COST as i64 - 1)]),
    )
    .await;

    let injected = double.inject(&video("一座灯塔")).await;
    let cb = callback(&double, &injected).await;
    let embed = &cb["data"]["embeds"][0];
    let card = card_id(&double, &injected);
    assert_eq!(field(embed, "状态"), "等待审批：由服务器管理员决定是否生成");
    let labels: Vec<String> = buttons(&cb["data"]).into_iter().map(|b| b.0).collect();
    assert_eq!(labels, ["批准", "拒绝", "取消"]);
    let id = injected.id.to_string();

    // The requester cannot approve it without Manage Server; an admin rejects it.
    let text = press(
        &double,
        on_card(&format!("seedance:approve:{id}"), card, MEMBER),
    )
    .await;
    assert!(
        text.starts_with("Only members with the Manage Server permission can"),
        "{text}"
    );
    let text = press(
        &double,
        on_card(&format!("seedance:reject:{id}"), card, ADMIN)
            .member_permissions(perms::MEMBER | perms::MANAGE_GUILD),
    )
    .await;
    assert_eq!(
        text,
        "Rejected: the 400 credits held for it went back to the pool, and the member is told."
    );
    let done = final_message(&double, card).await;
    let content = done["content"].as_str().unwrap().to_owned();
    assert_eq!(
        content,
        format!(
            "<@{MEMBER}> 你的视频未获批准：<@{ADMIN}> 在生成前拒绝了它。为它冻结的 400 积分已退回积分池：已退款，未扣除任何积分。"
        )
    );
    let job = wait_delivered(&app, &id).await;
    assert_eq!(job.state, JobState::Rejected);
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (1000, 0, 0));
    let shown = double.message(card).unwrap();
    assert_eq!(field(&shown["embeds"][0], "费用"), "400 积分（已退还）");
    assert_eq!(buttons(&shown)[0].0, "再来一次");
    assert_verifies(&app);

    // The member cancels their own held job: refunded.
    let injected = double.inject(&video("a second lighthouse")).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    let id = injected.id.to_string();
    let text = press(
        &double,
        on_card(&format!("seedance:cancel:{id}"), card, MEMBER),
    )
    .await;
    assert_eq!(text, "Cancelled: 400 credits went back to the pool.");
    let job = wait_delivered(&app, &id).await;
    assert_eq!(job.state, JobState::Cancelled);
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (1000, 0, 0));
    assert_verifies(&app);

    // With Manage Server, the requester may approve their own.
    let injected = double.inject(&video("a fourth lighthouse")).await;
    callback(&double, &injected).await;
    let card = card_id(&double, &injected);
    let id = injected.id.to_string();
    let text = press(
        &double,
        on_card(&format!("seedance:approve:{id}"), card, MEMBER)
            .member_permissions(perms::MEMBER | perms::MANAGE_GUILD),
    )
    .await;
    assert!(text.starts_with("Approved:"), "{text}");
    let job = wait_delivered(&app, &id).await;
    assert!(matches!(job.state, JobState::Succeeded { .. }));
    assert_eq!(job.decision.and_then(|d| d.by).map(|m| m.0), Some(MEMBER));
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (1000 - COST, 0, COST));
    assert_verifies(&app);

    // At the threshold: no approval needed.
    private_reply(
        &double,
        &admin("approval", vec![Opt::integer("above", COST as i64)]),
    )
    .await;
    let injected = double.inject(&video("a third lighthouse")).await;
    let cb = callback(&double, &injected).await;
    assert_ne!(
        field(&cb["data"]["embeds"][0], "状态"),
        "等待审批：由服务器管理员决定是否生成"
    );
    let job = wait_delivered(&app, &injected.id.to_string()).await;
    assert!(matches!(job.state, JobState::Succeeded { .. }));
    assert_eq!(job.decision, None);
    assert_eq!(provider.count(Endpoint::CreateTask), 2);
    let b = app.balance();
    assert_eq!(
        (b.available, b.pending, b.settled),
        (1000 - 2 * COST, 0, 2 * COST)
    );
    assert_verifies(&app);
    assert_pings_at_most_one(&double);
    assert_no_violations(&double);
    app.stop().await;
}

crate::in_both_modes!(rejection_and_cancel_refund_and_the_threshold_is_exclusive);

/// Held jobs survive a restart and stay decidable; one nobody decides is refunded when
/// `jobs.approval_timeout` (short here) has passed since its admission, and the member is told.
#[tokio::test]
async fn a_restart_keeps_held_jobs_decidable_and_their_expiry_armed() {
    let double = DiscordDouble::start().await;
    let provider = FakeProvider::start().await;
    provider.set_default_script(vec![
        Step::waiting(),
        Step::success(["https://results.fake.test/x.mp4"]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*app_config(&double, &provider, dir.path(), "")).clone();
    config.jobs.approval_timeout = secs(6);
    let config = Arc::new(config);
    let app = TestApp::start(&double, config.clone()).await;
    app.grant(1000).await;
    private_reply(
        &double,
        &admin("approval", vec![Opt::integer("above", 300)]),
    )
    .await;
    let mut held: Vec<(Injected, u64)> = Vec::new();
    for who in [MEMBER, OTHER_MEMBER] {
        let injected = double
            .inject(
                &SlashCommand::in_guild("video", GUILD, CHANNEL, who)
                    .option(Opt::string("prompt", "a slow boat")),
            )
            .await;
        callback(&double, &injected).await;
        let card = card_id(&double, &injected);
        held.push((injected, card));
    }
    app.stop().await;

    let app = TestApp::start(&double, config).await;
    let (first, first_card) = &held[0];
    let (second, second_card) = &held[1];
    let first_id = JobId(first.id.to_string());
    assert_eq!(
        app.jobs.get(&first_id).unwrap().state,
        JobState::AwaitingApproval
    );
    let text = press(
        &double,
        on_card(&format!("seedance:reject:{}", first.id), *first_card, ADMIN)
            .member_permissions(perms::MEMBER | perms::MANAGE_GUILD),
    )
    .await;
    assert!(text.starts_with("Rejected:"), "{text}");
    let done = final_message(&double, *first_card).await;
    assert!(
        done["content"]
            .as_str()
            .unwrap()
            .contains("refunded, nothing charged"),
        "{done}"
    );

    // Nobody decides on the other one: refunded once its time is up.
    let done = double
        .wait_for(
            |r| r.is("POST", &format!("/channels/{second_card}/messages")),
            secs(15),
        )
        .await
        .body()
        .clone();
    assert_eq!(
        done["content"],
        format!(
            "<@{OTHER_MEMBER}> your video was not approved in time, so it was not made. The 400 credits held for it went back to the pool: refunded, nothing charged."
        )
    );
    let job = wait_delivered(&app, &second.id.to_string()).await;
    assert_eq!(job.state, JobState::ApprovalExpired);
    assert_eq!(job.decision.map(|d| d.kind), Some(DecisionKind::Expired));
    let b = app.balance();
    assert_eq!((b.available, b.pending, b.settled), (1000, 0, 0));
    assert_eq!(provider.count(Endpoint::CreateTask), 0);
    assert_verifies(&app);
    assert_no_violations(&double);
    app.stop().await;
}
