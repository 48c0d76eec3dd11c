//! Scoped repositories: bound by the storage adapter to one tenant or one owner, so that no
//! query can forget the scope.
//!
//! [`Tx::in_tenant`](crate::Tx::in_tenant) and [`Tx::as_owner`](crate::Tx::as_owner) return a
//! view of the same transaction whose repositories take no tenant or owner argument: the
//! adapter holds the id and adds it to every statement it runs through that view (and, on
//! PostgreSQL, sets it for row-level security), so a use case cannot name another tenant's
//! rows even by mistake. The application gets these views only through its scope helpers,
//! after the caller was admitted (`accueil_app::scope`).
//!
//! The repositories themselves come with their modules: SmartQueue's (sites, queues,
//! tickets, ...) on [`TenantTx`], Focus's (activities, limits, challenges, ...) on [`OwnerTx`].
//! Each is one more accessor here, implemented by both adapters' bound views and checked by the
//! contract suite with a second tenant or owner.

use accueil_domain::identity::UserId;
use accueil_domain::queues::TenantId;

use crate::queues::{
    AgentsRepo, CatalogueRepo, CustomersRepo, InvitationsRepo, MembersRepo, TicketsRepo,
};

/// The repositories of one tenant, inside one transaction.
pub trait TenantTx: Send {
    /// The tenant every query of this view is bound to.
    fn tenant(&self) -> TenantId;
    /// The tenant's settings and members.
    fn members(&mut self) -> &mut dyn MembersRepo;
    /// The tenant's invitations.
    fn invitations(&mut self) -> &mut dyn InvitationsRepo;
    /// The tenant's sites, services, queues and counters.
    fn catalogue(&mut self) -> &mut dyn CatalogueRepo;
    /// The tenant's customers.
    fn customers(&mut self) -> &mut dyn CustomersRepo;
    /// The tenant's agent profiles.
    fn agents(&mut self) -> &mut dyn AgentsRepo;
    /// The tenant's tickets and their events.
    fn tickets(&mut self) -> &mut dyn TicketsRepo;
}

/// The repositories of one user's own data, inside one transaction.
pub trait OwnerTx: Send {
    /// The user every query of this view is bound to.
    fn owner(&self) -> UserId;
}
