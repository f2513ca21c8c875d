//! `/video`'s references: attached files checked against the option they came in, and the
//! `references` text of links, each with its kind from a prefix or the file extension.

use serenity::all::Attachment;

use crate::jobs::{Reference, validate};
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

fn options_for(kind: ReferenceKind) -> &'static str {
    match kind {
        ReferenceKind::Image => "`image` to `image4`",
        ReferenceKind::Video => "`video` or `video2`",
        ReferenceKind::Audio => "`audio`",
    }
}

fn a_kind(kind: ReferenceKind) -> &'static str {
    match kind {
        ReferenceKind::Image => "an image",
        ReferenceKind::Video => "a video",
        ReferenceKind::Audio => "an audio file",
    }
}

/// A file attached to the option `option`, which takes files of `expected` kind.
pub fn attachment(
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
            .map_err(|why| format!("I can't use this file: {why}. Nothing was charged."))?;
            Ok(Reference {
                kind,
                url: file.url.clone(),
                expires_at: None,
            })
        }
        Some(kind) => Err(format!(
            "`{option}` takes {}, but `{}` is {} ({}): attach it to {} instead.",
            a_kind(expected),
            file.filename,
            a_kind(kind),
            file.content_type.as_deref().unwrap_or("by its name"),
            options_for(kind),
        )),
        None => Err(format!(
            "`{option}` takes {}, but I can't tell what `{}` is ({}): attach {} file.",
            a_kind(expected),
            file.filename,
            file.content_type.as_deref().unwrap_or("no file type"),
            a_kind(expected),
        )),
    }
}

/// The links of the `references` option: separated by spaces or newlines, each `image:`,
/// `video:` or `audio:` followed by the link, or a bare link whose extension tells its kind.
pub fn parse_links(text: &str) -> Result<Vec<Reference>, String> {
    text.split_whitespace().map(parse_link).collect()
}

fn parse_link(token: &str) -> Result<Reference, String> {
    for kind in [
        ReferenceKind::Image,
        ReferenceKind::Video,
        ReferenceKind::Audio,
    ] {
        let prefix = format!("{}:", kind.as_str());
        if token.len() > prefix.len() && token[..prefix.len()].eq_ignore_ascii_case(&prefix) {
            return Ok(Reference {
                kind,
                url: token[prefix.len()..].to_owned(),
                expires_at: None,
            });
        }
    }
    let path = match url::Url::parse(token) {
        Ok(url) => url.path().to_owned(),
        Err(_) => {
            // Not a link at all: the core's rule says why, in its words.
            return Err(match validate::check_url(token) {
                Err(why) => format!("{why}."),
                Ok(()) => format!("`{token}` is not a link."),
            });
        }
    };
    match kind_from_extension(&path) {
        Some(kind) => Ok(Reference {
            kind,
            url: token.to_owned(),
            expires_at: None,
        }),
        None => Err(format!(
            "I can't tell whether `{}` is an image, a video or audio: write it as `image:{0}`, `video:{0}` or `audio:{0}`.",
            card_safe(token)
        )),
    }
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
    fn unknown_kinds_ask_for_a_prefix_and_non_links_say_so() {
        let e = parse_links("https://a.example.com/page").unwrap_err();
        assert!(e.contains("image:https://a.example.com/page"), "{e}");
        let e = parse_links("hello").unwrap_err();
        assert!(e.contains("not a valid URL"), "{e}");
    }
}
