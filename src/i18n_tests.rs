use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fluent_syntax::ast;

use super::*;

/// Message (and `message.attribute`) ids of one .ftl file, each with the variables it uses.
fn messages(locale: &str) -> BTreeMap<String, BTreeSet<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("locales")
        .join(locale)
        .join("main.ftl");
    let text = std::fs::read_to_string(&path).unwrap();
    let resource = fluent_syntax::parser::parse(text.as_str())
        .unwrap_or_else(|(_, errors)| panic!("{locale}: {errors:?}"));
    let mut out = BTreeMap::new();
    for entry in resource.body {
        match entry {
            ast::Entry::Message(m) => {
                let id = m.id.name.to_owned();
                let mut vars = BTreeSet::new();
                if let Some(value) = &m.value {
                    pattern_vars(value, &mut vars);
                }
                assert!(
                    out.insert(id.clone(), vars).is_none(),
                    "{locale}: {id} twice"
                );
                for attr in &m.attributes {
                    let mut vars = BTreeSet::new();
                    pattern_vars(&attr.value, &mut vars);
                    out.insert(format!("{id}.{}", attr.id.name), vars);
                }
            }
            ast::Entry::Junk { content } => panic!("{locale}: unreadable: {content}"),
            _ => {}
        }
    }
    out
}

fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
    for element in &p.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Inline(inline) => inline_vars(inline, vars),
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
    }
}

fn inline_vars(e: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_owned());
        }
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        _ => {}
    }
}

#[test]
fn every_message_exists_in_every_locale_with_the_same_variables() {
    let en = messages("en-US");
    let zh = messages("zh-CN");
    assert!(en.len() > 100, "{}", en.len());
    let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(only_en.is_empty(), "missing in zh-CN: {only_en:?}");
    assert!(only_zh.is_empty(), "missing in en-US: {only_zh:?}");
    for (id, vars) in &en {
        assert_eq!(vars, &zh[id], "{id}: the locales use different variables");
    }
}

/// Every message id the code asks for (`tr!(lang, "id"...)`, `.text("id"`) exists.
#[test]
fn every_message_the_code_uses_exists() {
    let en = messages("en-US");
    let mut used = BTreeSet::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("i18n_tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["tr!(", ".text(\"", "try_text(\""] {
                for (at, _) in text.match_indices(marker) {
                    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                    let before = &text[line_start..at];
                    let word_char = before
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                    if before.trim_start().starts_with("//") || (marker == "tr!(" && word_char) {
                        continue;
                    }
                    let rest = &text[at + marker.len()..];
                    let rest = if marker == "tr!(" {
                        // Skip the language expression.
                        match rest.find('"') {
                            Some(q) if !rest[..q].contains(')') || rest[..q].contains("lang") => {
                                &rest[q + 1..]
                            }
                            _ => continue,
                        }
                    } else {
                        rest
                    };
                    let id: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                        .collect();
                    if !id.is_empty() && rest[id.len()..].starts_with('"') {
                        used.insert(id);
                    }
                }
            }
        }
    }
    assert!(used.len() > 100, "{}", used.len());
    let missing: Vec<_> = used.iter().filter(|id| !en.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "used but not in the locales: {missing:?}"
    );
}

#[test]
fn numbers_times_and_waits_follow_the_language() {
    let (en, zh) = (Lang::English, Lang::SimplifiedChinese);
    assert_eq!(en.num(9600_u64), "9,600");
    assert_eq!(en.num(999_u64), "999");
    assert_eq!(en.num(12_800_u64), "12,800");
    assert_eq!(en.num(-1_234_567_i64), "-1,234,567");
    assert_eq!(zh.num(400_u64), "400");
    assert_eq!(zh.num(100_000_u64), "100,000");
    assert_eq!(en.secs(5_u64), "5 s");
    assert_eq!(zh.secs(5_u64), "5 秒");
    assert_eq!(en.wait(Duration::from_secs(90)), "1m 30s");
    assert_eq!(zh.wait(Duration::from_secs(90)), "1分30秒");
    // 2024-05-01 00:00 UTC
    assert_eq!(en.time(1_714_521_600_000), "2024-05-01 00:00 UTC");
    assert_eq!(zh.time(1_714_521_600_000), "2024年5月1日 00:00 (UTC)");
}

#[test]
fn arguments_are_shown_as_given_without_isolation_marks() {
    let text = tr!(
        Lang::SimplifiedChinese,
        "state-failed",
        reason = "bad `prompt`"
    );
    assert!(text.contains("bad `prompt`"), "{text}");
    assert!(
        !text.contains('\u{2068}') && !text.contains('\u{2069}'),
        "{text:?}"
    );
}

#[test]
fn locales_map_to_languages() {
    assert_eq!(Lang::of_locale("zh-CN"), Lang::SimplifiedChinese);
    for other in ["en-US", "en-GB", "fr", "zh-TW", ""] {
        assert_eq!(Lang::of_locale(other), Lang::English, "{other}");
    }
    let mut s = crate::guild_settings::ServerSettings::new();
    assert_eq!(server_lang(&s, None), Lang::English);
    assert_eq!(server_lang(&s, Some("zh-CN")), Lang::SimplifiedChinese);
    s.guild_locale = Some("zh-CN".into());
    assert_eq!(server_lang(&s, None), Lang::SimplifiedChinese);
    s.language = Some(Lang::English);
    assert_eq!(server_lang(&s, Some("zh-CN")), Lang::English);
}
