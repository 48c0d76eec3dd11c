//! Scopes, resolved inside the unit of work, as types.
//!
//! A use case asks for the scope it needs and gets a context already bound to it, in the same
//! transaction that authenticates the caller:
//!
//! - [`Ports::read_as`] / [`Ports::write_as`]: the caller, authenticated ([`Cx`]).
//! - [`Ports::read_in_couple`] / [`Ports::write_in_couple`]: the caller and their active
//!   couple ([`CoupleCx`]); its `changed` records the couple's change feed in the same
//!   transaction. Another couple's objects are out of reach because every couples query takes
//!   `cx.couple.id`, and the contract suite checks each one with a second couple.
//! - [`Ports::read_in_tenant`] / [`Ports::write_in_tenant`]: a tenant the caller is a member of,
//!   with the scope the use case needs ([`TenantCx`]); the repositories come bound by the
//!   adapter to the tenant ([`accueil_ports::scope::TenantTx`]), so no query can forget it.
//!   The membership and scope check is the queues module's [`TenantGate`].
//! - [`Ports::read_as_owner`] / [`Ports::write_as_owner`]: the caller's own data
//!   ([`OwnerCx`]), repositories bound by the adapter to the caller's id
//!   ([`accueil_ports::scope::OwnerTx`]), for per-user modules such as focus.
//!
//! Each helper runs exactly one unit of work (one transaction, one trip to the blocking pool):
//! the caller's session or key, its user, the scope and the use case's own reads and writes all
//! happen in it. One `?` is enough in a use case: authentication failures, "not in a couple"
//! and storage errors all convert into the use case's error.

use std::sync::Arc;

use accueil_domain::couples::{ChangeOp, Couple, EntityKind};
use accueil_domain::queues::TenantId;
use accueil_ports::scope::{OwnerTx, TenantTx};
use accueil_ports::{Access, StoreError, StoreExt, Tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Ports;
use crate::identity::{AuthError, Caller, KeyToTouch, Principal, authenticate_in};

/// The caller, authenticated inside the unit of work.
pub struct Cx<'t> {
    /// The transaction's repositories.
    pub tx: &'t mut dyn Tx,
    /// Who is calling, as stored now.
    pub me: Principal,
    /// The use case's clock reading, taken once before the unit of work.
    pub now: DateTime<Utc>,
}

/// The caller is in no couple (every couple endpoint says so the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not in a couple")]
pub struct NotInCouple;

/// Why a caller may not act in their couple.
#[derive(Debug, thiserror::Error)]
pub enum CoupleDenied {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Authenticated, but in no couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
}

impl From<StoreError> for CoupleDenied {
    fn from(e: StoreError) -> Self {
        Self::Auth(AuthError::Store(e))
    }
}

/// An object the request names is not in the caller's scope (another couple's objects
/// included): 404, never saying which. It names the kind of object, for the problem's detail:
/// `NotFound("goal or action")` reads "no such goal or action".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such {0}")]
pub struct NotFound(pub &'static str);

/// Why a use case in the caller's couple failed when nothing but its scope can refuse it:
/// lists, views, the export of the couple's own data, and changes the rules always allow (a
/// new goal or question, today's check-in, the profile). Shared so that each operation declares
/// exactly the problems it can answer, without an enum per operation.
#[derive(Debug, thiserror::Error)]
pub enum InCoupleError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AuthError> for InCoupleError {
    fn from(e: AuthError) -> Self {
        Self::Denied(e.into())
    }
}

/// Why a use case on one object of the caller's couple failed when, besides its scope, only
/// the object's absence can refuse it: reading one, deleting one, answering a question, adding
/// an action to a goal.
#[derive(Debug, thiserror::Error)]
pub enum InCoupleLookupError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// No such object in the caller's couple.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The caller and their active couple, inside the unit of work.
pub struct CoupleCx<'t> {
    /// The transaction's repositories.
    pub tx: &'t mut dyn Tx,
    /// Who is calling, as stored now.
    pub me: Principal,
    /// Their active couple, read in this transaction.
    pub couple: Couple,
    /// The use case's clock reading, taken once before the unit of work.
    pub now: DateTime<Utc>,
}

impl CoupleCx<'_> {
    /// Records a change in the couple's feed, in this transaction.
    ///
    /// # Errors
    /// The store's error.
    pub fn changed(&mut self, kind: EntityKind, id: Uuid, op: ChangeOp) -> Result<(), StoreError> {
        crate::couples::record_change(self.tx, self.couple.id, kind, id, op, self.now).map(|_| ())
    }
}

