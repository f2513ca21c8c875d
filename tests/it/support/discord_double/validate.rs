//! Discord's limits on the bodies a bot sends, checked on every request the double gets.
//!
//! Sources: Discord's developer docs as summarised in the project's Discord note, and the
//! official OpenAPI description (`discord/discord-api-spec`, `specs/openapi.json`), read by
//! hand; the schema names are given at each rule. Nothing here reads either at run time.

use serde_json::Value;

/// Message content, for bots. The OpenAPI allows 4000 (`MessageCreateRequest.content`), the
/// limit for Nitro users; bots get 2000 (docs: "Create Message", content "up to 2000 chars").
pub const CONTENT_MAX: usize = 2000;
/// `MessageCreateRequest.embeds.maxItems`.
pub const EMBEDS_MAX: usize = 10;
/// `RichEmbed` and docs "Embed Limits".
pub const EMBED_TITLE_MAX: usize = 256;
pub const EMBED_DESCRIPTION_MAX: usize = 4096;
pub const EMBED_FIELDS_MAX: usize = 25;
pub const EMBED_FIELD_NAME_MAX: usize = 256;
pub const EMBED_FIELD_VALUE_MAX: usize = 1024;
pub const EMBED_FOOTER_MAX: usize = 2048;
pub const EMBED_AUTHOR_MAX: usize = 256;
/// Docs "Embed Limits": title, description, field names and values, footer text and author
/// name of all embeds of a message together.
pub const EMBEDS_TOTAL_MAX: usize = 6000;
/// `MessageCreateRequest.attachments.maxItems`.
pub const ATTACHMENTS_MAX: usize = 10;
/// `CreateTextThreadWithMessageRequest.name`: 1-100.
pub const THREAD_NAME_MAX: usize = 100;
/// `ThreadAutoArchiveDuration`.
pub const AUTO_ARCHIVE_DURATIONS: [u64; 4] = [60, 1440, 4320, 10080];
/// `InteractionCallbackTypes` (2 and 3 are gone; 10 was removed from the spec).
pub const CALLBACK_TYPES: [u64; 9] = [1, 4, 5, 6, 7, 8, 9, 12, 13];
/// `ApplicationCommandCreateRequest`: name 1-32, description up to 100 (1-100 for slash
/// commands and for every option), 25 options, 25 choices per option (`...Choice` name
/// 1-100); docs: 8000 characters per command in all.
pub const COMMAND_NAME_MAX: usize = 32;
pub const COMMAND_DESCRIPTION_MAX: usize = 100;
pub const COMMAND_OPTIONS_MAX: usize = 25;
pub const COMMAND_CHOICES_MAX: usize = 25;
pub const COMMAND_TOTAL_MAX: usize = 8000;

fn chars(v: Option<&Value>) -> usize {
    v.and_then(Value::as_str).map_or(0, |s| s.chars().count())
}

fn too_long(out: &mut Vec<String>, what: &str, len: usize, max: usize) {
    if len > max {
        out.push(format!("{what} is {len} chars, the limit is {max}"));
    }
}

/// A message body (create, edit, webhook, interaction response data). `creating`: a new
/// message must carry something to show.
pub fn message(body: &Value, files: usize, creating: bool) -> Vec<String> {
    let mut out = Vec::new();
    too_long(&mut out, "content", chars(body.get("content")), CONTENT_MAX);
    let embeds = body.get("embeds").and_then(Value::as_array);
    let embeds_len = embeds.map_or(0, Vec::len);
    if embeds_len > EMBEDS_MAX {
        out.push(format!("{embeds_len} embeds, the limit is {EMBEDS_MAX}"));
    }
    let mut total = 0;
    for (i, e) in embeds.into_iter().flatten().enumerate() {
        total += embed(e, i, &mut out);
    }
    too_long(&mut out, "all embeds together", total, EMBEDS_TOTAL_MAX);
    let attachments = body
        .get("attachments")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if attachments.max(files) > ATTACHMENTS_MAX {
        out.push(format!(
            "{} attachments, the limit is {ATTACHMENTS_MAX}",
            attachments.max(files)
        ));
    }
    let has_text = chars(body.get("content")) > 0 || embeds_len > 0;
    if has_text {
        match body.get("allowed_mentions") {
            None | Some(Value::Null) => out.push(
                "a message with content or embeds has no allowed_mentions: echoed user text \
                 could ping anyone"
                    .into(),
            ),
            Some(am) => {
                let parse = am.get("parse").and_then(Value::as_array);
                if parse.is_some_and(|p| p.iter().any(|x| x == "everyone" || x == "roles")) {
                    out.push(format!(
                        "allowed_mentions lets @everyone or roles ping: {am}"
                    ));
                }
            }
        }
    }
    let empty = !has_text
        && files == 0
        && attachments == 0
        && body
            .get("components")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        && body.get("poll").is_none_or(Value::is_null);
    if creating && empty {
        out.push("Cannot send an empty message (50006)".into());
    }
    out
}

