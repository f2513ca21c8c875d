//! Hostile or oversized input is refused before anything is charged: each rule's refusal
//! names the rule and what to do, moves no credits and makes no upstream call.

use super::*;
use crate::support::discord_double::File;

fn links(kind: &str, ext: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{kind}:https://cdn.example.com/{kind}{i}.{ext}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn with_refs(text: &str) -> SlashCommand {
    video("a boat").option(Opt::string("references", text))
}

fn with_file(option: &str, file: File) -> SlashCommand {
    video("a boat").option(Opt::attachment(option, file))
}

#[tokio::test]
async fn every_input_rule_refuses_privately_and_charges_nothing() {
    let (double, provider, _dir, app) = start(|_| {}).await;
    let image = "https://cdn.example.com/a.png";
    let cases: Vec<(SlashCommand, String)> = vec![
        (video("   "), "the prompt is empty".into()),
        (
            video(&"a".repeat(20_001)),
            "the limit is 20000: shorten it".into(),
        ),
        (
            with_refs(&links("image", "png", 10)),
            "10 image references were given; at most 9".into(),
        ),
        (
            with_refs(&format!("{image} {}", links("video", "mp4", 4))),
            "4 video references were given; at most 3".into(),
        ),
        (
            with_refs(&format!("{image} {}", links("audio", "mp3", 4))),
            "4 audio references were given; at most 3".into(),
        ),
        (
            with_refs(&format!(
                "{} {} {}",
                links("image", "png", 9),
                links("video", "mp4", 3),
                links("audio", "mp3", 1)
            )),
            "13 references were given; at most 12".into(),
        ),
        (
            with_refs("audio:https://cdn.example.com/a.mp3"),
            "audio needs at least one image or video".into(),
        ),
        (
            with_refs("http://cdn.example.com/a.png"),
            "only https:// links".into(),
        ),
        (
            with_refs("https://me:pw@cdn.example.com/a.png"),
            "user name or password".into(),
        ),
        (
            with_refs("https://10.0.0.7/a.png"),
            "private or local address".into(),
        ),
        (
            with_refs("https://127.0.0.1/a.png"),
            "private or local address".into(),
        ),
        (
            with_refs("https://[::1]/a.png"),
            "private or local address".into(),
        ),
        (
            with_refs("https://metadata.internal/a.png"),
            "private or local host".into(),
        ),
        (
            with_file("image", File::new("cat.gif", "image/gif", b"gif".to_vec())),
            "takes image references as JPEG, PNG or WebP only: convert it".into(),
        ),
        (
            with_file(
                "video",
                File::new("clip.webm", "video/webm", b"webm".to_vec()),
            ),
            "takes video references as MP4 or MOV only".into(),
        ),
        (
            video("a boat")
                .option(Opt::attachment(
                    "image",
                    File::new("a.png", "image/png", b"png".to_vec()),
                ))
                .option(Opt::attachment(
                    "audio",
                    File::new("a.ogg", "audio/ogg", b"ogg".to_vec()),
                )),
            "takes audio references as WAV or MP3 only".into(),
        ),
        (
            with_file(
                "image",
                File::metadata("huge.png", Some("image/png"), 30_000_001),
            ),
            "takes image files up to 30 MB: attach a smaller file".into(),
        ),
        (
            with_file(
                "video",
                File::metadata("huge.mp4", Some("video/mp4"), 50_000_001),
            ),
            "takes video files up to 50 MB".into(),
        ),
        (
            video("a boat")
                .option(Opt::attachment(
                    "image",
                    File::new("a.png", "image/png", b"png".to_vec()),
                ))
                .option(Opt::attachment(
                    "audio",
                    File::metadata("huge.wav", Some("audio/wav"), 15_000_001),
                )),
            "takes audio files up to 15 MB".into(),
        ),
        (
            with_file("image", File::metadata("noname", None, 10)),
            "can't tell what `noname` is".into(),
        ),
    ];
    for (command, expected) in &cases {
        refused(&double, &provider, &app, command, expected).await;
    }
    assert_eq!(provider.count(Endpoint::CreateTask), 0);
    assert_eq!(app.balance().available, 1000);
    crate::discord::assert_pings_only(&double, crate::discord::MEMBER);
    app.stop().await;
}