/// Why a caller may not act in a tenant.
#[derive(Debug, thiserror::Error)]
pub enum TenantDenied {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// No such tenant, or the caller is not a member (alike: 404).
    #[error("no such tenant")]
    NotFound,
    /// A member without the scope the use case needs (403, naming it).
    #[error("missing scope {0}")]
    MissingScope(&'static str),
}

impl From<StoreError> for TenantDenied {
    fn from(e: StoreError) -> Self {
        Self::Auth(AuthError::Store(e))
    }
}

/// Admits a caller into a tenant named by its slug, inside the unit of work: the module that
/// owns tenants and memberships (queues) implements it with its role → scope table.
pub trait TenantGate: Send + Sync + 'static {
    /// The tenant `slug` names, when `me` is a member holding the scope this gate requires.
    ///
    /// # Errors
    /// [`TenantDenied::NotFound`] for an unknown tenant or a non-member;
    /// [`TenantDenied::MissingScope`] for a member without the scope; `Auth(Store(_))` when
    /// storage fails.
    fn admit(&self, tx: &mut dyn Tx, me: &Principal, slug: &str) -> Result<TenantId, TenantDenied>;
}

/// The caller inside a tenant: [`TenantCx::tenant`] gives its repositories, bound to it by the
/// adapter; `tx` is there for what is not the tenant's (the outbox, the audit log, events).
pub struct TenantCx<'t> {
    /// The transaction, for what belongs to no tenant.
    pub tx: &'t mut dyn Tx,
    /// The tenant the caller was admitted into.
    pub id: TenantId,
    /// Who is calling, as stored now.
    pub me: Principal,
    /// The use case's clock reading, taken once before the unit of work.
    pub now: DateTime<Utc>,
}

impl TenantCx<'_> {
    /// The admitted tenant's repositories: every query carries its id.
    pub fn tenant(&mut self) -> Box<dyn TenantTx + '_> {
        self.tx.in_tenant(self.id)
    }
}

/// The caller's own data: repositories bound to the caller's id by the adapter.
pub struct OwnerCx<'t> {
    /// The caller's repositories: every query carries the owner's id.
    pub owned: Box<dyn OwnerTx + 't>,
    /// Who is calling, as stored now.
    pub me: Principal,
    /// The use case's clock reading, taken once before the unit of work.
    pub now: DateTime<Utc>,
}

