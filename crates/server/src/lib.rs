//! The `accueil` server: configuration, command line, telemetry and the wiring of every crate.
//!
//! This is the only crate that knows every adapter. [`start`] builds the application from
//! [`Settings`] and returns a running server; `main` only parses the command line.

pub mod cli;
pub mod config;
pub mod metrics;
pub mod runner;
mod secret;
pub mod telemetry;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use accueil_app::identity::IdentitySettings;
use accueil_app::{App, Ports};
use accueil_crypto::{
    BcryptHasher, HmacLinkSigner, JwtConfig, JwtSigner, RandomTokens, SystemClock, UuidV7Ids,
};
use accueil_http::HttpSettings;
use accueil_media::{ImageCodec, ImageSettings, LocalFileStore};
use accueil_notify_smtp::{FileMailer, Renderer, SmtpMailer, SmtpSettings};
use accueil_ports::events::EventBus;
use accueil_ports::identity::oauth::OAuthProviders;
use accueil_ports::notify::Mailer;
use accueil_store_diesel::{DieselStore, PoolOptions};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{HttpServer, web};
use config::OAuthKind;

pub use config::{Environment, Settings};
pub use runner::JobsRunner;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] accueil_store_diesel::ConnectError),
    /// In production, the PostgreSQL role skips row-level security.
    #[error(
        "DATABASE_URL: the role is a superuser or has BYPASSRLS, so row-level security would not \
         isolate tenants; connect as an ordinary role (docs/operations.md, \"Database role\")"
    )]
    RowSecurity,
    /// The JWT secret is unusable.
    #[error("ACCUEIL_JWT_SECRET: {0}")]
    Secret(String),
    /// The hasher could not be built.
    #[error("bcrypt: {0}")]
    Hasher(String),
    /// The mailer settings are unusable.
    #[error(transparent)]
    Mailer(#[from] accueil_notify_smtp::MailerConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A blocking start-up task failed.
    #[error("start-up task failed: {0}")]
    Task(String),
    /// A sign-in provider's settings are unusable.
    #[error("sign-in provider {0}")]
    OAuth(String),
    /// The metrics registry could not be built.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// A job schedule (or its override) is unusable.
    #[error("jobs: {0}")]
    Jobs(#[from] accueil_app::jobs::ScheduleError),
    /// The event bus could not start.
    #[error(transparent)]
    Events(#[from] accueil_events::PgBusError),
}

/// A started server.
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// Resolves when the server stops.
    pub server: Server,
    /// Stops the server (prefer [`Running::shutdown`], which closes realtime connections
    /// first).
    pub handle: ServerHandle,
    /// The background jobs runner (stop it once the server stopped).
    pub jobs: JobsRunner,
    /// Stops the server the way SIGTERM does: realtime connections closed with 1001 first.
    pub shutdown: Shutdown,
}

/// How long realtime connections get to close before the HTTP server stops.
const REALTIME_CLOSE: std::time::Duration = std::time::Duration::from_secs(5);

/// Stops a server gracefully: every realtime connection is closed with 1001 (going away) so
/// that clients reconnect to another instance, then the HTTP server stops, letting requests in
/// flight finish. SIGTERM and SIGINT do the same.
#[derive(Clone)]
pub struct Shutdown {
    realtime: accueil_http::Realtime,
    handle: ServerHandle,
}

impl Shutdown {
    /// Closes the realtime connections, then stops the server; resolves once it stopped.
    pub async fn stop(&self) {
        self.realtime.shutdown(REALTIME_CLOSE).await;
        self.handle.stop(true).await;
    }
}

/// Resolves on SIGTERM or SIGINT, once the realtime connections are closed: actix's graceful
/// stop follows (its own signal handling is replaced by this, so both signals are graceful).
async fn os_signal_then_close(realtime: accueil_http::Realtime) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; shutting down"),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("interrupt received; shutting down");
    }
    realtime.shutdown(REALTIME_CLOSE).await;
}

/// Opens the database (applying migrations).
///
/// # Errors
/// [`StartError::Database`].
pub async fn open_store(settings: &Settings) -> Result<DieselStore, StartError> {
    open_store_with(settings, PoolOptions::default().min_idle).await
}

/// [`open_store`] for a command-line run: no idle connections are kept, so none is being
/// opened in the pool's threads when the process exits (libcrypto's exit-time clean-up
/// crashes a connection it races).
///
/// # Errors
/// [`StartError::Database`].
pub async fn open_store_for_command(settings: &Settings) -> Result<DieselStore, StartError> {
    open_store_with(settings, 0).await
}

