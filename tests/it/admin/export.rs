//! `seedance-bot jobs export` as a process: every job of a server (who, where, prompt,
//! references, cost, outcome), read offline from the bot's data directory.

use std::process::Command;

use super::*;
use crate::discord::MEMBER;
use crate::support::fake_provider::Scripted;

fn export(data: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_seedance-bot"))
        .args(["jobs", "export"])
        .args(args)
        .current_dir(data.parent().unwrap())
        .env("SEEDANCE_BOT__STORAGE__PATH", data)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_cli_exports_every_job_of_a_server_with_its_outcome() {
    let (double, provider, dir, app) = start(|_| {}).await;
    let made = video("=a boat, at sea").option(Opt::string(
        "references",
        "https://cdn.example.com/boat.png",
    ));
    let (first, _) = accepted(&double, &made).await;
    wait_delivered(&app, &first.id.to_string()).await;
    provider.push(
        Endpoint::CreateTask,
        Scripted::error(401, "invalid api key"),
    );
    let (second, _) = accepted(&double, &video("a failing boat")).await;
    wait_delivered(&app, &second.id.to_string()).await;
    app.stop().await;

    let data = dir.path();
    let jsonl = export(data, &["--guild", &GUILD.to_string(), "--format", "jsonl"]);
    let rows: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{jsonl}");
    assert_eq!(rows[0]["job"], first.id.to_string());
    assert_eq!(rows[0]["member"], MEMBER);
    assert_eq!(rows[0]["channel"], CHANNEL);
    assert_eq!(rows[0]["prompt"], "=a boat, at sea");
    assert_eq!(
        rows[0]["references"][0],
        "image:https://cdn.example.com/boat.png"
    );
    assert_eq!(rows[0]["cost"], 400);
    assert_eq!(rows[0]["state"], "succeeded");
    assert_eq!(rows[0]["outcome"], RESULT_URL);
    assert_eq!(rows[1]["state"], "failed");
    assert!(
        rows[1]["outcome"].as_str().unwrap().contains("operator"),
        "{}",
        rows[1]
    );

    let csv = export(data, &["--guild", &GUILD.to_string()]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("job,created_utc"), "{csv}");
    assert!(
        lines[1].contains("\"'=a boat, at sea\""),
        "quoted, formula defused: {csv}"
    );
    assert!(
        export(data, &["--guild", "1"]).lines().count() == 1,
        "another server has no jobs"
    );
}
