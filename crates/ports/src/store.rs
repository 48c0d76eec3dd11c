//! The unit of work: one use case, one transaction.
//!
//! `Store::run` is object-safe (the application holds an `Arc<dyn Store>`), so the closure and
//! its result travel boxed; [`StoreExt`] restores the types. An adapter runs the closure on a
//! thread where blocking is allowed, commits when it returns `Ok` and rolls back when it
//! returns `Err`. Domain events emitted in the unit of work ([`Tx::emit`]) come back only with
//! a commit ([`Committed`]), for the application to publish ([`crate::events`]). A use case
//! that must record something *and* refuse the request (for example,
//! revoke a session family on refresh-token reuse, then answer 401) returns `Ok` with an outcome
//! and turns it into an error after the commit.

use std::any::Any;
use std::future::Future;

use async_trait::async_trait;

use crate::admin::AuditRepo;
use crate::couples::{CheckinsRepo, FeedRepo, GoalsRepo, LettersRepo, PairingRepo, QnaRepo};
use crate::identity::{
    ApiKeysRepo, EmailTokensRepo, OAuthRepo, SessionsRepo, UsersRepo, WsTicketsRepo,
};
use crate::jobs::JobsRepo;
use crate::memories::{MemoriesRepo, PerspectivesRepo, SharesRepo};
use crate::notify::OutboxRepo;
use crate::queues::TenantsRepo;
use crate::scope::{OwnerTx, TenantTx};
use accueil_domain::events::Event;
use accueil_domain::identity::UserId;
use accueil_domain::queues::TenantId;

/// What every adapter answers a write attempted in a read unit of work, before it reaches the
/// database: the same error on every backend and view.
///
/// # Errors
/// `StoreError::Internal` when `read_only`.
pub fn refuse_writes(read_only: bool) -> Result<(), StoreError> {
    if read_only {
        Err(StoreError::Internal(
            "write attempted in a read-only unit of work".into(),
        ))
    } else {
        Ok(())
    }
}

/// A storage failure that no use case can act on, except by answering "try again later".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or refused the connection (pool timeout, server down).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule that the repository method does not report as a typed error.
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// Anything else: a bug, a corrupt row, a failed migration.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Whether a unit of work may write. Adapters may serve reads from replicas or from a pool of
/// read connections, and serialize writes (SQLite has one writer connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only; a write inside fails.
    Read,
    /// Reads and writes, in one transaction that takes the write lock up front.
    Write,
}

/// The repositories, all bound to one open transaction: one per aggregate, named as its files
/// are in every layer (`ports/src/<module>/<aggregate>.rs`, the stores' files, the contract
/// suite's).
pub trait Tx: Send {
    /// Users (identity).
    fn users(&mut self) -> &mut dyn UsersRepo;
    /// Sessions and their refresh tokens (identity).
    fn sessions(&mut self) -> &mut dyn SessionsRepo;
    /// One-time tokens of mailed links (identity).
    fn email_tokens(&mut self) -> &mut dyn EmailTokensRepo;
    /// One-time tickets of realtime connections (identity).
    fn ws_tickets(&mut self) -> &mut dyn WsTicketsRepo;
    /// API keys (identity).
    fn api_keys(&mut self) -> &mut dyn ApiKeysRepo;
    /// External identities, sign-in flows and pending links (identity).
    fn oauth(&mut self) -> &mut dyn OAuthRepo;
    /// The audit log (admin).
    fn audit(&mut self) -> &mut dyn AuditRepo;
    /// The mail outbox (notify).
    fn outbox(&mut self) -> &mut dyn OutboxRepo;
    /// Background jobs and their runs (jobs).
    fn jobs(&mut self) -> &mut dyn JobsRepo;
    /// Couples, their profile and invites (couples).
    fn pairing(&mut self) -> &mut dyn PairingRepo;
    /// The couples' change feed (couples).
    fn feed(&mut self) -> &mut dyn FeedRepo;
    /// Questions and answers (couples).
    fn qna(&mut self) -> &mut dyn QnaRepo;
    /// Goals and their actions (couples).
    fn goals(&mut self) -> &mut dyn GoalsRepo;
    /// Daily check-ins (couples).
    fn checkins(&mut self) -> &mut dyn CheckinsRepo;
    /// Monthly letters (couples).
    fn letters(&mut self) -> &mut dyn LettersRepo;
    /// Memories and their photos (memories).
    fn memories(&mut self) -> &mut dyn MemoriesRepo;
    /// The partners' perspectives (memories).
    fn perspectives(&mut self) -> &mut dyn PerspectivesRepo;
    /// Share links (memories).
    fn shares(&mut self) -> &mut dyn SharesRepo;
    /// The tenant registry and users' memberships (queues).
    fn tenants(&mut self) -> &mut dyn TenantsRepo;

    /// The repositories of `tenant`, bound to it by the adapter: no query through them can
    /// reach another tenant's rows (see [`crate::scope`]).
    fn in_tenant(&mut self, tenant: TenantId) -> Box<dyn TenantTx + '_>;

    /// The repositories of `owner`'s own data, bound to it by the adapter.
    fn as_owner(&mut self, owner: UserId) -> Box<dyn OwnerTx + '_>;