async fn open_store_with(settings: &Settings, min_idle: u32) -> Result<DieselStore, StartError> {
    let url = settings.database.url.clone();
    let options = PoolOptions {
        max_connections: settings.database.max_connections,
        min_idle,
        ..PoolOptions::default()
    };
    let (store, bypasses) = tokio::task::spawn_blocking(move || {
        let store = DieselStore::connect(&url, options)?;
        let bypasses = store.bypasses_row_security();
        Ok::<_, StartError>((store, bypasses))
    })
    .await
    .map_err(|e| StartError::Task(e.to_string()))??;
    tracing::info!(database = %store.describe(), "database ready, migrations applied");
    match bypasses {
        Ok(false) => {}
        Ok(true) if settings.general.env == config::Environment::Production => {
            return Err(StartError::RowSecurity);
        }
        Ok(true) => tracing::warn!(
            "the database role is a superuser or has BYPASSRLS: row-level security does not \
             apply to it; production refuses this (docs/operations.md, \"Database role\")"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell whether the database role bypasses row-level security")
        }
    }
    Ok(store)
}

/// The mailer: SMTP when configured, else `.eml` files in the data directory.
///
/// # Errors
/// [`StartError::Mailer`].
pub fn mailer(settings: &Settings) -> Result<Arc<dyn Mailer>, StartError> {
    let renderer = Renderer::new("Accueil");
    let mailer: Arc<dyn Mailer> = match &settings.mail.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(
            &SmtpSettings {
                url: url.clone(),
                from: settings.mail.from.clone(),
                timeout: settings
                    .mail
                    .timeout
                    .to_std()
                    .unwrap_or(std::time::Duration::from_secs(10)),
            },
            renderer,
        )?),
        None => Arc::new(FileMailer::new(
            settings.general.data_dir.join("mail"),
            &settings.mail.from,
            renderer,
        )?),
    };
    Ok(mailer)
}

/// The configured sign-in providers, each with its callback URL under the public URL.
fn oauth_providers(settings: &Settings) -> Result<OAuthProviders, StartError> {
    use accueil_oauth::{FacebookConfig, FacebookProvider, OidcConfig, OidcProvider};
    let mut providers = OAuthProviders::none();
    for p in &settings.oauth.providers {
        let redirect_url = format!(
            "{}/api/v1/auth/{}/callback",
            settings.http.public_url, p.name
        );
        let provider: Arc<dyn accueil_ports::identity::oauth::OAuthProvider> = match &p.kind {
            OAuthKind::Oidc { issuer } => Arc::new(
                OidcProvider::new(OidcConfig {
                    issuer: issuer.clone(),
                    client_id: p.client_id.clone(),
                    client_secret: p.client_secret.clone(),
                    redirect_url,
                    scopes: p.scopes.clone(),
                })
                .map_err(|e| StartError::OAuth(format!("{}: {e}", p.name)))?,
            ),
            OAuthKind::Facebook {
                auth_url,
                token_url,
                graph_url,
            } => {
                let mut config =
                    FacebookConfig::new(p.client_id.clone(), p.client_secret.clone(), redirect_url);
                config.auth_url = auth_url.clone();
                config.token_url = token_url.clone();
                config.graph_url = graph_url.clone();
                if !p.scopes.is_empty() {
                    config.scopes = p.scopes.clone();
                }
                Arc::new(
                    FacebookProvider::new(config)
                        .map_err(|e| StartError::OAuth(format!("{}: {e}", p.name)))?,
                )
            }
        };
        providers = providers.with(p.name.clone(), provider);
    }
    Ok(providers)
}

/// The event bus (`ACCUEIL_EVENTS`): PostgreSQL `LISTEN`/`NOTIFY` when the instances share a
/// PostgreSQL database, else in-process. The PostgreSQL bus starts its threads and returns;
/// its listener connects in the background.
///
/// # Errors
/// [`StartError::Events`].
pub fn event_bus(
    settings: &Settings,
    store: &DieselStore,
) -> Result<Arc<dyn EventBus>, StartError> {
    if !settings.events.postgres(!store.is_sqlite()) {
        return Ok(Arc::new(accueil_events::LocalBus::default()));
    }
    let bus = accueil_events::PgBus::start(accueil_events::PgBusOptions::new(
        settings.database.url.trim(),
    ))?;
    Ok(Arc::new(bus))
}

