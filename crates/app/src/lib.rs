//! Accueil's application layer: the use cases, one module per bounded context.
//!
//! A use case validates its input into domain types, does slow work that needs no lock (password
//! hashing) first, then runs its state change in one unit of work ([`accueil_ports::StoreExt`]):
//! the change and every row it causes (audit, later outbox and change feed) commit together.
//! Errors are typed per use case, so the HTTP layer maps each case to a stable code.

pub mod admin;
pub mod couples;
pub mod events;
pub mod identity;
pub mod jobs;
pub mod lifecycle;
pub mod memories;
pub mod notify;
pub mod queues;
pub mod realtime;
pub mod scope;

#[cfg(test)]
mod background_tests;
#[cfg(test)]
pub(crate) mod testing;

pub use accueil_ports::StoreError;

use std::sync::Arc;

use accueil_ports::media::{FileStore, ImageProcessor};
use accueil_ports::notify::Mailer;
use accueil_ports::system::{
    AccessTokens, Clock, IdGenerator, OpaqueTokens, PasswordHasher, RateLimiter,
};
use accueil_ports::{Store, StoreExt};

/// Everything the use cases reach the outside world through.
#[derive(Clone)]
pub struct Ports {
    /// Storage (units of work).
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ids.
    pub ids: Arc<dyn IdGenerator>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access tokens.
    pub access_tokens: Arc<dyn AccessTokens>,
    /// Opaque tokens (refresh tokens, e-mailed links).
    pub opaque_tokens: Arc<dyn OpaqueTokens>,
    /// Mail delivery (used by the outbox worker only; use cases write to the outbox).
    pub mailer: Arc<dyn Mailer>,
    /// Request counting for rate limits.
    pub limiter: Arc<dyn RateLimiter>,
    /// Stored files (photos).
    pub files: Arc<dyn FileStore>,
    /// Image checks and resizing.
    pub images: Arc<dyn ImageProcessor>,
    /// Signatures of self-authorising links (signed photo URLs).
    pub links: Arc<dyn accueil_ports::system::LinkSigner>,
    /// Configured sign-in providers.
    pub oauth: accueil_ports::identity::oauth::OAuthProviders,
    /// Where committed events go ([`App::new`] makes `store` publish on it).
    pub events: Arc<dyn accueil_ports::events::EventBus>,
}

/// What [`App::purge`] removed (each job fills its part).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Accounts deleted past their grace period.
    pub accounts: u64,
    /// Ended sessions (with their refresh tokens), and expired sign-in flows.
    pub sessions: u64,
    /// E-mailed links expired past the grace period, and expired realtime tickets.
    pub links: u64,
    /// Couples dissolved more than 30 days ago, with their content and files.
    pub couples: u64,
    /// Purged couples whose files could not be deleted (see the log: their folders under
    /// `couples/` can be removed by hand).
    pub file_failures: u64,
    /// Job runs (and finished one-off jobs) older than the jobs history.
    pub job_history: u64,
}

/// The recurring job that removes deleted accounts and dissolved couples past retention.
pub const PURGE_DELETED_JOB: &str = "purge-deleted";
/// The recurring job that removes expired sessions, links, sign-in flows and old job history.
pub const PURGE_EXPIRED_JOB: &str = "purge-expired";

/// One part of readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyCheck {
    /// What is checked (`database`, `jobs`).
    pub name: &'static str,
    /// How it is.
    pub state: CheckState,
}

/// How one part of an instance is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckState {
    /// Working.
    Ok,
    /// Off by setting on this instance (does not make it unready).
    Disabled,
    /// Not working, and why.
    Failed(String),
}

/// Every readiness check, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The checks.
    pub checks: Vec<ReadyCheck>,
}

impl Readiness {
    /// Whether no check failed.
    pub fn is_ready(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| matches!(c.state, CheckState::Failed(_)))
    }
}

