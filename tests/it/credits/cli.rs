//! `seedance-bot credits ...` as a process, against a temp data directory.

use std::path::Path;
use std::process::{Command, Output};

fn credits(data: &Path, args: &[&str]) -> Output {
    let work = data.parent().unwrap();
    Command::new(env!("CARGO_BIN_EXE_seedance-bot"))
        .arg("credits")
        .args(args)
        // No config.toml of the developer's may leak in.
        .current_dir(work)
        .env("SEEDANCE_BOT__STORAGE__PATH", data)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = credits(data, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn grant_show_history_export_link_unlink() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();

    let out = ok(
        data,
        &[
            "grant",
            "--guild",
            "1",
            "--amount",
            "500",
            "--reason",
            "top-up, May",
            "--create",
        ],
    );
    assert!(out.contains("500 available"), "{out}");
    let out = ok(
        data,
        &[
            "grant", "--guild", "1", "--amount", "-120", "--reason", "refund",
        ],
    );
    assert!(out.contains("380 available"), "{out}");

    let refused = credits(
        data,
        &[
            "grant", "--guild", "1", "--amount", "-1000", "--reason", "x",
        ],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("only 380 available"), "{stderr}");

    let out = ok(data, &["show", "--guild", "1"]);
    assert!(out.contains("available:   380"), "{out}");
    assert!(out.contains("granted:     380"), "{out}");
    assert!(out.contains("default cap: none"), "{out}");

    let out = ok(data, &["link", "--guild", "2", "--with", "1"]);
    assert!(out.contains("guild 2 now spends from pool 1"), "{out}");
    let out = ok(data, &["show", "--guild", "2"]);
    assert!(out.contains("pool:        1"), "{out}");
    assert!(out.contains("available:   380"), "{out}");
    assert!(out.contains("guilds:      1, 2"), "{out}");

    let out = ok(data, &["history", "--guild", "1", "--limit", "2"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].contains("link") && lines[2].contains("refund"),
        "{out}"
    );

    let csv = ok(data, &["export", "--guild", "1", "--format", "csv"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("seq,at,at_utc,pool,guild,member,actor,kind,amount"),
        "{csv}"
    );
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(
        rows[1].contains(",cli,grant,500,") && rows[1].contains("\"top-up, May\""),
        "{csv}"
    );

    let jsonl = ok(data, &["export", "--guild", "1", "--format", "jsonl"]);
    let entries: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1]["amount"], -120);
    assert_eq!(entries[1]["available_after"], 380);
    assert_eq!(entries[2]["kind"], "link");

    let out = ok(data, &["unlink", "--guild", "2"]);
    assert!(out.contains("its own pool 2"), "{out}");
    let out = ok(data, &["show", "--guild", "2"]);
    assert!(out.contains("available:   0"), "{out}");
    let out = ok(data, &["show", "--guild", "1"]);
    assert!(
        out.contains("available:   380") && out.contains("guilds:      1\n"),
        "{out}"
    );
    assert!(ok(data, &["verify"]).contains("consistent"));
}

#[test]
fn a_data_directory_in_use_gets_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _held = seedance_bot::store::open(&data).unwrap();
    let out = credits(&data, &["show", "--guild", "1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("is another seedance-bot running"),
        "{stderr}"
    );
    assert!(!stderr.contains("WouldBlock"), "{stderr}");
}

/// The trap: a typo or another working directory made a new empty store, and granted
/// credits went where the bot never looks.
#[test]
fn a_missing_store_is_refused_not_invented() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for args in [
        &["show", "--guild", "1"][..],
        &["grant", "--guild", "1", "--amount", "5", "--reason", "x"],
        &["history", "--guild", "1"],
        &["export", "--guild", "1"],
        &["verify"],
    ] {
        let out = credits(&data, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("no seedance-bot store at {}", data.display()))
                && stderr.contains("does not exist")
                && stderr.contains("storage.path")
                && stderr.contains("--config"),
            "{stderr}"
        );
        assert!(!data.exists(), "{args:?} created {}", data.display());
    }
    // A directory that exists but holds no store (the working directory, say) is no better.
    std::fs::create_dir(&data).unwrap();
    let out = credits(&data, &["show", "--guild", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds no store"), "{stderr}");
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
    // `jobs export` reads the same store and refuses the same way.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seedance-bot"))
        .args(["jobs", "export", "--guild", "1"])
        .current_dir(dir.path())
        .env("SEEDANCE_BOT__STORAGE__PATH", &data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no store"));
    // A relative storage.path is named absolutely: where it landed depends on the directory.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seedance-bot"))
        .args(["credits", "show", "--guild", "1"])
        .current_dir(dir.path())
        .env("SEEDANCE_BOT__STORAGE__PATH", "elsewhere")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let absolute = dir.path().join("elsewhere");
    assert!(stderr.contains(&absolute.display().to_string()), "{stderr}");
    // Creating one is a deliberate act, and says where.
    let out = credits(
        &data,
        &[
            "grant", "--guild", "1", "--amount", "5", "--reason", "first", "--create",
        ],
    );
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("created a new store at {}", data.display())),
        "{stderr}"
    );
    assert!(ok(&data, &["show", "--guild", "1"]).contains("available:   5"));
}

#[test]
fn options_that_would_do_nothing_or_record_nonsense_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(
        &data,
        &[
            "grant", "--guild", "1", "--amount", "5", "--reason", "first", "--create",
        ],
    );
    for (args, said) in [
        (
            &["grant", "--guild", "0", "--amount", "5", "--reason", "x"][..],
            "0 is not a server id",
        ),
        (
            &["grant", "--guild", "1", "--amount", "5", "--reason", " "],
            "the reason is empty",
        ),
        (
            &["history", "--guild", "1", "--limit", "0"],
            "give at least 1",
        ),
        (
            &["link", "--guild", "2", "--with", "0"],
            "0 is not a server id",
        ),
    ] {
        let out = credits(&data, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    // Unlinking a guild that is not linked changes nothing, and journals nothing.
    let before = ok(&data, &["export", "--guild", "2"]);
    let out = ok(&data, &["unlink", "--guild", "2"]);
    assert!(out.contains("already spends from its own pool"), "{out}");
    assert_eq!(ok(&data, &["export", "--guild", "2"]), before);
    // Both exports default to csv.
    assert!(before.starts_with("seq,at,"), "{before}");
}
