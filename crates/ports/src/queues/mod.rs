//! SmartQueue's repositories: the tenant registry on [`crate::Tx`] (a tenant is found by its
//! slug before the caller is admitted into it), everything inside a tenant on
//! [`crate::scope::TenantTx`], bound to it by the adapter.

mod agents;
mod catalogue;
mod customers;
mod invitations;
mod members;
mod tenants;
mod tickets;

pub use agents::AgentsRepo;
pub use catalogue::{CatalogueRepo, DeleteItemError, SaveItemError};
pub use customers::CustomersRepo;
pub use invitations::InvitationsRepo;
pub use members::MembersRepo;
pub use tenants::{TenantWriteError, TenantsRepo};
pub use tickets::{DayCount, TicketWriteError, TicketsRepo};