/// The application: one service per module, sharing the ports.
#[derive(Clone)]
pub struct App {
    /// Accounts, login and sessions.
    pub identity: identity::IdentityService,
    /// Users and accounts administration.
    pub admin: admin::AdminService,
    /// Couples: pairing, Q&A, change feed.
    pub couples: couples::CouplesService,
    /// The memories site.
    pub memories: memories::MemoriesService,
    /// Mail delivery from the outbox.
    pub notify: notify::NotifyService,
    /// Background jobs, with every module's handlers ([`App::with_jobs_settings`]).
    pub jobs: jobs::JobsService,
    /// Realtime connections: tickets, and what a connection may hear.
    pub realtime: realtime::RealtimeService,
    /// SmartQueue: tenants and their members.
    pub queues: queues::QueuesService,
    purger: Purger,
    ports: Ports,
}

impl App {
    /// Builds every service, and registers every module's lifecycle hooks (in the order they
    /// run: a module's purge sees what the modules before it purged) and background jobs.
    /// Every service's store (the jobs' too) publishes the events of its committed units of
    /// work on `ports.events` ([`events::Publishing`]).
    pub fn new(
        mut ports: Ports,
        identity: identity::IdentitySettings,
        couples: couples::CouplesSettings,
        memories: memories::MemoriesSettings,
    ) -> Self {
        ports.store = Arc::new(events::Publishing::new(ports.store, ports.events.clone()));
        let memories = memories::MemoriesService::new(ports.clone(), memories);
        let hooks = lifecycle::Hooks::new(vec![
            std::sync::Arc::new(couples::Lifecycle {
                ports: ports.clone(),
            }),
            std::sync::Arc::new(memories::Lifecycle {
                service: memories.clone(),
            }),
            std::sync::Arc::new(queues::Lifecycle {
                ports: ports.clone(),
            }),
        ]);
        let public_url = identity.public_url.clone();
        let admin = admin::AdminService::new(ports.clone(), identity.clone());
        let identity = identity::IdentityService::new(ports.clone(), identity, hooks.clone());
        let notify = notify::NotifyService::new(ports.clone());
        let settings = jobs::JobsSettings::default();
        let couples = couples::CouplesService::new(ports.clone(), couples, hooks.clone());
        let purger = Purger {
            hooks: hooks.clone(),
            identity: identity.clone(),
            ports: ports.clone(),
            history: settings.history,
        };
        Self {
            jobs: background_jobs(&ports, &notify, &purger, &couples, settings),
            notify,
            realtime: realtime::RealtimeService::new(
                ports.clone(),
                realtime::RealtimeSettings::default(),
            ),
            couples,
            memories,
            admin,
            identity,
            queues: queues::QueuesService::new(
                ports.clone(),
                queues::QueuesSettings::new(public_url),
            ),
            purger,
            ports,
        }
    }

    /// The same with other jobs settings (lease, history) and the outbox's first retry delay;
    /// call it before any runner starts (it makes a new [`App::jobs`]).
    #[must_use]
    pub fn with_jobs_settings(
        mut self,
        settings: jobs::JobsSettings,
        mail_retry_base: chrono::Duration,
    ) -> Self {
        self.notify = self.notify.with_retry_base(mail_retry_base);
        self.purger.history = settings.history;
        let timer = self.jobs.timer.clone();
        self.jobs = background_jobs(
            &self.ports,
            &self.notify,
            &self.purger,
            &self.couples,
            settings,
        );
        self.jobs.timer = timer;
        self
    }

    /// The same with a timer for the jobs runner, which then renews the lease of a job while
    /// it runs ([`jobs::JobsService::with_timer`]).
    #[must_use]
    pub fn with_timer(mut self, sleep: jobs::Sleep) -> Self {
        self.jobs = self.jobs.with_timer(sleep);
        self
    }

