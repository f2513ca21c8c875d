//! Reading the layered values into `Config`, collecting every problem instead of stopping
//! at the first: after each error the bad key is put back to its default (or, if unknown,
//! dropped) and the rest is read again.

use figment::Figment;
use figment::error::{Actual, Kind};
use figment::providers::{Format, Serialized, Toml};
use figment::value::Value;

use super::{Config, DEFAULTS};

/// At most this many rounds of "fix one key, read again" (a file has a few dozen keys).
const ROUNDS: usize = 64;

/// The configuration, or `None` with the reasons added to `problems`.
pub(super) fn all(figment: Figment, problems: &mut Vec<String>) -> Option<Config> {
    let mut value: Value = match figment.extract() {
        Ok(value) => value,
        Err(errors) => {
            // The layers themselves could not be read (a TOML syntax error).
            problems.extend(errors.into_iter().map(|e| e.to_string()));
            return None;
        }
    };
    let defaults: Value = Figment::from(Toml::string(DEFAULTS))
        .extract()
        .expect("built-in defaults are valid TOML");
    for _ in 0..ROUNDS {
        let errors = match Figment::from(Serialized::defaults(&value)).extract::<Config>() {
            Ok(config) => return Some(config),
            Err(errors) => errors,
        };
        let mut repaired = false;
        for e in errors {
            problems.push(describe(&e));
            repaired |= repair(&mut value, &defaults, &e);
        }
        if !repaired {
            return None;
        }
    }
    None
}

/// Puts the key `e` names back to its default, or drops it when it is unknown.
fn repair(value: &mut Value, defaults: &Value, e: &figment::Error) -> bool {
    if let Kind::UnknownField(field, _) = &e.kind {
        return match at(value, parent_of(&e.path, field)) {
            Some(Value::Dict(_, dict)) => dict.remove(field).is_some(),
            _ => false,
        };
    }
    let Some((last, parent)) = e.path.split_last() else {
        return false;
    };
    let default = defaults.clone().find(&e.path.join("."));
    match at(value, parent) {
        Some(Value::Dict(_, dict)) => match default {
            Some(default) => dict.insert(last.clone(), default).is_some(),
            None => dict.remove(last).is_some(),
        },
        _ => false,
    }
}

/// figment puts an unknown field's own name at the end of its path; the table is above it.
fn parent_of<'a>(path: &'a [String], field: &str) -> &'a [String] {
    match path.split_last() {
        Some((last, parent)) if last == field => parent,
        _ => path,
    }
}

fn at<'a>(mut value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    for key in path {
        match value {
            Value::Dict(_, dict) => value = dict.get_mut(key)?,
            _ => return None,
        }
    }
    Some(value)
}

/// One problem as a person can act on it: the key, what is wrong, what is allowed. A
/// secret's value is never shown.
fn describe(e: &figment::Error) -> String {
    let path = match &e.kind {
        Kind::UnknownField(field, _) => parent_of(&e.path, field),
        _ => &e.path,
    };
    let key = path.join(".");
    let secret = key.ends_with("token") || key.ends_with("api_key");
    let full = |field: &str| {
        if key.is_empty() {
            field.to_owned()
        } else {
            format!("{key}.{field}")
        }
    };
    match &e.kind {
        Kind::UnknownField(field, expected) => {
            let known: Vec<String> = expected.iter().map(|k| full(k)).collect();
            format!(
                "`{}` is not a setting: remove it, or use one of {}",
                full(field),
                known.join(", ")
            )
        }
        _ if secret => format!("`{key}` must be text: write it in quotes (it is never shown)"),
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => format!(
            "`{key}` is {}, but it must be {}",
            shown(actual),
            words(expected)
        ),
        Kind::UnknownVariant(found, expected) => format!(
            "`{key}` is \"{found}\", but it must be one of {}",
            expected.join(", ")
        ),
        Kind::MissingField(field) => format!("`{}` is missing: set it", full(field)),
        Kind::Message(message) if !key.is_empty() => format!("`{key}`: {message}"),
        other if !key.is_empty() => format!("`{key}`: {other}"),
        other => other.to_string(),
    }
}

fn shown(actual: &Actual) -> String {
    match actual {
        Actual::Unsigned(n) => n.to_string(),
        Actual::Signed(n) => n.to_string(),
        Actual::Float(n) => n.to_string(),
        Actual::Bool(b) => b.to_string(),
        Actual::Str(s) => format!("\"{s}\""),
        Actual::Seq => "a list".into(),
        Actual::Map => "a table".into(),
        other => other.to_string(),
    }
}

fn words(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a string" => "text in quotes".into(),
        "a boolean" => "true or false".into(),
        other => other.to_owned(),
    }
}