/// Gives the event listener a moment to connect, so that a new instance is ready (and hears
/// the others) by the time it says it listens. Past that it goes on: `/ready` says what is
/// missing until the listener catches up.
async fn await_events(bus: &dyn EventBus) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while let Err(why) = bus.health() {
        if std::time::Instant::now() >= deadline {
            tracing::warn!(%why, "starting without the event listener");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Builds the application over an opened store.
///
/// # Errors
/// [`StartError::Secret`], [`StartError::Hasher`] or [`StartError::Events`].
pub async fn build_app(settings: &Settings, store: DieselStore) -> Result<App, StartError> {
    let secret = secret::jwt_secret(settings).map_err(StartError::Secret)?;
    // Photo links are signed with a key derived from the same server secret, so changing it
    // revokes them with every session.
    let links = HmacLinkSigner::new(&secret);
    let signer = JwtSigner::new(JwtConfig {
        secret,
        issuer: settings.auth.jwt_issuer.clone(),
        audience: settings.auth.jwt_audience.clone(),
        ttl: settings.auth.access_ttl,
    })
    .map_err(|e| StartError::Secret(e.to_string()))?;
    let cost = settings.auth.bcrypt_cost;
    // At most one hash per core (more would only make each slower), and by default one core
    // left free, so a burst of logins cannot hold every core while reads wait.
    let (hashers, cores) = (
        settings.auth.hash_concurrency,
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    );
    let hasher = tokio::task::spawn_blocking(move || BcryptHasher::new(cost, hashers))
        .await
        .map_err(|e| StartError::Task(e.to_string()))?
        .map_err(|e| StartError::Hasher(e.to_string()))?;
    let events = event_bus(settings, &store)?;
    let ports = Ports {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        hasher: Arc::new(hasher),
        access_tokens: Arc::new(signer),
        opaque_tokens: Arc::new(RandomTokens),
        mailer: mailer(settings)?,
        limiter: Arc::new(accueil_store_memory::MemoryRateLimiter::new()),
        files: Arc::new(
            LocalFileStore::open(settings.general.data_dir.join("media"))
                .map_err(|e| StartError::Task(format!("cannot open the media directory: {e}")))?,
        ),
        images: Arc::new(ImageCodec::new(ImageSettings {
            max_pixels: settings.memories.max_photo_pixels,
            concurrency: cores,
            ..ImageSettings::default()
        })),
        oauth: oauth_providers(settings)?,
        links: Arc::new(links),
        events,
    };
    Ok(App::new(
        ports,
        IdentitySettings {
            refresh_ttl: settings.auth.refresh_ttl,
            public_url: settings.http.public_url.clone(),
            require_verified_email: settings.auth.require_verified_email,
            deletion_grace: settings.auth.deletion_grace,
            limits: settings.limits.identity(),
            password_auth: settings.auth.password_auth,
        },
        settings.limits.couples(),
        settings.memories.app(),
    )
    .with_jobs_settings(jobs_settings(settings), settings.mail.outbox_retry_base)
    .with_timer(Arc::new(|d| Box::pin(tokio::time::sleep(d))))
    .with_queues(accueil_app::queues::QueuesSettings {
        public_url: settings.http.public_url.clone(),
        invite_user: settings.limits.invite_user,
    })
    .with_realtime(settings.limits.realtime()))
}

/// How this process claims jobs: one at a time (instances then share a backlog, and a stop
/// never strands claimed jobs), with the configured lease and history.
pub fn jobs_settings(settings: &Settings) -> accueil_app::jobs::JobsSettings {
    accueil_app::jobs::JobsSettings {
        lease: settings.jobs.lease,
        batch: 1,
        history: settings.jobs.history,
        ..accueil_app::jobs::JobsSettings::default()
    }
}

/// Starts serving: opens the database, builds the application, binds and runs the HTTP
/// server. Must be called inside an actix-web (tokio) runtime.
///
/// # Errors
/// See [`StartError`].
pub async fn start(settings: &Settings) -> Result<Running, StartError> {
    let data_dir = &settings.general.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        StartError::Task(format!(
            "cannot create data directory {}: {e}",
            data_dir.display()
        ))
    })?;
    let store = open_store(settings).await?;
    let metrics = http_metrics(settings, &store)?;
    let app = build_app(settings, store).await?;
    if settings.is_configured("ACCUEIL_OUTBOX_POLL") {
        tracing::warn!(
            "ACCUEIL_OUTBOX_POLL no longer has an effect: mail goes out through the jobs runner (ACCUEIL_JOBS_POLL)"
        );
    }
    metrics
        .registry()
        .register(Box::new(crate::metrics::EventsCollector::new(
            app.events(),
        )?))?;
    await_events(app.events().as_ref()).await;
    let realtime =
        accueil_http::Realtime::start(app.events(), settings.realtime.http(), Some(&metrics))?;
    let jobs = start_jobs(settings, &app, &metrics).await?;
    let app = web::Data::new(app);
    let http = HttpSettings {
        cors_origins: settings.http.cors_origins.clone(),
        json_limit: settings.http.json_limit,
        trusted_proxies: settings.http.trusted_proxies.clone(),
        upload_concurrency: settings.http.upload_concurrency,
        password_auth: settings.auth.password_auth,
        oauth_redirect_url: settings.oauth.redirect_url.clone(),
        secure_cookies: settings.http.public_url.starts_with("https://"),
        photo_url_base: if settings.is_configured("ACCUEIL_PUBLIC_URL") {
            settings.http.public_url.clone()
        } else {
            String::new()
        },
        metrics: Some(metrics),
        realtime: Some(realtime.clone()),
    };
    let bind = &settings.http.bind;
    let listener = TcpListener::bind(bind).map_err(|source| StartError::Bind {
        addr: bind.clone(),
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: bind.clone(),
        source,
    })?;
    let mut server = HttpServer::new(move || accueil_http::build_app(app.clone(), http.clone()))
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    if let Some(n) = settings.http.workers {
        server = server.workers(n.max(1));
    }
    // Small frames (realtime notifications, pings) go out at once rather than waiting, under
    // Nagle's algorithm, for the client's delayed acknowledgement of the previous one.
    let server = server
        .tcp_nodelay(true)
        .shutdown_signal(os_signal_then_close(realtime.clone()))
        .run();
    let handle = server.handle();
    tracing::info!(mail = %mailer_description(settings), "mail transport");
    tracing::info!(
        %addr,
        env = ?settings.general.env,
        bcrypt_cost = settings.auth.bcrypt_cost,
        docs = %format!("http://{addr}/api/docs/"),
        "accueil listening"
    );
    Ok(Running {
        addr,
        server,
        shutdown: Shutdown {
            realtime,
            handle: handle.clone(),
        },
        handle,
        jobs,
    })
}