    /// Removes what has outlived its retention, as the `purge-deleted` and then the
    /// `purge-expired` jobs do: every module's old data (couples dissolved more than 30 days
    /// ago with their files, ...), accounts deleted past their grace period, then ended
    /// sessions, expired links and sign-in flows, and old job history. Modules go first: an
    /// account is removed after the couples it belonged to, so a partner's export window is
    /// never cut short.
    ///
    /// # Errors
    /// The first failure; what was purged before it stays purged. A couple's files that
    /// cannot be deleted are logged and counted in the report, and the other couples' files
    /// are still deleted.
    pub async fn purge(&self) -> Result<PurgeReport, String> {
        let deleted = self.purger.deleted().await?;
        let expired = self.purger.expired().await?;
        Ok(PurgeReport {
            sessions: expired.sessions,
            links: expired.links,
            job_history: expired.job_history,
            ..deleted
        })
    }

    /// The same application with these queues settings (the invitation rate).
    #[must_use]
    pub fn with_queues(mut self, settings: queues::QueuesSettings) -> Self {
        self.queues = queues::QueuesService::new(self.ports.clone(), settings);
        self
    }

    /// The same application with these realtime settings (the per-user ticket rate).
    #[must_use]
    pub fn with_realtime(mut self, settings: realtime::RealtimeSettings) -> Self {
        self.realtime = realtime::RealtimeService::new(self.ports.clone(), settings);
        self
    }

    /// Every part an instance needs, for readiness probes: the database answers (and its
    /// migrations are applied), the event bus hears every instance (the PostgreSQL listener is
    /// connected), and this process's jobs runner is doing rounds (or is off by setting).
    ///
    /// This is the one place `/ready` asks: each component adds its check here, so the probe
    /// keeps one answer for every part an instance needs (docs/operations.md).
    pub async fn ready(&self) -> Readiness {
        let database = match self.ports.store.ping().await {
            Ok(()) => CheckState::Ok,
            Err(e) => CheckState::Failed(e.to_string()),
        };
        let events = match self.ports.events.health() {
            Ok(()) => CheckState::Ok,
            Err(why) => CheckState::Failed(why),
        };
        let jobs = match self.jobs.runner().check(self.now()) {
            jobs::RunnerHealth::Healthy => CheckState::Ok,
            jobs::RunnerHealth::Disabled => CheckState::Disabled,
            jobs::RunnerHealth::Unhealthy(why) => CheckState::Failed(why),
        };
        Readiness {
            checks: vec![
                ReadyCheck {
                    name: "database",
                    state: database,
                },
                ReadyCheck {
                    name: "events",
                    state: events,
                },
                ReadyCheck {
                    name: "jobs",
                    state: jobs,
                },
            ],
        }
    }

    /// The event bus, for realtime connections to subscribe to.
    pub fn events(&self) -> Arc<dyn accueil_ports::events::EventBus> {
        self.ports.events.clone()
    }

    /// The store every use case runs on (it publishes committed events), for services built
    /// outside the application (the jobs runner).
    pub fn store(&self) -> Arc<dyn Store> {
        self.ports.store.clone()
    }

    /// The application's clock, for request parsing that depends on "now" (an expiry must be
    /// in the future).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.ports.clock.now()
    }
}

/// Every module's background jobs, registered in one place: a module adds its job here with
/// one `.recurring(name, default schedule, handler)` (or `.handle` for one-off jobs only).
/// Default schedules are on the wall clock of `ACCUEIL_JOBS_ZONE` (UTC unless set), and each
/// can be overridden by setting (docs/operations.md).
fn background_jobs(
    ports: &Ports,
    notify: &notify::NotifyService,
    purger: &Purger,
    couples: &couples::CouplesService,
    settings: jobs::JobsSettings,
) -> jobs::JobsService {
    let name = |n: &str| accueil_domain::jobs::JobName::from_trusted(n.to_owned());
    let (mail, deleted, expired) = (notify.clone(), purger.clone(), purger.clone());
    let letters = couples.clone();
    jobs::JobsService::new(
        ports.store.clone(),
        ports.clock.clone(),
        ports.ids.clone(),
        settings,
    )
    // Each mail also enqueues a one-off run when it is written (notify's module doc); the
    // sweep once a minute catches what a crash left behind.
    .recurring(notify::delivery_job(), "* * * * *", move |job| {
        let mail = mail.clone();
        async move { mail.deliver_job(job).await }
    })
    .recurring(name(PURGE_DELETED_JOB), "30 3 * * *", move |_job| {
        let purger = deleted.clone();
        async move { purger.deleted().await.map(|_| ()) }
    })
    .recurring(name(PURGE_EXPIRED_JOB), "15 * * * *", move |_job| {
        let purger = expired.clone();
        async move { purger.expired().await.map(|_| ()) }
    })
    // Per-user schedules: each user's row is written by the module's use cases.
    .handle(couples::letters_opening().name, move |job| {
        let couples = letters.clone();
        async move { couples.announce_opened_letters(job).await }
    })
}

