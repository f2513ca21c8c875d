//! `seedance-bot generate` (make one video from the command line) and `seedance-bot status`.
//!
//! stdout carries only the result (URLs, a task id, or JSON); the cost, progress and errors go
//! to stderr. An error is one line, `error: <what happened>: <what to do>`. Exit codes: 0 done,
//! 1 the task failed or could not be followed, 2 bad input or configuration.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::json;
use tokio::time::Instant;

use crate::config::{Config, ProviderMode};
use crate::seedance::{SeedanceClient, SeedanceError, TaskId, TaskInput, TaskRecord, TaskState};
use crate::video::{Ratio, Resolution};

/// How long a freshly created task may answer "not found" before that counts as an error.
const UNKNOWN_GRACE: Duration = Duration::from_secs(60);
/// Garbled answers in a row tolerated while following a task (a CDN page, a cut body).
const MALFORMED_IN_A_ROW: u32 = 3;
/// createTask attempts when the provider refuses outright (429, 409, 455).
const CREATE_ATTEMPTS: u32 = 3;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What the video shows and how to use the references (`@image1`, `@video1`, ...).
    #[arg(long)]
    prompt: String,
    /// A reference image URL (repeatable).
    #[arg(long = "image", value_name = "URL")]
    images: Vec<String>,
    /// A reference video URL (repeatable).
    #[arg(long = "video", value_name = "URL")]
    videos: Vec<String>,
    /// A reference audio URL (repeatable).
    #[arg(long = "audio", value_name = "URL")]
    audios: Vec<String>,
    /// 16:9, 9:16, 1:1 or 3:4 (default: video.default_ratio).
    #[arg(long)]
    ratio: Option<Ratio>,
    /// 480p, 720p or 1080p (default: video.default_resolution).
    #[arg(long)]
    resolution: Option<Resolution>,
    /// Seconds of video (default: video.default_duration).
    #[arg(long)]
    duration: Option<u32>,
    /// Ask the provider to generate audio too.
    #[arg(long)]
    generate_audio: bool,
    /// Let the provider search the web before generating.
    #[arg(long)]
    web_search: bool,
    /// Turn on the provider's content filter (off unless asked for).
    #[arg(long)]
    nsfw_checker: bool,
    /// Print the task id and return without waiting for the video.
    #[arg(long)]
    no_wait: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The provider's task id, as printed by `generate`.
    task_id: String,
    /// Print the record as JSON.
    #[arg(long)]
    json: bool,
}

/// Why a command stopped: one line for stderr and the exit code.
struct Failure {
    what: String,
    advice: &'static str,
    code: u8,
}

impl Failure {
    fn input(what: String, advice: &'static str) -> Self {
        Failure {
            what,
            advice,
            code: 2,
        }
    }

    fn report(self) -> ExitCode {
        eprintln!("error: {}: {}", self.what, self.advice);
        ExitCode::from(self.code)
    }
}

impl From<SeedanceError> for Failure {
    fn from(e: SeedanceError) -> Self {
        let code = match e {
            SeedanceError::InvalidInput(_)
            | SeedanceError::Config(_)
            | SeedanceError::InvalidRequest { .. }
            | SeedanceError::Auth { .. } => 2,
            _ => 1,
        };
        Failure {
            what: e.to_string(),
            advice: e.advice(),
            code,
        }
    }
}

