//! The serenity client: `Http` honouring `discord.api_base_url`, the poise framework runner,
//! and command registration.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serenity::all::{ClientBuilder, GatewayIntents, GuildId, Http, HttpBuilder};

use super::{Command, CommandError, Data, errors, mentions};
use crate::config::DiscordConfig;
use crate::ids::MemberId;

/// How long `run` waits for the shards to close after the shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long `run` waits for interactions being handled to finish after the shutdown signal.
const DRAIN_GRACE: Duration = Duration::from_secs(3);
/// How often the gateway's heartbeat latency is recorded (a lock and a gauge: cheap).
const LATENCY_EVERY: Duration = Duration::from_secs(2);

/// Why the bot could not connect, run or register its commands.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("could not start the Discord client")]
    Client(#[source] serenity::Error),
    #[error("the Discord gateway connection ended with an error")]
    Gateway(#[source] serenity::Error),
    #[error("could not start the thread that reads the Discord gateway")]
    Runtime(#[source] std::io::Error),
    #[error("the thread reading the Discord gateway stopped unexpectedly")]
    GatewayThread,
    #[error("could not read the bot's application from Discord")]
    Application(#[source] serenity::Error),
    #[error(
        "Discord refused the bot token ({0}): check discord.token (or DISCORD_TOKEN); reset it in the developer portal if it leaked"
    )]
    TokenRefused(String),
    #[error("could not register the commands {scope}")]
    Register {
        scope: String,
        #[source]
        source: serenity::Error,
    },
}

/// The serenity HTTP client for `config`.
///
/// With `api_base_url` set, every REST call goes there and serenity's own rate limiter is
/// off: serenity ignores the proxy while its limiter is on (the limiter builds its requests
/// without it), and a configured base is a rate-limiting REST proxy (twilight http-proxy,
/// nirn-proxy) or the local test double, which does the limiting itself.
pub fn build_http(config: &DiscordConfig) -> Http {
    let token = config.token.expose_secret();
    let base = config.api_base_url.trim();
    if base.is_empty() {
        HttpBuilder::new(token).build()
    } else {
        HttpBuilder::new(token)
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true)
            .build()
    }
}

/// Where commands were registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The registered command names.
    pub commands: Vec<String>,
    /// The servers; empty means globally.
    pub guilds: Vec<crate::ids::GuildId>,
}

/// Registers `commands` in `config.command_guild_ids`, or globally when there are none.
/// For the `register-commands` CLI: it asks Discord for the application id first.
pub async fn register_commands(
    config: &DiscordConfig,
    commands: &[Command],
) -> Result<Registration, DiscordError> {
    let http = build_http(config);
    let app = http
        .get_current_application_info()
        .await
        .map_err(DiscordError::Application)?;
    http.set_application_id(app.id);
    register_on(&http, commands, &config.command_guild_ids).await
}

async fn register_on(
    http: &Http,
    commands: &[Command],
    guild_ids: &[u64],
) -> Result<Registration, DiscordError> {
    let names = commands.iter().map(|c| c.name.to_string()).collect();
    let list = super::commands::localize::application_commands(commands);
    if guild_ids.is_empty() {
        serenity::all::Command::set_global_commands(http, list.clone())
            .await
            .map_err(|source| DiscordError::Register {
                scope: "globally".into(),
                source,
            })?;
    }
    for &guild in guild_ids {
        let Some(id) = std::num::NonZeroU64::new(guild) else {
            continue;
        };
        GuildId::from(id)
            .set_commands(http, list.clone())
            .await
            .map_err(|source| DiscordError::Register {
                scope: format!("in server {guild}"),
                source,
            })?;
    }
    tracing::info!(count = commands.len(), guilds = ?guild_ids, "commands registered");
    Ok(Registration {
        commands: names,
        guilds: guild_ids.iter().copied().map(crate::ids::GuildId).collect(),
    })
}

/// The JSON Discord receives for `commands` (what registration sends), e.g. to check limits.
pub fn slash_commands_json(commands: &[Command]) -> serde_json::Value {
    serde_json::to_value(super::commands::localize::application_commands(commands))
        .unwrap_or_default()
}

/// The gateway events the bot needs: none of the privileged ones (no message content, no
/// member list); interactions arrive regardless of intents.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
}