impl Ports {
    /// Runs `f` as the authenticated caller in one read unit of work.
    ///
    /// # Errors
    /// `f`'s error, or the caller's authentication failure or a storage failure converted
    /// into it.
    pub async fn read_as<T, E, F>(&self, caller: &Caller, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Cx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AuthError> + From<StoreError> + Send + 'static,
    {
        self.unit(Access::Read, caller, E::from, move |tx, me, now| {
            f(&mut Cx { tx, me, now })
        })
        .await
    }

    /// Runs `f` as the authenticated caller in one write unit of work: everything it writes
    /// commits together if it returns `Ok`.
    ///
    /// # Errors
    /// As [`Self::read_as`].
    pub async fn write_as<T, E, F>(&self, caller: &Caller, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Cx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AuthError> + From<StoreError> + Send + 'static,
    {
        self.unit(Access::Write, caller, E::from, move |tx, me, now| {
            f(&mut Cx { tx, me, now })
        })
        .await
    }

    /// Runs `f` in the caller's active couple, in one read unit of work.
    ///
    /// # Errors
    /// `f`'s error, or [`CoupleDenied`] / a storage failure converted into it.
    pub async fn read_in_couple<T, E, F>(&self, caller: &Caller, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut CoupleCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<CoupleDenied> + From<StoreError> + Send + 'static,
    {
        self.in_couple(Access::Read, caller, f).await
    }

    /// Runs `f` in the caller's active couple, in one write unit of work.
    ///
    /// # Errors
    /// As [`Self::read_in_couple`].
    pub async fn write_in_couple<T, E, F>(&self, caller: &Caller, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut CoupleCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<CoupleDenied> + From<StoreError> + Send + 'static,
    {
        self.in_couple(Access::Write, caller, f).await
    }

    async fn in_couple<T, E, F>(&self, access: Access, caller: &Caller, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut CoupleCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<CoupleDenied> + From<StoreError> + Send + 'static,
    {
        let deny = |e: AuthError| E::from(CoupleDenied::from(e));
        self.unit(access, caller, deny, move |tx, me, now| {
            let couple = match access {
                // Locked until commit: the couple's writers run one after the other, so
                // read-modify-write use cases on its content cannot lose an update.
                Access::Write => tx.pairing().active_couple_of_for_update(me.user.id)?,
                Access::Read => tx.pairing().active_couple_of(me.user.id)?,
            }
            .ok_or(CoupleDenied::NotInCouple(NotInCouple))?;
            f(&mut CoupleCx {
                tx,
                me,
                couple,
                now,
            })
        })
        .await
    }

    /// Runs `f` in the tenant `slug` names, once `gate` admits the caller, in one read unit of
    /// work.
    ///
    /// # Errors
    /// `f`'s error, or [`TenantDenied`] / a storage failure converted into it.
    pub async fn read_in_tenant<T, E, F>(
        &self,
        caller: &Caller,
        gate: Arc<dyn TenantGate>,
        slug: &str,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut TenantCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<TenantDenied> + From<StoreError> + Send + 'static,
    {
        self.in_tenant(Access::Read, caller, gate, slug, f).await
    }

    /// Runs `f` in the tenant `slug` names, once `gate` admits the caller, in one write unit of
    /// work.
    ///
    /// # Errors
    /// As [`Self::read_in_tenant`].
    pub async fn write_in_tenant<T, E, F>(
        &self,
        caller: &Caller,
        gate: Arc<dyn TenantGate>,
        slug: &str,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut TenantCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<TenantDenied> + From<StoreError> + Send + 'static,
    {
        self.in_tenant(Access::Write, caller, gate, slug, f).await
    }

    async fn in_tenant<T, E, F>(
        &self,
        access: Access,
        caller: &Caller,
        gate: Arc<dyn TenantGate>,
        slug: &str,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut TenantCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<TenantDenied> + From<StoreError> + Send + 'static,
    {
        let slug = slug.to_owned();
        let deny = |e: AuthError| E::from(TenantDenied::from(e));
        self.unit(access, caller, deny, move |tx, me, now| {
            let id = gate.admit(tx, &me, &slug)?;
            f(&mut TenantCx { tx, id, me, now })
        })
        .await
    }

    /// Runs `f` on the caller's own data, in one read unit of work.
    ///
    /// # Errors
    /// `f`'s error, or the caller's authentication failure or a storage failure converted
    /// into it.
    pub async fn read_as_owner<T, E, F>(&self, caller: &Caller, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut OwnerCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AuthError> + From<StoreError> + Send + 'static,
    {
        self.unit(Access::Read, caller, E::from, move |tx, me, now| {
            let owned = tx.as_owner(me.user.id);
            f(&mut OwnerCx { owned, me, now })
        })
        .await
    }

    /// Runs `f` on the caller's own data, in one write unit of work.
    ///
    /// # Errors
    /// As [`Self::read_as_owner`].
    pub async fn write_as_owner<T, E, F>(&self, caller: &Caller, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut OwnerCx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<AuthError> + From<StoreError> + Send + 'static,
    {
        self.unit(Access::Write, caller, E::from, move |tx, me, now| {
            let owned = tx.as_owner(me.user.id);
            f(&mut OwnerCx { owned, me, now })
        })
        .await
    }

    /// The one unit of work every scope helper runs: authenticate, then `f`. In a read unit an
    /// API key's use, when due (once an hour), is recorded after the commit in a unit of its
    /// own: bookkeeping that the request does not wait on the result of.
    async fn unit<T, E, F, D>(&self, access: Access, caller: &Caller, deny: D, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut dyn Tx, Principal, DateTime<Utc>) -> Result<T, E> + Send + 'static,
        D: Fn(AuthError) -> E + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let now = self.clock.now();
        let caller = caller.clone();
        let work = move |tx: &mut dyn Tx| -> Result<(T, KeyToTouch), E> {
            let (me, touch) =
                authenticate_in(tx, &caller, now, access == Access::Write).map_err(&deny)?;
            Ok((f(tx, me, now)?, touch))
        };
        let (value, touch) = match access {
            Access::Read => self.store.read(work).await?,
            Access::Write => self.store.write(work).await?,
        };
        if let Some(key) = touch
            && let Err(e) = self
                .store
                .write(move |tx| tx.api_keys().touch_api_key(key, now))
                .await
        {
            tracing::warn!(key = %key.0, error = %e, "API key use not recorded");
        }
        Ok(value)
    }
}