pub async fn generate(args: GenerateArgs, config: &Config) -> ExitCode {
    match run_generate(args, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

pub async fn status(args: StatusArgs, config: &Config) -> ExitCode {
    match run_status(args, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

async fn run_generate(args: GenerateArgs, config: &Config) -> Result<(), Failure> {
    let video = &config.video;
    let resolution = args.resolution.unwrap_or(video.default_resolution);
    let ratio = args.ratio.unwrap_or(video.default_ratio);
    let duration = args.duration.unwrap_or(video.default_duration);
    if !(video.min_duration..=video.max_duration).contains(&duration) {
        return Err(Failure::input(
            format!("a duration of {duration} s is not allowed"),
            if video.min_duration == 4 && video.max_duration == 15 {
                "use 4 to 15 seconds"
            } else {
                "use a duration between video.min_duration and video.max_duration"
            },
        ));
    }
    for url in args.images.iter().chain(&args.videos).chain(&args.audios) {
        let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(Failure::input(
                format!("`{url}` is not an http(s) URL"),
                "give each --image, --video and --audio as a public URL",
            ));
        }
    }
    let input = TaskInput {
        prompt: Some(args.prompt),
        reference_image_urls: args.images,
        reference_video_urls: args.videos,
        reference_audio_urls: args.audios,
        ratio: Some(ratio),
        aspect_ratio: None,
        resolution: Some(resolution),
        duration: Some(duration),
        generate_audio: args.generate_audio.then_some(true),
        web_search: args.web_search.then_some(true),
        nsfw_checker: args.nsfw_checker.then_some(true),
    };
    input.validate()?;
    let Some(price) = config.credits.price(resolution, duration) else {
        return Err(Failure::input(
            format!("no price is configured for {resolution}"),
            "set credits.price_per_second for every resolution",
        ));
    };
    let client = live_client(config)?;

    eprintln!("cost: {price} credits ({resolution}, {duration} s, {ratio})");
    let task = create_with_retries(&client, &input, config).await?;
    if args.no_wait {
        if args.json {
            println!("{}", json!({ "task_id": task.0 }));
        } else {
            println!("{task}");
        }
        return Ok(());
    }
    eprintln!("task: {task}");

    let record = follow(&client, &task, config).await?;
    print_record(&record, args.json);
    finish(&record)
}

async fn run_status(args: StatusArgs, config: &Config) -> Result<(), Failure> {
    let client = live_client(config)?;
    let task = TaskId(args.task_id.trim().to_owned());
    let record = client.record_info(&task).await?;
    if !args.json {
        println!("{}: {}", record.task_id, record.state);
    }
    print_record(&record, args.json);
    match record.state {
        TaskState::Fail => finish(&record),
        _ => Ok(()),
    }
}

/// A client for the real provider, or why there is none.
fn live_client(config: &Config) -> Result<SeedanceClient, Failure> {
    if config.seedance.mode == ProviderMode::Simulate {
        return Err(Failure::input(
            "seedance.mode is \"simulate\", but this command always calls the real provider".into(),
            "set seedance.mode = \"live\" (or SEEDANCE_BOT__SEEDANCE__MODE=live) to spend credits",
        ));
    }
    if config.seedance.api_key.expose_secret().trim().is_empty() {
        return Err(Failure::input(
            "no Seedance API key is configured".into(),
            "set SEEDANCE_API_KEY (or seedance.api_key in the configuration file)",
        ));
    }
    Ok(SeedanceClient::new(&config.seedance)?)
}

/// Creates the task, retrying only refusals that prove no task was made (so nothing is
/// paid twice).
async fn create_with_retries(
    client: &SeedanceClient,
    input: &TaskInput,
    config: &Config,
) -> Result<TaskId, Failure> {
    let mut attempt = 1;
    loop {
        match client.create_task(input).await {
            Ok(task) => return Ok(task),
            Err(e) if e.resubmit_safe() && attempt < CREATE_ATTEMPTS => {
                let wait = e
                    .retry_after()
                    .unwrap_or(config.jobs.poll_initial * attempt);
                eprintln!(
                    "{e}; trying again in {}",
                    humantime::format_duration(round_ms(wait))
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Polls the task with backoff until it ends or `jobs.deadline` passes. Retryable errors,
/// "not found" just after creation and a couple of garbled answers wait and try again: the
/// credits are spent by now, so giving up early helps nobody.
async fn follow(
    client: &SeedanceClient,
    task: &TaskId,
    config: &Config,
) -> Result<TaskRecord, Failure> {
    let jobs = &config.jobs;
    let started = Instant::now();
    let mut progress = Progress::new();
    let mut interval = jobs.poll_initial;
    let mut wait = interval;
    let mut malformed = 0;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= jobs.deadline {
            progress.finish();
            return Err(Failure {
                what: format!(
                    "task {task} did not finish within {}",
                    humantime::format_duration(jobs.deadline)
                ),
                advice: "check it later with `seedance-bot status <task id>`",
                code: 1,
            });
        }
        progress
            .sleep(wait.min(jobs.deadline - elapsed), started)
            .await;
        interval = interval.saturating_add(interval / 2).min(jobs.poll_max);
        wait = interval;
        let answer = client.record_info(task).await;
        malformed = match answer {
            Err(SeedanceError::Malformed(_)) => malformed + 1,
            _ => 0,
        };
        match answer {
            Ok(record) if record.state.is_terminal() => {
                progress.finish();
                return Ok(record);
            }
            Ok(record) => progress.show(&record.state, started),
            Err(e @ SeedanceError::NotFound { .. }) if started.elapsed() < UNKNOWN_GRACE => {
                progress.note(&format!("{e}; asking again"));
            }
            Err(e) if e.retryable() || (malformed > 0 && malformed < MALFORMED_IN_A_ROW) => {
                wait = wait.max(e.retry_after().unwrap_or_default());
                progress.note(&format!(
                    "{e}; asking again in {}",
                    humantime::format_duration(round_ms(wait))
                ));
            }
            Err(e) => {
                progress.finish();
                return Err(e.into());
            }
        }
    }
}

/// Prints a finished (or looked-up) record on stdout: URLs one per line, or JSON.
fn print_record(record: &TaskRecord, as_json: bool) {
    if as_json {
        let mut value = json!({
            "task_id": record.task_id.0,
            "state": record.state.as_str(),
            "result_urls": record.result_urls,
        });
        if record.state == TaskState::Fail {
            value["fail_code"] = json!(record.fail_code);
            value["fail_msg"] = json!(record.fail_msg);
        }
        println!("{value}");
    } else {
        for url in &record.result_urls {
            println!("{url}");
        }
    }
}

/// The outcome of a terminal record: success with a video, or the provider's reason.
fn finish(record: &TaskRecord) -> Result<(), Failure> {
    match record.state {
        TaskState::Success if !record.result_urls.is_empty() => Ok(()),
        TaskState::Success => Err(Failure {
            what: "the provider reported success but returned no video URL".into(),
            advice: "check the task with `seedance-bot status <task id>` or contact the provider",
            code: 1,
        }),
        _ => {
            let reason = match (&record.fail_code, &record.fail_msg) {
                (Some(code), Some(msg)) => format!("{msg} (code {code})"),
                (None, Some(msg)) => msg.clone(),
                (Some(code), None) => format!("code {code}"),
                (None, None) => "no reason given".into(),
            };
            Err(Failure {
                what: format!("the video failed: {reason}"),
                advice: "change the prompt or references and try again",
                code: 1,
            })
        }
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().min(u128::from(u64::MAX)) as u64)
}

/// The progress shown on stderr: a live line on a terminal, a line per change otherwise.
struct Progress {
    live: bool,
    state: Option<String>,
    drawn: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            live: std::io::stderr().is_terminal(),
            state: None,
            drawn: false,
        }
    }

    fn show(&mut self, state: &TaskState, started: Instant) {
        let changed = self.state.as_deref() != Some(state.as_str());
        self.state = Some(state.as_str().to_owned());
        if self.live {
            self.redraw(started);
        } else if changed {
            eprintln!("{state} after {}", whole_seconds(started.elapsed()));
        }
    }

    fn redraw(&mut self, started: Instant) {
        let state = self.state.as_deref().unwrap_or("submitted");
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{state} · {}",
            whole_seconds(started.elapsed())
        );
        let _ = err.flush();
        self.drawn = true;
    }

    /// A passing remark (a retry), on its own line.
    fn note(&mut self, text: &str) {
        self.finish();
        eprintln!("{text}");
    }

    /// Ends the live line so the next output starts clean.
    fn finish(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }

    /// Sleeps, ticking the elapsed time once a second on a terminal.
    async fn sleep(&mut self, wait: Duration, started: Instant) {
        if !self.live {
            tokio::time::sleep(wait).await;
            return;
        }
        let until = Instant::now() + wait;
        loop {
            self.redraw(started);
            let now = Instant::now();
            if now >= until {
                return;
            }
            tokio::time::sleep((until - now).min(Duration::from_secs(1))).await;
        }
    }
}

fn whole_seconds(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(d.as_secs()))
}