/// Connects to Discord with `commands`, registers them on READY (in
/// `command_guild_ids`, else globally) and serves interactions until `shutdown` resolves;
/// then turns new interactions away, waits (up to `DRAIN_GRACE`) for those being handled,
/// closes the gateway and returns.
///
/// The gateway connection is read on a thread of its own (a one-thread runtime), and every
/// event is handled on the caller's runtime: a burst of commands, or the jobs they start,
/// never keeps the next interaction waiting in the socket, so each is answered in the
/// order it came, as soon as the bot can.
pub async fn run(
    data: Data,
    commands: Vec<Command>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DiscordError> {
    let handlers = tokio::runtime::Handle::current();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("discord-gateway".into())
        .spawn(move || {
            let outcome = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(gateway) => gateway.block_on(run_gateway(data, commands, handlers, shutdown)),
                Err(e) => Err(DiscordError::Runtime(e)),
            };
            let _ = done.send(outcome);
        })
        .map_err(DiscordError::Runtime)?;
    result.await.unwrap_or(Err(DiscordError::GatewayThread))
}

/// [`run`] on the gateway's own runtime; events are handled on `handlers`.
async fn run_gateway(
    data: Data,
    commands: Vec<Command>,
    handlers: tokio::runtime::Handle,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), DiscordError> {
    let config = data.config.clone();
    let health = data.health.clone();
    let guild_ids = config.discord.command_guild_ids.clone();
    let options = poise::FrameworkOptions {
        commands,
        on_error: |error| Box::pin(errors::on_error(error)),
        // poise's default allows pinging any user; the policy is "the invoker only".
        allowed_mentions: None,
        // Every reply may ping its invoker and nobody else, whatever a command set.
        reply_callback: Some(|ctx, reply| {
            reply.allowed_mentions(mentions::only_user(MemberId(ctx.author().id.get())))
        }),
        owners: config
            .discord
            .owner_ids
            .iter()
            .filter_map(|&id| std::num::NonZeroU64::new(id).map(Into::into))
            .collect(),
        // Operators come from the configuration, not from the application's owner.
        initialize_owners: false,
        // The per-member rate limit, before any command runs.
        command_check: Some(|ctx| Box::pin(async move { super::commands::rate_check(ctx) })),
        post_command: |ctx| {
            Box::pin(async move {
                super::observe::interaction(&ctx.command().qualified_name, "ok", ctx.id());
            })
        },
        event_handler: |ctx, event| {
            Box::pin(async move {
                super::observe::gateway_event(&ctx.user_data.health, event);
                if let serenity::all::FullEvent::InteractionCreate {
                    interaction: serenity::all::Interaction::Component(press),
                } = event
                {
                    let inv = super::invocation::Invocation::from(press);
                    super::buttons::handle(&ctx.serenity_context.http, ctx.user_data, &inv).await;
                }
                if let serenity::all::FullEvent::InteractionCreate {
                    interaction: serenity::all::Interaction::Modal(submit),
                } = event
                {
                    let inv = super::invocation::Invocation::from(submit);
                    if super::commands::make_video::is_form(&inv) {
                        let http = &ctx.serenity_context.http;
                        super::commands::make_video::submitted(http, ctx.user_data, &inv).await;
                    }
                }
                Ok(())
            })
        },
        ..Default::default()
    };
    let framework = poise::Framework::builder()
        .options(options)
        // The builder overwrites the options' `initialize_owners` with its own (true): without
        // this poise asks Discord for the application's owners and warns when it cannot.
        .initialize_owners(false)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(bot = %ready.user.name, "connected to Discord");
                // A failed registration leaves the previously registered commands working:
                // log it and serve, rather than leaving every interaction unanswered.
                if let Err(e) = register_on(&ctx.http, &framework.options().commands, &guild_ids).await {
                    tracing::error!(cause = %errors::cause_chain(&e), "command registration failed");
                }
                Ok::<_, CommandError>(data)
            })
        })
        .build();

    // Serenity alone retries an unreachable gateway every 5 s with warnings of its own and
    // no word of what to check: ask Discord first, with our own backoff and words.
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = futures::FutureExt::fuse(shutdown);
    let http = build_http(&config.discord);
    tokio::select! {
        reached = reach(&http, &config.discord) => reached?,
        () = &mut shutdown => {
            tracing::info!("stopped before Discord was reached");
            return Ok(());
        }
    }
    let gate = super::drain::Gate::new(framework, health.clone(), handlers);
    let in_flight = gate.in_flight();
    let mut client = ClientBuilder::new_with_http(http, intents())
        .framework(gate)
        .await
        .map_err(DiscordError::Client)?;
    let shard_manager = Arc::clone(&client.shard_manager);
    let latency = tokio::spawn(record_latency(Arc::clone(&shard_manager)));
    // Checked with the rest of the configuration at start.
    let shards = config.discord.shard_range().unwrap_or_default();
    let start = async {
        match shards {
            // serenity's range names the last shard, not one past it.
            Some((first, last, total)) => client.start_shard_range(first..last, total).await,
            None => client.start().await,
        }
    };
    tokio::pin!(start);
    tokio::select! {
        result = &mut start => {
            latency.abort();
            return result.map_err(DiscordError::Gateway);
        }
        () = &mut shutdown => {}
    }
    latency.abort();
    health.start_draining();
    tracing::info!("draining: new interactions are turned away");
    super::drain::wait_idle(&in_flight, DRAIN_GRACE).await;
    tracing::info!("shutting down the Discord client");
    // With no shard running (the gateway never connected) serenity's `shutdown_all` does
    // nothing and `start` would only end after its 5 s reconnect pause: nothing to close.
    if shard_manager.runners.lock().await.is_empty() {
        tracing::info!("no gateway session to close");
        return Ok(());
    }
    shard_manager.shutdown_all().await;
    match tokio::time::timeout(SHUTDOWN_GRACE, start).await {
        Ok(result) => result.map_err(DiscordError::Gateway),
        Err(_) => {
            tracing::warn!("the Discord client did not stop in time; leaving it");
            Ok(())
        }
    }
}

