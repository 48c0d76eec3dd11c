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
pub mod realtime;
pub mod scope;

#[cfg(test)]
pub(crate) mod testing;

pub use accueil_ports::StoreError;

use std::sync::Arc;

use accueil_ports::Store;
use accueil_ports::media::{FileStore, ImageProcessor};
use accueil_ports::notify::Mailer;
use accueil_ports::system::{
    AccessTokens, Clock, IdGenerator, OpaqueTokens, PasswordHasher, RateLimiter,
};

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

/// What [`App::purge`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeReport {
    /// Accounts deleted past their grace period.
    pub accounts: u64,
    /// Ended sessions (with their refresh tokens), expired sign-in flows and expired realtime
    /// tickets.
    pub sessions: u64,
    /// Couples dissolved more than 30 days ago, with their content and files.
    pub couples: u64,
    /// Purged couples whose files could not be deleted (see the log: their folders under
    /// `couples/` can be removed by hand).
    pub file_failures: u64,
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
    /// Realtime connections: tickets, and what a connection may hear.
    pub realtime: realtime::RealtimeService,
    hooks: lifecycle::Hooks,
    ports: Ports,
}

impl App {
    /// Builds every service, and registers every module's lifecycle hooks (in the order they
    /// run: a module's purge sees what the modules before it purged). Every service's store
    /// publishes the events of its committed units of work on `ports.events`
    /// ([`events::Publishing`]).
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
        ]);
        Self {
            notify: notify::NotifyService::new(ports.clone()),
            realtime: realtime::RealtimeService::new(
                ports.clone(),
                realtime::RealtimeSettings::default(),
            ),
            couples: couples::CouplesService::new(ports.clone(), couples, hooks.clone()),
            memories,
            admin: admin::AdminService::new(ports.clone(), identity.clone()),
            identity: identity::IdentityService::new(ports.clone(), identity, hooks.clone()),
            hooks,
            ports,
        }
    }

    /// Removes what has outlived its retention: every module's old data (couples dissolved
    /// more than 30 days ago with their files, ...), then accounts deleted past their grace
    /// period and ended sessions. Modules go first: an account is removed after the couples
    /// it belonged to, so a partner's export window is never cut short.
    ///
    /// # Errors
    /// The first failure; what was purged before it stays purged. A couple's files that
    /// cannot be deleted are logged and counted in the report, and the other couples' files
    /// are still deleted.
    pub async fn purge(&self) -> Result<PurgeReport, String> {
        let log = self.hooks.purge(self.ports.clock.now()).await?;
        let accounts = self
            .identity
            .purge_deleted()
            .await
            .map_err(|e| e.to_string())?;
        let sessions = self
            .identity
            .purge_old_sessions()
            .await
            .map_err(|e| e.to_string())?
            + self
                .identity
                .purge_oauth()
                .await
                .map_err(|e| e.to_string())?
            + self
                .realtime
                .purge_tickets()
                .await
                .map_err(|e| e.to_string())?;
        Ok(PurgeReport {
            accounts,
            sessions,
            couples: log.couples.len() as u64,
            file_failures: log.file_failures,
        })
    }

    /// The same application with these realtime settings (the per-user ticket rate).
    #[must_use]
    pub fn with_realtime(mut self, settings: realtime::RealtimeSettings) -> Self {
        self.realtime = realtime::RealtimeService::new(self.ports.clone(), settings);
        self
    }

    /// Whether storage answers, for readiness probes.
    ///
    /// This is the one place `/ready` asks: the components still to come (the PostgreSQL event
    /// listener, the jobs runner) each add their check here, after the database's, so the
    /// probe keeps one answer for every part an instance needs (docs/operations.md).
    ///
    /// # Errors
    /// The store's error when it does not.
    pub async fn ready(&self) -> Result<(), accueil_ports::StoreError> {
        self.ports.store.ping().await
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
