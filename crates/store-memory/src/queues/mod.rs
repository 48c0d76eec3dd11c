//! SmartQueue's repositories in memory: the registry on [`crate::MemTx`], a tenant's rows on
//! its bound view [`crate::MemTenantTx`], which filters every row by the bound tenant.

mod agents;
pub(crate) mod catalogue;
mod customers;
mod invitations;
mod members;
mod tenants;
mod tickets;
