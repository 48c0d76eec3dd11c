//! SmartQueue: tenants (organisations), their members and roles, what each role may do
//! (scopes), invitations, the catalogue (sites, services, queues, counters), customers, agents,
//! and the rules of tickets (states, numbers, who is called next).

use std::fmt;

use uuid::Uuid;

pub mod agents;
pub mod catalogue;
pub mod customers;
pub mod invitations;
pub mod members;
pub mod tenants;
pub mod tickets;

pub use agents::{AgentChanges, AgentProfile, AgentStatus};
pub use catalogue::{
    Address, Counter, CounterChanges, ItemName, NewCounter, NewQueue, NewService, NewSite,
    NumberingFields, Prefix, Queue, QueueChanges, Service, ServiceChanges, Site, SiteChanges,
};
pub use customers::{Consent, ConsentFields, Customer, CustomerChanges, NewCustomer, Phone};
pub use invitations::{INVITATION_TTL, Invitation, InvitationProblem, NewInvitation};
pub use members::{LastAdmin, Member, Membership, Role, Scope, keeps_an_admin};
pub use tenants::{NewTenant, Slug, TENANT_DELETION_GRACE, Tenant, TenantChanges, TenantName};

/// A tenant (an organisation using SmartQueue). Every tenant-scoped row carries it, and every
/// tenant-scoped query is bound to it by the storage adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub Uuid);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