/// Checks the schedule overrides and, unless the runner is off here, registers the schedules
/// and starts the runner.
async fn start_jobs(
    settings: &Settings,
    app: &App,
    metrics: &accueil_http::Metrics,
) -> Result<JobsRunner, StartError> {
    let schedules = app
        .jobs
        .resolve_schedules(&settings.jobs.zone, &settings.jobs.schedules)?;
    if !settings.jobs.runner {
        tracing::info!("jobs runner off (ACCUEIL_JOBS_RUNNER=off): this instance runs no jobs");
        return Ok(JobsRunner::disabled());
    }
    for (name, schedule) in &schedules {
        tracing::info!(job = %name, cron = schedule.expr(), zone = schedule.zone(), "job schedule");
    }
    app.jobs.register_schedules(schedules, true).await?;
    let jobs_metrics = metrics::JobsMetrics::new(metrics.registry())?;
    let names: Vec<String> = app
        .jobs
        .recurring_jobs()
        .into_iter()
        .map(|r| r.name.to_string())
        .collect();
    jobs_metrics.known(&names);
    Ok(JobsRunner::spawn(
        app.jobs.clone(),
        runner::owner_id(),
        settings.jobs.poll,
        Some(jobs_metrics),
    ))
}

/// The metrics registry, with the pools' collector, and who may read it.
fn http_metrics(
    settings: &Settings,
    store: &DieselStore,
) -> Result<accueil_http::Metrics, StartError> {
    use accueil_http::MetricsAccess;
    use config::MetricsMode;
    let access = match (settings.metrics.mode, &settings.metrics.token) {
        (MetricsMode::Off, _) => MetricsAccess::Off,
        (MetricsMode::On, _) => MetricsAccess::Open,
        (MetricsMode::Token, Some(t)) => MetricsAccess::Token(t.trim().to_owned()),
        // The settings refuse `token` without one; never serve it open.
        (MetricsMode::Token, None) => MetricsAccess::Off,
    };
    let metrics = accueil_http::Metrics::new(access)?;
    metrics
        .registry()
        .register(Box::new(metrics::PoolCollector::new(store.clone())?))?;
    Ok(metrics)
}

fn mailer_description(settings: &Settings) -> String {
    mailer(settings).map_or_else(|e| e.to_string(), |m| m.describe())
}
