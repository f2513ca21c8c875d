//! The configuration's tests: the example file, the defaults, and the problems reported
//! (every one at once, in plain words, never with a secret).

use std::time::Duration;

use secrecy::ExposeSecret;

use super::*;
use crate::video::{Ratio, Resolution};

#[test]
fn example_file_parses_and_documents_every_default() {
    let text = include_str!("../../config.example.toml");
    let example = Config::from_toml(text).expect("config.example.toml must parse");
    let defaults = Config::defaults();
    // The example shows the defaults: loading it must change nothing.
    assert_eq!(format!("{example:?}"), format!("{defaults:?}"));
    // Every key of the built-in defaults is written in the example.
    let documented: toml_keys::Keys = toml_keys::collect(text);
    for key in toml_keys::collect(DEFAULTS) {
        assert!(
            documented.contains(&key),
            "config.example.toml does not document `{key}`"
        );
    }
}

/// Dotted key paths of a TOML document, e.g. `jobs.poll_initial`.
mod toml_keys {
    pub type Keys = Vec<String>;

    pub fn collect(text: &str) -> Keys {
        let value: toml::Value = toml::from_str(text).expect("valid TOML");
        let mut keys = Vec::new();
        walk(&value, "", &mut keys);
        keys
    }

    fn walk(value: &toml::Value, prefix: &str, keys: &mut Keys) {
        if let toml::Value::Table(table) = value {
            for (k, v) in table {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(v, &path, keys);
                keys.push(path);
            }
        }
    }
}

#[test]
fn http_mode_needs_a_valid_public_key_and_an_address() {
    let c = Config::defaults();
    assert_eq!(c.discord.mode, DiscordMode::Gateway);
    assert_eq!(c.discord.public_key, "");

    let err = Config::from_toml("[discord]\nmode = \"http\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`discord.public_key` is ``"), "{err}");
    assert!(err.contains("64 hex digits"), "{err}");
    assert!(err.contains("`http.listen` is empty"), "{err}");

    let not_hex = "zz".repeat(32);
    let err = Config::from_toml(&format!(
        "[discord]\nmode = \"http\"\npublic_key = \"{not_hex}\"\n[http]\nlisten = \"127.0.0.1:0\""
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("discord.public_key"), "{err}");
    assert!(err.contains("hex digits only"), "{err}");
    assert!(!err.contains("http.listen"), "{err}");

    let err = Config::from_toml("[discord]\nmode = \"webhook\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("discord.mode"), "{err}");

    // The key of RFC 8032's first test vector.
    let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let c = Config::from_toml(&format!(
        "[discord]\nmode = \"http\"\npublic_key = \"{key}\"\n[http]\nlisten = \"127.0.0.1:0\""
    ))
    .expect("a valid http configuration");
    assert_eq!(c.discord.mode, DiscordMode::Http);
    assert_eq!(public_key(key).map(|k| k[0]), Ok(0xd7));
    // A key is not checked in gateway mode.
    Config::from_toml("[discord]\npublic_key = \"nope\"").expect("gateway ignores it");
}

#[test]
fn defaults_match_the_documented_values() {
    let c = Config::defaults();
    assert_eq!(c.seedance.base_url, "https://aigptimage.com");
    assert_eq!(c.seedance.model, "seedance-2.0-reference-to-video");
    assert_eq!(c.credits.price(Resolution::P480, 1, false), Some(40));
    assert_eq!(c.credits.price(Resolution::P720, 5, false), Some(400));
    assert_eq!(c.credits.price(Resolution::P1080, 10, false), Some(1600));
    // Audio adds its own per-second price.
    assert_eq!(c.credits.price(Resolution::P720, 5, true), Some(800));
    assert_eq!(c.jobs.poll_initial, Duration::from_secs(3));
    assert_eq!(c.video.default_ratio, Ratio::Landscape);
}

#[test]
fn bad_duration_names_key_value_and_form() {
    let err = Config::from_toml("[jobs]\npoll_initial = \"soon\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("jobs.poll_initial"), "{err}");
    assert!(err.contains("soon"), "{err}");
    assert!(err.contains("\"250ms\""), "{err}");
}

#[test]
fn bad_enum_and_range_are_named() {
    let err = Config::from_toml("[video]\ndefault_resolution = \"4k\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("video.default_resolution"), "{err}");
    let err = Config::from_toml("[video]\ndefault_duration = 60")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("video.default_duration")
            && err.contains("60")
            && err.contains("between 4 and 15"),
        "{err}"
    );
    let err = Config::from_toml("[jobs]\nmax_active = 3")
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_active"), "{err}");
}

/// The trap: only the first problem was reported, in serde's words.
#[test]
fn every_problem_is_reported_at_once_in_plain_words() {
    let err = Config::from_toml(
        "[video]\nmax_duration = -5\n[jobs]\nmax_active = 3\n[members]\ncommand_window = \"0s\"\n[storage]\npath = \"\"\n[seedance]\nmode = \"dry\"",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("invalid configuration, 5 problems:"),
        "{err}"
    );
    assert!(
        err.contains("`video.max_duration` is -5, but it must be a whole number, 0 or more"),
        "{err}"
    );
    assert!(
        err.contains(
            "`jobs.max_active` is not a setting: remove it, or use one of jobs.poll_initial,"
        ),
        "{err}"
    );
    assert!(err.contains("`members.command_window` is 0s"), "{err}");
    assert!(err.contains("`storage.path` is empty"), "{err}");
    assert!(
        err.contains("`seedance.mode` is \"dry\", but it must be one of live, simulate"),
        "{err}"
    );
    assert!(!err.contains("``"), "nested backticks: {err}");
}

#[test]
fn numbers_are_range_checked() {
    let err = Config::from_toml("[video]\nmax_duration = 60")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "`video.max_duration` is 60, but the provider makes videos of 4 to 15 seconds"
        ),
        "{err}"
    );
    let err = Config::from_toml("[jobs]\nmax_active_per_user = 1000")
        .unwrap_err()
        .to_string();
    assert!(err.contains("between 1 and 100"), "{err}");
    let err = Config::from_toml("[credits.audio_price_per_second]\n720p = 2000000")
        .unwrap_err()
        .to_string();
    assert!(err.contains("credits.audio_price_per_second.720p"), "{err}");
    // A zero-length window is fine when the limit is off anyway.
    Config::from_toml("[members]\ncommands_per_window = 0\ncommand_window = \"0s\"").unwrap();
}

#[test]
fn a_host_name_listen_and_a_number_like_secret_are_accepted() {
    let c =
        Config::from_toml("[http]\nlisten = \"localhost:8080\"\n[seedance]\napi_key = 12345678")
            .unwrap();
    assert_eq!(c.seedance.api_key.expose_secret(), "12345678");
    assert!(Config::from_toml("[http]\nlisten = \"8080\"").is_err());
}

#[test]
fn secrets_never_show_in_debug_or_errors() {
    let c = Config::from_toml(
        "[discord]\ntoken = \"tok-SECRET-1\"\n[seedance]\napi_key = \"key-SECRET-2\"",
    )
    .unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("SECRET"), "{debug}");
    let err = Config::from_toml("[seedance]\napi_key = 12345.678")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("12345"), "{err}");
    assert!(err.contains("seedance.api_key` must be text"), "{err}");
}