/// `discord.mode = "http"`: no gateway. Checks the token (as the gateway mode does before
/// connecting), registers the commands, then serves through the interactions endpoint
/// (already listening on `http.listen`) until `shutdown` resolves; then turns new
/// interactions away and waits (up to `DRAIN_GRACE`) for those being handled.
pub async fn run_http(
    http: &Http,
    config: &DiscordConfig,
    commands: &[Command],
    health: &crate::http::Health,
    in_flight: &std::sync::atomic::AtomicUsize,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), DiscordError> {
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = futures::FutureExt::fuse(shutdown);
    let register = async {
        reach(http, config).await?;
        let app = http
            .get_current_application_info()
            .await
            .map_err(DiscordError::Application)?;
        http.set_application_id(app.id);
        // As on READY in gateway mode: a failed registration leaves the previous commands.
        if let Err(e) = register_on(http, commands, &config.command_guild_ids).await {
            tracing::error!(cause = %errors::cause_chain(&e), "command registration failed");
        }
        tracing::info!(
            "serving interactions over HTTP (POST /interactions); no gateway connection"
        );
        Ok::<_, DiscordError>(())
    };
    tokio::select! {
        ready = register => ready?,
        () = &mut shutdown => {
            tracing::info!("stopped before Discord was reached");
            return Ok(());
        }
    }
    shutdown.await;
    health.start_draining();
    tracing::info!("draining: new interactions are turned away");
    super::drain::wait_idle(in_flight, DRAIN_GRACE).await;
    Ok(())
}

/// Asks Discord who the bot is until it answers: a refused token stops the start; anything
/// else (network, DNS, a wrong `discord.api_base_url`, Discord down) is logged as the bot's
/// own error with what to check, and retried with backoff (1 s doubling to a minute).
async fn reach(http: &Http, config: &DiscordConfig) -> Result<(), DiscordError> {
    use backon::Retryable;
    let base = match config.api_base_url.trim() {
        "" => "https://discord.com".to_owned(),
        base => base.to_owned(),
    };
    let policy = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(60))
        .with_jitter()
        .without_max_times();
    let user = (|| http.get_current_user())
        .retry(policy)
        .when(|e| !token_refused(e))
        .notify(|e, wait| {
            tracing::error!(
                discord = %base,
                cause = %crate::telemetry::explain(e),
                retry_in = %humantime::format_duration(Duration::from_millis(wait.as_millis() as u64)),
                "cannot reach Discord: check the network, and discord.api_base_url (empty for Discord itself); trying again"
            );
        })
        .await
        .map_err(|e| DiscordError::TokenRefused(e.to_string()))?;
    tracing::info!(bot = %user.name, discord = %base, mode = config.mode.as_str(), "Discord answered");
    Ok(())
}

/// 401: the token is wrong or was reset; retrying cannot help.
fn token_refused(e: &serenity::Error) -> bool {
    matches!(
        e,
        serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(r))
            if r.status_code.as_u16() == 401
    )
}

/// Records each shard's heartbeat latency (the time from a heartbeat to its acknowledgement)
/// as the `seedance_gateway_latency_seconds` gauge, every `LATENCY_EVERY`.
async fn record_latency(shards: Arc<serenity::all::ShardManager>) {
    let mut every = tokio::time::interval(LATENCY_EVERY);
    loop {
        every.tick().await;
        for (id, runner) in shards.runners.lock().await.iter() {
            if let Some(latency) = runner.latency {
                metrics::gauge!("seedance_gateway_latency_seconds", "shard" => id.0.to_string())
                    .set(latency.as_secs_f64());
            }
        }
    }
}
