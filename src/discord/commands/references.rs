//! `/video`'s references: attached files checked against the option they came in, and the
//! `references` text of links, each with its kind from a prefix or the file extension.

use serenity::all::{Attachment, Embed};

use crate::i18n::{Lang, words};
use crate::jobs::{Reference, validate};
use crate::tr;
use crate::video::ReferenceKind;

const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "gif", "bmp", "avif", "heic"];
const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mov", "webm", "m4v", "mkv", "avi"];
const AUDIO_EXTENSIONS: &[&str] = &["mp3", "wav", "m4a", "aac", "ogg", "flac", "opus"];

/// The kind of a file from its name's extension.
pub fn kind_from_extension(name: &str) -> Option<ReferenceKind> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    if IMAGE_EXTENSIONS.contains(&ext.as_str()) {
        Some(ReferenceKind::Image)
    } else if VIDEO_EXTENSIONS.contains(&ext.as_str()) {
        Some(ReferenceKind::Video)
    } else if AUDIO_EXTENSIONS.contains(&ext.as_str()) {
        Some(ReferenceKind::Audio)
    } else {
        None
    }
}

/// The kind of a MIME type (`image/png` is an image).
fn kind_from_content_type(content_type: &str) -> Option<ReferenceKind> {
    match content_type
        .split('/')
        .next()?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "image" => Some(ReferenceKind::Image),
        "video" => Some(ReferenceKind::Video),
        "audio" => Some(ReferenceKind::Audio),
        _ => None,
    }
}

fn options_for(lang: Lang, kind: ReferenceKind) -> String {
    match kind {
        ReferenceKind::Image => tr!(lang, "options-image"),
        ReferenceKind::Video => tr!(lang, "options-video"),
        ReferenceKind::Audio => tr!(lang, "options-audio"),
    }
}

fn a_kind(lang: Lang, kind: ReferenceKind) -> String {
    match kind {
        ReferenceKind::Image => tr!(lang, "a-kind-image"),
        ReferenceKind::Video => tr!(lang, "a-kind-video"),
        ReferenceKind::Audio => tr!(lang, "a-kind-audio"),
    }
}

/// A file attached to the option `option`, which takes files of `expected` kind.
pub fn attachment(
    lang: Lang,
    option: &str,
    expected: ReferenceKind,
    file: &Attachment,
) -> Result<Reference, String> {
    let found = file
        .content_type
        .as_deref()
        .and_then(kind_from_content_type)
        .or_else(|| kind_from_extension(&file.filename));
    match found {
        Some(kind) if kind == expected => {
            validate::check_file(
                kind,
                &file.filename,
                file.content_type.as_deref(),
                u64::from(file.size),
            )
            .map_err(|why| tr!(lang, "refusal-file", why = words::invalid(lang, &why)))?;
            Ok(Reference {
                kind,
                url: file.url.clone(),
                expires_at: link_expiry(&file.url),
            })
        }
        Some(kind) => Err(tr!(
            lang,
            "refusal-wrong-option",
            option = option,
            expected = a_kind(lang, expected),
            file = file.filename,
            found = a_kind(lang, kind),
            how = file
                .content_type
                .clone()
                .unwrap_or_else(|| tr!(lang, "by-its-name")),
            options = options_for(lang, kind),
        )),
        None => Err(tr!(
            lang,
            "refusal-unknown-file",
            option = option,
            expected = a_kind(lang, expected),
            file = file.filename,
            how = file
                .content_type
                .clone()
                .unwrap_or_else(|| tr!(lang, "no-file-type")),
        )),
    }
}

/// A file attached to a message "Make a video" was used on: its kind from its type (else its
/// name), checked against the provider's formats and sizes.
pub fn message_file(lang: Lang, file: &Attachment) -> Result<Reference, String> {
    let kind = file
        .content_type
        .as_deref()
        .and_then(kind_from_content_type)
        .or_else(|| kind_from_extension(&file.filename))
        .ok_or_else(|| {
            tr!(
                lang,
                "form-file-kind",
                file = card_safe(&file.filename),
                how = file
                    .content_type
                    .clone()
                    .unwrap_or_else(|| tr!(lang, "no-file-type"))
            )
        })?;
    validate::check_file(
        kind,
        &file.filename,
        file.content_type.as_deref(),
        u64::from(file.size),
    )
    .map_err(|why| tr!(lang, "refusal-file", why = words::invalid(lang, &why)))?;
    Ok(Reference {
        kind,
        url: file.url.clone(),
        expires_at: link_expiry(&file.url),
    })
}

/// The image links of a message's embeds: an embed's image, or the picture of a link
/// preview that is an image. (The provider fetches them: the links as written, not Discord's
/// proxy.)
pub fn embed_images(embeds: &[Embed]) -> Vec<Reference> {
    let mut out: Vec<Reference> = Vec::new();
    for embed in embeds {
        let link = embed.image.as_ref().map(|i| i.url.clone()).or_else(|| {
            (embed.kind.as_deref() == Some("image"))
                .then(|| {
                    embed
                        .thumbnail
                        .as_ref()
                        .map(|t| t.url.clone())
                        .or_else(|| embed.url.clone())
                })
                .flatten()
        });
        if let Some(url) = link
            && !out.iter().any(|r| r.url == url)
        {
            out.push(Reference {
                kind: ReferenceKind::Image,
                expires_at: link_expiry(&url),
                url,
            });
        }
    }
    out
}

