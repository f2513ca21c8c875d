//! The rules a request must pass before anything is charged or sent upstream. Each
//! refusal says which rule and what to do.

use std::net::IpAddr;

use crate::config::VideoConfig;
use crate::jobs::model::{JobRequest, Reference};
use crate::video::ReferenceKind;

/// The provider's prompt limit in characters.
pub const MAX_PROMPT_CHARS: usize = 20_000;
pub const MAX_IMAGES: usize = 9;
pub const MAX_VIDEOS: usize = 3;
pub const MAX_AUDIO: usize = 3;
pub const MAX_REFERENCES: usize = 12;

/// The provider's file limits, in bytes (decimal megabytes, the stricter reading).
pub const MAX_IMAGE_BYTES: u64 = 30_000_000;
pub const MAX_VIDEO_BYTES: u64 = 50_000_000;
pub const MAX_AUDIO_BYTES: u64 = 15_000_000;

/// The formats the provider takes for each kind: (MIME types, file extensions, words).
fn formats(
    kind: ReferenceKind,
) -> (
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
) {
    match kind {
        ReferenceKind::Image => (
            &["image/jpeg", "image/jpg", "image/png", "image/webp"],
            &["jpg", "jpeg", "png", "webp"],
            "JPEG, PNG or WebP",
        ),
        ReferenceKind::Video => (
            &["video/mp4", "video/quicktime"],
            &["mp4", "mov"],
            "MP4 or MOV",
        ),
        ReferenceKind::Audio => (
            &[
                "audio/wav",
                "audio/x-wav",
                "audio/wave",
                "audio/vnd.wave",
                "audio/mpeg",
                "audio/mp3",
            ],
            &["wav", "mp3"],
            "WAV or MP3",
        ),
    }
}

/// The most bytes the provider takes for a file of `kind`.
pub fn max_bytes(kind: ReferenceKind) -> u64 {
    match kind {
        ReferenceKind::Image => MAX_IMAGE_BYTES,
        ReferenceKind::Video => MAX_VIDEO_BYTES,
        ReferenceKind::Audio => MAX_AUDIO_BYTES,
    }
}

/// Checks an attached file of `kind` against the provider's formats and sizes. The type is
/// the one Discord reports (`content_type`), else the file name's extension.
pub fn check_file(
    kind: ReferenceKind,
    filename: &str,
    content_type: Option<&str>,
    size: u64,
) -> Result<(), InvalidRequest> {
    let (types, extensions, words) = formats(kind);
    let accepted = match content_type {
        Some(ct) => {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            types.contains(&mime.as_str())
        }
        None => filename
            .rsplit_once('.')
            .is_some_and(|(_, ext)| extensions.contains(&ext.to_ascii_lowercase().as_str())),
    };
    let file = shorten(filename);
    if !accepted {
        return Err(InvalidRequest::FileFormat {
            file,
            found: content_type.unwrap_or("unknown type").to_owned(),
            kind,
            accepted: words,
        });
    }
    let max = max_bytes(kind);
    if size > max {
        return Err(InvalidRequest::FileTooLarge {
            file,
            size_mb: size.div_ceil(1_000_000),
            kind,
            max_mb: max / 1_000_000,
        });
    }
    Ok(())
}

/// Why a request was refused; the text is shown to the member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    #[error("the prompt is empty: describe the video you want")]
    EmptyPrompt,
    #[error("the prompt is {chars} characters long; the limit is {MAX_PROMPT_CHARS}: shorten it")]
    PromptTooLong { chars: usize },
    #[error("{count} {kind} references were given; at most {max} are allowed: remove some")]
    TooManyOfKind {
        kind: ReferenceKind,
        count: usize,
        max: usize,
    },
    #[error(
        "{count} references were given; at most {MAX_REFERENCES} are allowed in all: remove some"
    )]
    TooManyReferences { count: usize },
    #[error(
        "audio needs at least one image or video reference to go with it: add one, or remove the audio"
    )]
    AudioAlone,
    #[error(
        "`{file}` is {found}, but the provider takes {kind} references as {accepted} only: convert it and attach it again"
    )]
    FileFormat {
        file: String,
        found: String,
        kind: ReferenceKind,
        accepted: &'static str,
    },
    #[error(
        "`{file}` is about {size_mb} MB, but the provider takes {kind} files up to {max_mb} MB: attach a smaller file"
    )]
    FileTooLarge {
        file: String,
        size_mb: u64,
        kind: ReferenceKind,
        max_mb: u64,
    },
    #[error("`{url}` is not a usable reference link: {why}")]
    BadUrl { url: String, why: &'static str },
    #[error(
        "a duration of {seconds} s is not allowed here: choose between {min} and {max} seconds"
    )]
    DurationOutOfRange { seconds: u32, min: u32, max: u32 },
}

