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

/// The traps: only the first problem was reported, in serde's words; a number-like key in
/// the environment was refused as "must be a string"; `localhost:8080` was refused.
#[test]
fn a_config_error_lists_every_problem_and_number_like_secrets_are_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[video]\nmax_duration = 60\n[jobs]\nmax_active = 3\n[members]\ncommand_window = \"0s\"\n[credits]\ndefault_daily_cap = -5\n[http]\nlisten = \"localhost:8080\"\n",
    )
    .unwrap();
    let secrets = [("DISCORD_TOKEN", "t"), ("SEEDANCE_API_KEY", "12345678")];
    let out = bot(dir.path(), &["check-config"], &secrets);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("4 problems"), "{said}");
    for wanted in [
        "`video.max_duration` is 60, but the provider makes videos of 4 to 15 seconds",
        "`jobs.max_active` is not a setting",
        "`members.command_window` is 0s",
        "`credits.default_daily_cap` is -5, but it must be a whole number, 0 or more",
    ] {
        assert!(said.contains(wanted), "no {wanted} in:\n{said}");
    }
    assert!(
        !said.contains("http.listen") && !said.contains("api_key"),
        "{said}"
    );

    std::fs::write(
        dir.path().join("config.toml"),
        "[http]\nlisten = \"localhost:8080\"\n",
    )
    .unwrap();
    let out = bot(
        dir.path(),
        &["check-config"],
        &[("DISCORD_TOKEN", "t"), ("SEEDANCE_API_KEY", "0123")],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("0123"));
}

#[test]
fn healthcheck_names_a_url_that_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = bot(dir.path(), &["healthcheck", "--url", "notaurl"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out),
        "unhealthy: --url `notaurl` is not an http(s) URL: give it like http://127.0.0.1:8080/healthz\n"
    );
}

#[test]
fn register_commands_says_once_what_failed_and_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let out = bot(
        dir.path(),
        &["register-commands"],
        &[
            ("DISCORD_TOKEN", "t"),
            ("SEEDANCE_BOT__DISCORD__API_BASE_URL", &nowhere),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("discord.api_base_url"), "{said}");
    // Every part of the cause is said once.
    let parts: Vec<&str> = said.trim_end().split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].contains(part),
            "said twice: {part} in {said}"
        );
    }
}