/// The links of the `references` option: separated by spaces or newlines, each `image:`,
/// `video:` or `audio:` followed by the link, or a bare link whose extension tells its kind.
pub fn parse_links(lang: Lang, text: &str) -> Result<Vec<Reference>, String> {
    text.split_whitespace()
        .map(|token| parse_link(lang, token))
        .collect()
}

fn parse_link(lang: Lang, token: &str) -> Result<Reference, String> {
    for kind in [
        ReferenceKind::Image,
        ReferenceKind::Video,
        ReferenceKind::Audio,
    ] {
        let prefix = format!("{}:", kind.as_str());
        if token.len() > prefix.len() && token[..prefix.len()].eq_ignore_ascii_case(&prefix) {
            let url = &token[prefix.len()..];
            return Ok(Reference {
                kind,
                url: url.to_owned(),
                expires_at: link_expiry(url),
            });
        }
    }
    let path = match url::Url::parse(token) {
        Ok(url) => url.path().to_owned(),
        Err(_) => {
            // Not a link at all: the core's rule says why, in its words.
            return Err(match validate::check_url(token) {
                Err(why) => tr!(lang, "sentence", text = words::invalid(lang, &why)),
                Ok(()) => tr!(lang, "refusal-not-a-link", link = token),
            });
        }
    };
    match kind_from_extension(&path) {
        Some(kind) => Ok(Reference {
            kind,
            url: token.to_owned(),
            expires_at: link_expiry(token),
        }),
        None => Err(tr!(lang, "refusal-link-kind", link = card_safe(token))),
    }
}

/// When a signed Discord file link stops working (unix ms): its `ex` query parameter, in hex
/// unix seconds. Only a link signed as Discord signs them (`ex`, `is` and `hm` together)
/// counts, so another site's `ex` parameter is never read as an expiry.
pub fn link_expiry(link: &str) -> Option<i64> {
    let url = url::Url::parse(link).ok()?;
    let mut ex = None;
    let (mut is, mut hm) = (false, false);
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "ex" => ex = Some(value.into_owned()),
            "is" => is = true,
            "hm" => hm = true,
            _ => {}
        }
    }
    let secs = i64::from_str_radix(&ex.filter(|_| is && hm)?, 16).ok()?;
    secs.checked_mul(1000)
}

/// How long before its expiry a stored link is no longer resent: a job sent upstream now
/// still has its files fetched a little later.
pub const EXPIRY_MARGIN_MS: i64 = 60_000;

/// The refusal when a reference link has expired, or expires within [`EXPIRY_MARGIN_MS`] of
/// `now` (unix ms). Links without a known expiry are taken as they are.
pub fn check_fresh(lang: Lang, refs: &[Reference], now: i64) -> Result<(), String> {
    let stale = refs
        .iter()
        .filter(|r| r.expires_at.is_some_and(|at| at <= now + EXPIRY_MARGIN_MS))
        .count();
    if stale == 0 {
        return Ok(());
    }
    Err(tr!(lang, "refusal-stale-links", count = stale))
}

/// A link shortened for a message.
fn card_safe(token: &str) -> String {
    super::super::card::clip(token, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_take_their_kind_from_a_prefix_or_the_extension() {
        let refs = parse_links(
            Lang::English,
            "https://a.example.com/x.PNG\nvideo:https://a.example.com/clip  https://a.example.com/s.mp3?x=1",
        )
        .unwrap();
        let kinds: Vec<ReferenceKind> = refs.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                ReferenceKind::Image,
                ReferenceKind::Video,
                ReferenceKind::Audio
            ]
        );
        assert_eq!(refs[1].url, "https://a.example.com/clip");
    }

    #[test]
    fn signed_discord_links_carry_their_expiry() {
        let signed =
            "https://cdn.discordapp.com/attachments/1/2/boat.png?ex=6a000000&is=69f00000&hm=00ff&";
        assert_eq!(link_expiry(signed), Some(0x6a00_0000 * 1000));
        let refs = parse_links(Lang::English, &format!("{signed} image:{signed}")).unwrap();
        assert!(
            refs.iter()
                .all(|r| r.expires_at == Some(0x6a00_0000 * 1000))
        );
        // Not signed as Discord signs, or not hex: no expiry is made up.
        for link in [
            "https://a.example.com/x.png?ex=6a000000",
            "https://a.example.com/x.png?ex=soon&is=1&hm=2",
            "https://a.example.com/x.png",
        ] {
            assert_eq!(link_expiry(link), None, "{link}");
        }
    }

    #[test]
    fn links_expiring_within_a_minute_are_stale() {
        let at = |expires_at| Reference {
            kind: ReferenceKind::Image,
            url: "https://cdn.discordapp.com/x.png".into(),
            expires_at,
        };
        let now = 1_000_000;
        assert!(check_fresh(Lang::English, &[at(None), at(Some(now + 61_000))], now).is_ok());
        let e = check_fresh(
            Lang::English,
            &[at(Some(now + 59_000)), at(Some(now - 1))],
            now,
        )
        .unwrap_err();
        assert!(
            e.starts_with("The links to 2 of the reference files have expired"),
            "{e}"
        );
        assert!(e.contains("`/video` with fresh files"), "{e}");
    }

    #[test]
    fn unknown_kinds_ask_for_a_prefix_and_non_links_say_so() {
        let e = parse_links(Lang::English, "https://a.example.com/page").unwrap_err();
        assert!(e.contains("image:https://a.example.com/page"), "{e}");
        let e = parse_links(Lang::English, "hello").unwrap_err();
        assert!(e.contains("not a valid URL"), "{e}");
    }
}