/// Checks a request against the provider's limits and the configured durations.
pub fn validate(req: &JobRequest, video: &VideoConfig) -> Result<(), InvalidRequest> {
    check_input(&req.prompt, &req.references, req.duration, video)
}

/// The rules of [`validate`] on the parts that exist before there is a job (the command
/// line's `generate` uses them too).
pub fn check_input(
    prompt: &str,
    references: &[Reference],
    duration: u32,
    video: &VideoConfig,
) -> Result<(), InvalidRequest> {
    let chars = prompt.chars().count();
    if prompt.trim().is_empty() {
        return Err(InvalidRequest::EmptyPrompt);
    }
    if chars > MAX_PROMPT_CHARS {
        return Err(InvalidRequest::PromptTooLong { chars });
    }
    if !(video.min_duration..=video.max_duration).contains(&duration) {
        return Err(InvalidRequest::DurationOutOfRange {
            seconds: duration,
            min: video.min_duration,
            max: video.max_duration,
        });
    }
    let count = |kind| references.iter().filter(|r| r.kind == kind).count();
    for (kind, max) in [
        (ReferenceKind::Image, MAX_IMAGES),
        (ReferenceKind::Video, MAX_VIDEOS),
        (ReferenceKind::Audio, MAX_AUDIO),
    ] {
        let n = count(kind);
        if n > max {
            return Err(InvalidRequest::TooManyOfKind {
                kind,
                count: n,
                max,
            });
        }
    }
    if references.len() > MAX_REFERENCES {
        return Err(InvalidRequest::TooManyReferences {
            count: references.len(),
        });
    }
    if count(ReferenceKind::Audio) > 0
        && count(ReferenceKind::Image) + count(ReferenceKind::Video) == 0
    {
        return Err(InvalidRequest::AudioAlone);
    }
    for r in references {
        check_url(&r.url)?;
    }
    Ok(())
}

/// A reference must be a public https link: the provider fetches it, and the bot never does.
pub fn check_url(raw: &str) -> Result<(), InvalidRequest> {
    let bad = |why| {
        Err(InvalidRequest::BadUrl {
            url: shorten(raw),
            why,
        })
    };
    let Ok(url) = url::Url::parse(raw) else {
        return bad("it is not a valid URL; paste the full https:// link");
    };
    if url.scheme() != "https" {
        return bad("only https:// links are accepted");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad("links with a user name or password in them are not accepted");
    }
    match url.host() {
        None => bad("it has no host"),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost"
                || d.ends_with(".localhost")
                || d.ends_with(".local")
                || d.ends_with(".internal")
                || !d.contains('.')
            {
                bad("it points at a private or local host; use a public link")
            } else {
                Ok(())
            }
        }
        Some(url::Host::Ipv4(ip)) if !public_ip(ip.into()) => {
            bad("it points at a private or local address; use a public link")
        }
        Some(url::Host::Ipv6(ip)) if !public_ip(ip.into()) => {
            bad("it points at a private or local address; use a public link")
        }
        Some(_) => Ok(()),
    }
}

fn public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || o[0] >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// Keeps refusal messages short when a member pastes something huge.
fn shorten(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_must_be_in_the_providers_formats_and_sizes() {
        use ReferenceKind::*;
        assert!(check_file(Image, "a.png", Some("image/png"), 1000).is_ok());
        assert!(check_file(Audio, "a.mp3", Some("audio/mpeg"), 1000).is_ok());
        assert!(check_file(Video, "a.mov", None, 1000).is_ok());
        let e = check_file(Image, "a.gif", Some("image/gif"), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("JPEG, PNG or WebP"), "{e}");
        let e = check_file(Video, "a.webm", None, 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("MP4 or MOV"), "{e}");
        let e = check_file(Audio, "a.wav", Some("audio/wav"), 15_000_001)
            .unwrap_err()
            .to_string();
        assert!(e.contains("up to 15 MB"), "{e}");
        assert!(check_file(Image, "a.png", Some("image/png"), MAX_IMAGE_BYTES).is_ok());
    }

    #[test]
    fn urls_must_be_public_https() {
        assert!(check_url("https://cdn.example.com/a.png").is_ok());
        for (url, why) in [
            ("http://cdn.example.com/a.png", "https"),
            ("ftp://cdn.example.com/a.png", "https"),
            ("https://user:pw@cdn.example.com/a.png", "password"),
            ("https://127.0.0.1/a.png", "private"),
            ("https://10.1.2.3/a.png", "private"),
            ("https://192.168.0.4/a.png", "private"),
            ("https://169.254.169.254/latest", "private"),
            ("https://[::1]/a.png", "private"),
            ("https://[fd00::1]/a.png", "private"),
            ("https://[::ffff:127.0.0.1]/a.png", "private"),
            ("https://localhost/a.png", "local"),
            ("https://intranet/a.png", "local"),
            ("not a url", "valid URL"),
        ] {
            let err = check_url(url).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
    }
}