/// Checks one embed; returns the characters it counts toward the 6000 total.
fn embed(e: &Value, i: usize, out: &mut Vec<String>) -> usize {
    let title = chars(e.get("title"));
    let description = chars(e.get("description"));
    let footer = chars(e.get("footer").and_then(|f| f.get("text")));
    let author = chars(e.get("author").and_then(|a| a.get("name")));
    too_long(out, &format!("embed {i} title"), title, EMBED_TITLE_MAX);
    too_long(
        out,
        &format!("embed {i} description"),
        description,
        EMBED_DESCRIPTION_MAX,
    );
    too_long(out, &format!("embed {i} footer"), footer, EMBED_FOOTER_MAX);
    too_long(
        out,
        &format!("embed {i} author name"),
        author,
        EMBED_AUTHOR_MAX,
    );
    let fields = e.get("fields").and_then(Value::as_array);
    if fields.map_or(0, Vec::len) > EMBED_FIELDS_MAX {
        out.push(format!("embed {i} has more than {EMBED_FIELDS_MAX} fields"));
    }
    let mut total = title + description + footer + author;
    for (j, f) in fields.into_iter().flatten().enumerate() {
        let name = chars(f.get("name"));
        let value = chars(f.get("value"));
        too_long(
            out,
            &format!("embed {i} field {j} name"),
            name,
            EMBED_FIELD_NAME_MAX,
        );
        too_long(
            out,
            &format!("embed {i} field {j} value"),
            value,
            EMBED_FIELD_VALUE_MAX,
        );
        if name == 0 || value == 0 {
            out.push(format!("embed {i} field {j} needs a name and a value"));
        }
        total += name + value;
    }
    total
}

/// `POST /interactions/{id}/{token}/callback`.
pub fn callback(body: &Value) -> Vec<String> {
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(0);
    if !CALLBACK_TYPES.contains(&kind) {
        return vec![format!(
            "interaction callback type {kind} is not one of {CALLBACK_TYPES:?}"
        )];
    }
    match (kind, body.get("data")) {
        (4, Some(data)) => message(data, 0, true),
        (4, None) => vec!["callback type 4 without data".into()],
        (7, Some(data)) => message(data, 0, false),
        (8, data) => autocomplete(data),
        (9, data) => modal(data),
        _ => Vec::new(),
    }
}

/// A form (callback type 9): a custom id of 1-100 characters, a title of 1-45, 1-5 rows of
/// one text input each, with a label of 1-45 characters, a style and at most 4000 characters
/// (docs "Modal", "Text Inputs").
fn modal(data: Option<&Value>) -> Vec<String> {
    let Some(data) = data else {
        return vec!["modal without data".into()];
    };
    let mut out = Vec::new();
    if !(1..=100).contains(&chars(data.get("custom_id"))) {
        out.push("modal custom_id must be 1-100 characters".into());
    }
    if !(1..=45).contains(&chars(data.get("title"))) {
        out.push(format!(
            "modal title {} must be 1-45 characters",
            data["title"]
        ));
    }
    let rows = data.get("components").and_then(Value::as_array);
    if !rows.is_some_and(|r| (1..=5).contains(&r.len())) {
        out.push("a modal has 1-5 rows".into());
    }
    for row in rows.into_iter().flatten() {
        let inputs = row.get("components").and_then(Value::as_array);
        for input in inputs.into_iter().flatten() {
            if input["type"] != 4 || !matches!(input["style"].as_u64(), Some(1 | 2)) {
                out.push(format!("not a text input: {input}"));
            }
            if !(1..=45).contains(&chars(input.get("label"))) {
                out.push(format!(
                    "text input label {} must be 1-45 characters",
                    input["label"]
                ));
            }
            if chars(input.get("custom_id")) == 0 {
                out.push("text input without a custom_id".into());
            }
            if chars(input.get("value")) > 4000
                || input["max_length"].as_u64().is_some_and(|m| m > 4000)
            {
                out.push("a text input holds at most 4000 characters".into());
            }
        }
    }
    out
}

/// An autocomplete answer (callback type 8): at most 25 choices, each named in 1-100
/// characters with a value (docs "Autocomplete").
fn autocomplete(data: Option<&Value>) -> Vec<String> {
    let Some(choices) = data
        .and_then(|d| d.get("choices"))
        .and_then(Value::as_array)
    else {
        return vec!["autocomplete answer without data.choices".into()];
    };
    let mut out = Vec::new();
    if choices.len() > 25 {
        out.push(format!(
            "{} autocomplete choices, at most 25",
            choices.len()
        ));
    }
    for c in choices {
        let name = chars(c.get("name"));
        if !(1..=100).contains(&name) {
            out.push(format!(
                "autocomplete choice name is {name} chars, it must be 1-100"
            ));
        }
        if c.get("value").is_none_or(Value::is_null) {
            out.push(format!("autocomplete choice without a value: {c}"));
        }
    }
    out
}

