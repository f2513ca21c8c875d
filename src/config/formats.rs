//! How two kinds of values are written in the file and the environment: secrets (text,
//! or an unquoted whole number) and durations (human strings).

use secrecy::SecretString;
use serde::Deserialize;

/// A secret written as text, or as a whole number (an unquoted `12345678` in the file):
/// both are the same characters. Its value never appears in an error.
pub(super) fn secret_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<SecretString, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    match Written::deserialize(d) {
        Ok(Written::Text(s)) => Ok(SecretString::from(s)),
        Ok(Written::Unsigned(n)) => Ok(SecretString::from(n.to_string())),
        Ok(Written::Signed(n)) => Ok(SecretString::from(n.to_string())),
        Err(_) => Err(serde::de::Error::custom(
            "it must be text: write it in quotes (it is never shown)",
        )),
    }
}

/// Durations written as human strings: "250ms", "3s", "30m", "1h 30m".
pub mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim()).map_err(|e| {
            D::Error::custom(format!(
                "`{text}` is not a duration ({e}); write it like \"250ms\", \"3s\", \"30m\" or \"1h\""
            ))
        })
    }

    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*value).to_string())
    }
}