    /// The events emitted so far in this unit of work: the adapter returns them with the
    /// commit ([`Committed::events`]) and drops them with a rollback.
    fn events(&mut self) -> &mut Vec<Event>;

    /// Emits `event`, to be published if, and only if, this unit of work commits.
    fn emit(&mut self, event: Event) {
        self.events().push(event);
    }
}

/// The [`Tx`] accessors of an adapter whose transaction type implements every repository
/// itself: `impl Tx for MyTx<'_> { accueil_ports::repositories_by_self!(); fn in_tenant... }`.
/// A new repository is one more line here, not one more in every adapter.
#[macro_export]
macro_rules! repositories_by_self {
    () => {
        fn users(&mut self) -> &mut dyn $crate::identity::UsersRepo {
            self
        }
        fn sessions(&mut self) -> &mut dyn $crate::identity::SessionsRepo {
            self
        }
        fn email_tokens(&mut self) -> &mut dyn $crate::identity::EmailTokensRepo {
            self
        }
        fn ws_tickets(&mut self) -> &mut dyn $crate::identity::WsTicketsRepo {
            self
        }
        fn api_keys(&mut self) -> &mut dyn $crate::identity::ApiKeysRepo {
            self
        }
        fn oauth(&mut self) -> &mut dyn $crate::identity::OAuthRepo {
            self
        }
        fn audit(&mut self) -> &mut dyn $crate::admin::AuditRepo {
            self
        }
        fn outbox(&mut self) -> &mut dyn $crate::notify::OutboxRepo {
            self
        }
        fn jobs(&mut self) -> &mut dyn $crate::jobs::JobsRepo {
            self
        }
        fn pairing(&mut self) -> &mut dyn $crate::couples::PairingRepo {
            self
        }
        fn feed(&mut self) -> &mut dyn $crate::couples::FeedRepo {
            self
        }
        fn qna(&mut self) -> &mut dyn $crate::couples::QnaRepo {
            self
        }
        fn goals(&mut self) -> &mut dyn $crate::couples::GoalsRepo {
            self
        }
        fn checkins(&mut self) -> &mut dyn $crate::couples::CheckinsRepo {
            self
        }
        fn letters(&mut self) -> &mut dyn $crate::couples::LettersRepo {
            self
        }
        fn memories(&mut self) -> &mut dyn $crate::memories::MemoriesRepo {
            self
        }
        fn perspectives(&mut self) -> &mut dyn $crate::memories::PerspectivesRepo {
            self
        }
        fn shares(&mut self) -> &mut dyn $crate::memories::SharesRepo {
            self
        }
        fn tenants(&mut self) -> &mut dyn $crate::queues::TenantsRepo {
            self
        }
    };
}

/// What a unit of work returns, boxed: `Ok` commits, `Err` rolls back.
pub type Boxed = Box<dyn Any + Send>;

/// A committed unit of work: its value and the events it emitted, in order.
pub struct Committed {
    /// What the work returned.
    pub value: Boxed,
    /// What it emitted with [`Tx::emit`].
    pub events: Vec<Event>,
}

impl std::fmt::Debug for Committed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committed")
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}
/// A unit of work, boxed.
pub type Work = Box<dyn FnOnce(&mut dyn Tx) -> Result<Boxed, Boxed> + Send>;

/// Runs units of work.
#[async_trait]
pub trait Store: Send + Sync {
    /// Runs `work` in one transaction, off the async workers.
    ///
    /// # Errors
    /// `Ok(Ok(_))` when the work succeeded and committed, with the events it emitted;
    /// `Ok(Err(_))` when the work failed and everything it wrote (and emitted) was rolled back. `Err(StoreError::Unavailable)` when no connection
    /// could be had within the pool's timeout, `Err(StoreError::Internal)` when the
    /// transaction could not begin or commit (then nothing was written).
    async fn run(&self, access: Access, work: Work)
    -> Result<Result<Committed, Boxed>, StoreError>;

    /// Checks that the database answers and its schema is current, for readiness probes.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when it does not answer; `StoreError::Internal` when
    /// migrations are pending.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// The typed face of [`Store::run`].
pub trait StoreExt {
    /// Runs `f` in a read transaction.
    fn read<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static;

    /// Runs `f` in a write transaction: its writes commit together if it returns `Ok`.
    fn write<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static;
}

impl<S: Store + ?Sized> StoreExt for S {
    fn read<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        typed(self, Access::Read, f)
    }

    fn write<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        typed(self, Access::Write, f)
    }
}

async fn typed<S, T, E, F>(store: &S, access: Access, f: F) -> Result<T, E>
where
    S: Store + ?Sized,
    F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let work: Work = Box::new(move |tx| match f(tx) {
        Ok(v) => Ok(Box::new(v) as Boxed),
        Err(e) => Err(Box::new(e) as Boxed),
    });
    let mismatch = || StoreError::Internal("unit of work returned a value of another type".into());
    match store.run(access, work).await? {
        Ok(done) => done
            .value
            .downcast::<T>()
            .map(|v| *v)
            .map_err(|_| E::from(mismatch())),
        Err(e) => Err(e
            .downcast::<E>()
            .map(|e| *e)
            .unwrap_or_else(|_| E::from(mismatch()))),
    }
}