/// `POST /channels/{id}/messages/{mid}/threads`.
pub fn thread(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let name = chars(body.get("name"));
    if !(1..=THREAD_NAME_MAX).contains(&name) {
        out.push(format!(
            "thread name is {name} chars, it must be 1-{THREAD_NAME_MAX}"
        ));
    }
    let duration = body.get("auto_archive_duration").filter(|d| !d.is_null());
    if let Some(d) = duration.filter(|d| {
        !d.as_u64()
            .is_some_and(|d| AUTO_ARCHIVE_DURATIONS.contains(&d))
    }) {
        out.push(format!(
            "auto_archive_duration {d} is not one of {AUTO_ARCHIVE_DURATIONS:?}"
        ));
    }
    out
}

/// `PUT /applications/{app}/commands` and `.../guilds/{g}/commands`: a list of commands.
pub fn commands(body: &Value) -> Vec<String> {
    let Some(list) = body.as_array() else {
        return vec!["bulk overwrite body is not a list".into()];
    };
    let mut out = Vec::new();
    let mut names = std::collections::HashSet::new();
    for c in list {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let kind = c.get("type").and_then(Value::as_u64).unwrap_or(1);
        if !names.insert((kind, name.to_owned())) {
            out.push(format!("command `{name}` is registered twice"));
        }
        let slash = kind == 1;
        let total = command_like(c, &format!("command `{name}`"), slash, &mut out);
        too_long(
            &mut out,
            &format!("command `{name}` in all"),
            total,
            COMMAND_TOTAL_MAX,
        );
    }
    out
}

/// A command or an option: checks name, description, options and choices; returns the
/// characters it counts toward the per-command total.
fn command_like(c: &Value, what: &str, slash: bool, out: &mut Vec<String>) -> usize {
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    if !valid_name(name, slash) {
        out.push(format!(
            "{what}: name `{name}` must be 1-{COMMAND_NAME_MAX} lowercase letters, digits, - or _"
        ));
    }
    let description = chars(c.get("description"));
    if slash && !(1..=COMMAND_DESCRIPTION_MAX).contains(&description) {
        out.push(format!(
            "{what}: description is {description} chars, it must be 1-{COMMAND_DESCRIPTION_MAX}"
        ));
    }
    let mut total = name.chars().count() + description;
    let options = c.get("options").and_then(Value::as_array);
    if options.map_or(0, Vec::len) > COMMAND_OPTIONS_MAX {
        out.push(format!("{what}: more than {COMMAND_OPTIONS_MAX} options"));
    }
    let mut seen_optional = false;
    for o in options.into_iter().flatten() {
        let oname = o.get("name").and_then(Value::as_str).unwrap_or("");
        let owhat = format!("{what} option `{oname}`");
        let required = o.get("required").and_then(Value::as_bool).unwrap_or(false);
        let kind = o.get("type").and_then(Value::as_u64).unwrap_or(0);
        if kind > 2 {
            // Docs: "Required options must be listed before optional options".
            if required && seen_optional {
                out.push(format!("{owhat}: required option after an optional one"));
            }
            seen_optional |= !required;
        }
        total += command_like(o, &owhat, true, out);
        let choices = o.get("choices").and_then(Value::as_array);
        if choices.map_or(0, Vec::len) > COMMAND_CHOICES_MAX {
            out.push(format!("{owhat}: more than {COMMAND_CHOICES_MAX} choices"));
        }
        for ch in choices.into_iter().flatten() {
            let n = chars(ch.get("name"));
            if !(1..=100).contains(&n) {
                out.push(format!(
                    "{owhat}: a choice name is {n} chars, it must be 1-100"
                ));
            }
            let value = ch.get("value").map_or(0, |v| match v {
                Value::String(s) => s.chars().count(),
                other => other.to_string().len(),
            });
            total += n + value;
        }
    }
    total
}

/// `^[-_\p{L}\p{N}]{1,32}$`, lowercase where the letter has a lowercase (slash commands and
/// options; user and message commands may use capitals and spaces).
fn valid_name(name: &str, slash: bool) -> bool {
    let len = name.chars().count();
    if !(1..=COMMAND_NAME_MAX).contains(&len) {
        return false;
    }
    if !slash {
        return true;
    }
    name.chars().all(|c| {
        (c.is_alphanumeric() || c == '-' || c == '_') && c.to_lowercase().eq(std::iter::once(c))
    })
}