/// What the two purge jobs do.
#[derive(Clone)]
struct Purger {
    hooks: lifecycle::Hooks,
    identity: identity::IdentityService,
    ports: Ports,
    history: chrono::Duration,
}

impl Purger {
    /// `purge-deleted`: every module's purge (dissolved couples and their files, ...), then
    /// the accounts deleted past their grace period.
    async fn deleted(&self) -> Result<PurgeReport, String> {
        let log = self.hooks.purge(self.ports.clock.now()).await?;
        let accounts = self
            .identity
            .purge_deleted()
            .await
            .map_err(|e| e.to_string())?;
        let report = PurgeReport {
            accounts,
            couples: log.couples.len() as u64,
            file_failures: log.file_failures,
            ..PurgeReport::default()
        };
        tracing::info!(
            accounts,
            couples = report.couples,
            file_failures = report.file_failures,
            "purge-deleted"
        );
        if report.file_failures > 0 {
            return Err(format!(
                "the files of {} purged couple(s) could not be deleted; see the log",
                report.file_failures
            ));
        }
        Ok(report)
    }

    /// `purge-expired`: ended sessions and expired refresh tokens, sign-in flows and e-mailed
    /// links past their grace, and job runs older than the history setting.
    async fn expired(&self) -> Result<PurgeReport, String> {
        let text = |e: StoreError| e.to_string();
        let sessions = self.identity.purge_old_sessions().await.map_err(text)?
            + self.identity.purge_oauth().await.map_err(text)?;
        let now = self.ports.clock.now();
        // Expired realtime tickets count with the e-mailed links: one-time tokens past use.
        let links = self.identity.purge_email_tokens().await.map_err(text)?
            + self
                .ports
                .store
                .write(move |tx| tx.ws_tickets().purge_ws_tickets_before(now))
                .await
                .map_err(text)?;
        let before = self.ports.clock.now() - self.history;
        let job_history = self
            .ports
            .store
            .write(move |tx| tx.jobs().prune(before))
            .await
            .map_err(text)?;
        tracing::info!(sessions, links, job_history, "purge-expired");
        Ok(PurgeReport {
            sessions,
            links,
            job_history,
            ..PurgeReport::default()
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use accueil_ports::events::MockEventBus;

    use super::*;

    #[tokio::test]
    async fn ready_reports_the_event_bus_after_the_database() {
        let h = testing::Harness::new();
        let fine = h.whole_app().ready().await;
        assert!(
            fine.checks
                .iter()
                .any(|c| c.name == "events" && c.state == CheckState::Ok),
            "{:?}",
            fine.checks
        );
        let mut bus = MockEventBus::new();
        bus.expect_health()
            .returning(|| Err("event listener reconnecting since 2026-11-22T09:30:00Z".into()));
        let mut ports = h.ports_with_mailer(Arc::new(testing::KeptMail::default()));
        ports.events = Arc::new(bus);
        let app = App::new(
            ports,
            identity::IdentitySettings::default(),
            couples::CouplesSettings::default(),
            memories::MemoriesSettings::default(),
        );
        let readiness = app.ready().await;
        assert!(!readiness.is_ready());
        let events = readiness.checks.iter().find(|c| c.name == "events");
        assert!(
            matches!(
                events.map(|c| &c.state),
                Some(CheckState::Failed(why))
                    if why == "event listener reconnecting since 2026-11-22T09:30:00Z"
            ),
            "{:?}",
            readiness.checks
        );
    }
}
