//! The binary's configuration handling, run as a process the way an operator runs it.

use std::process::{Command, Output};

fn bot(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedance-bot"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("DISCORD_TOKEN")
        .env_remove("SEEDANCE_API_KEY");
    for (k, _) in std::env::vars() {
        if k.starts_with("SEEDANCE_BOT__") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run seedance-bot")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn check_config_accepts_secrets_from_their_short_variables() {
    let dir = tempfile::tempdir().unwrap();
    let out = bot(
        dir.path(),
        &["check-config"],
        &[
            ("DISCORD_TOKEN", "tok-SHORT-VAR"),
            ("SEEDANCE_API_KEY", "key-SHORT-VAR"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("SHORT-VAR"));
}

#[test]
fn check_config_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = bot(dir.path(), &["check-config"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("discord.token (or DISCORD_TOKEN)"),
        "{}",
        text(&out)
    );
}

#[test]
fn environment_overrides_file_and_bad_values_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[jobs]\ndeadline = \"10m\"\n",
    )
    .unwrap();
    let out = bot(
        dir.path(),
        &["check-config"],
        &[("SEEDANCE_BOT__JOBS__DEADLINE", "whenever")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("jobs.deadline") && said.contains("whenever"),
        "{said}"
    );

    // A bad value in the file is reported too, with the key.
    std::fs::write(
        dir.path().join("config.toml"),
        "[video]\ndefault_ratio = \"2:1\"\n",
    )
    .unwrap();
    let out = bot(
        dir.path(),
        &["check-config"],
        &[("DISCORD_TOKEN", "t"), ("SEEDANCE_API_KEY", "k")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("video.default_ratio"), "{}", text(&out));

    // An explicit --config that does not exist is an error, not a silent fallback.
    let out = bot(dir.path(), &["--config", "nope.toml", "check-config"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("nope.toml"), "{}", text(&out));
}
