//! `seedance-bot generate` (make one video from the command line) and `seedance-bot status`.
//!
//! stdout carries only the result (URLs, a task id, or JSON); the cost, progress and errors go
//! to stderr. An error is one line, `error: <what happened>: <what to do>`. Exit codes: 0 done,
//! 1 the task failed or could not be followed, 2 bad input or configuration.

use std::process::ExitCode;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::json;
use tokio::time::Instant;

use super::progress::Progress;

use crate::config::{Config, ProviderMode};
use crate::jobs::retry::{CreateRetry, RetryPolicy};
use crate::jobs::validate::{self, InvalidRequest};
use crate::jobs::{Provider, Reference};
use crate::seedance::{SeedanceError, TaskId, TaskInput, TaskRecord, TaskState};
use crate::video::{Ratio, ReferenceKind, Resolution};

/// How long a freshly created task may answer "not found" before that counts as an error.
const UNKNOWN_GRACE: Duration = Duration::from_secs(60);
/// Garbled answers in a row tolerated while following a task (a CDN page, a cut body).
const MALFORMED_IN_A_ROW: u32 = 3;
/// createTask refusals that prove no task was made (429, 409, 455, no connection) the CLI
/// rides out before it gives up (the bot retries those until the job's deadline instead).
const CREATE_REFUSALS: u32 = 3;

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
        if self.advice.is_empty() {
            eprintln!("error: {}", self.what);
        } else {
            eprintln!("error: {}: {}", self.what, self.advice);
        }
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

/// The `/video` rules' words already say what is wrong and what to do.
impl From<InvalidRequest> for Failure {
    fn from(e: InvalidRequest) -> Self {
        Failure::input(e.to_string(), "")
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
    // The very rules `/video` applies, so a command-line check says what members can do.
    let references: Vec<Reference> = [
        (ReferenceKind::Image, &args.images),
        (ReferenceKind::Video, &args.videos),
        (ReferenceKind::Audio, &args.audios),
    ]
    .into_iter()
    .flat_map(|(kind, urls)| {
        urls.iter().map(move |url| Reference {
            kind,
            url: url.clone(),
            expires_at: None,
        })
    })
    .collect();
    validate::check_input(&args.prompt, &references, duration, video)?;
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
    let Some(price) = config
        .credits
        .price(resolution, duration, args.generate_audio)
    else {
        return Err(Failure::input(
            format!("no price is configured for {resolution}"),
            "set credits.price_per_second and credits.audio_price_per_second for every resolution",
        ));
    };
    let provider = provider(config)?;
    let simulated = provider.is_simulated();
    let audio = if args.generate_audio {
        ", with audio"
    } else {
        ""
    };
    let what = format!("{resolution}, {duration} s, {ratio}{audio}");
    if simulated {
        eprintln!("simulated: would cost {price} credits ({what}); nothing is spent");
    } else {
        eprintln!("will cost: {price} credits ({what})");
    }
    let task = create_with_retries(&provider, &input, config).await?;
    // The provider bills a task once it exists, whatever happens to it later.
    if simulated {
        eprintln!("simulated task {task}: nothing was charged");
    } else {
        eprintln!("charged: {price} credits (task {task})");
    }
    if args.no_wait {
        if args.json {
            println!("{}", json!({ "task_id": task.0, "simulated": simulated }));
        } else {
            println!("{task}");
        }
        return Ok(());
    }

    let record = follow(&provider, &task, config).await?;
    print_record(&record, args.json, simulated);
    finish(&record)
}

async fn run_status(args: StatusArgs, config: &Config) -> Result<(), Failure> {
    let provider = provider(config)?;
    let simulated = provider.is_simulated();
    let task = TaskId(args.task_id.trim().to_owned());
    let record = provider.record_info(&task).await?;
    if !args.json {
        let label = if simulated { " (simulated)" } else { "" };
        println!("{}: {}{label}", record.task_id, record.state);
    }
    print_record(&record, args.json, simulated);
    match record.state {
        TaskState::Fail => finish(&record),
        _ => Ok(()),
    }
}

/// The real provider, or the built-in simulation when `seedance.mode = "simulate"`.
fn provider(config: &Config) -> Result<Provider, Failure> {
    if config.seedance.mode == ProviderMode::Live
        && config.seedance.api_key.expose_secret().trim().is_empty()
    {
        return Err(Failure::input(
            "no Seedance API key is configured".into(),
            "set SEEDANCE_API_KEY (or seedance.api_key in the configuration file), or try it without spending with seedance.mode = \"simulate\"",
        ));
    }
    Ok(Provider::from_config(&config.seedance)?)
}

/// Creates the task under the bot's own retry policy (`jobs::retry`): an outcome left
/// unknown (timeout, 5xx) is tried at most `jobs.create_attempts` times in all, since each
/// try may start a paid task; a refusal that proves no task was made is tried again a few
/// times, never sooner than the provider asked.
async fn create_with_retries(
    client: &Provider,
    input: &TaskInput,
    config: &Config,
) -> Result<TaskId, Failure> {
    let policy = RetryPolicy {
        initial: config.jobs.poll_initial,
        create_attempts: config.jobs.create_attempts,
    };
    let (mut unknown, mut refused) = (0, 0);
    loop {
        let e = match client.create_task(input).await {
            Ok(task) => return Ok(task),
            Err(e) => e,
        };
        match policy.after_create_error(&e, unknown) {
            CreateRetry::Again {
                after,
                unknown: true,
                ..
            } => {
                unknown += 1;
                eprintln!(
                    "{e}; a task may have been made upstream all the same; trying again in {} (try {} of {})",
                    humantime::format_duration(round_ms(after)),
                    unknown + 1,
                    policy.create_attempts
                );
                tokio::time::sleep(after).await;
            }
            CreateRetry::Again { after, .. } if refused + 1 < CREATE_REFUSALS => {
                refused += 1;
                eprintln!(
                    "{e}; trying again in {}",
                    humantime::format_duration(round_ms(after))
                );
                tokio::time::sleep(after).await;
            }
            _ => return Err(e.into()),
        }
    }
}

/// Polls the task with backoff until it ends or `jobs.deadline` passes. Retryable errors,
/// "not found" just after creation and a couple of garbled answers wait and try again: the
/// credits are spent by now, so giving up early helps nobody.
async fn follow(client: &Provider, task: &TaskId, config: &Config) -> Result<TaskRecord, Failure> {
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
fn print_record(record: &TaskRecord, as_json: bool, simulated: bool) {
    if as_json {
        let mut value = json!({
            "task_id": record.task_id.0,
            "state": record.state.as_str(),
            "result_urls": record.result_urls,
        });
        if simulated {
            value["simulated"] = json!(true);
        }
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
