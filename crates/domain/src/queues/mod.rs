//! SmartQueue: tenants, their members and queues. Only the tenant's identity exists yet, so
//! the tenant scope ([`TenantId`]) can be written into the ports and the application's scope
//! helpers; the queues module fills in the rest.

use std::fmt;

use uuid::Uuid;

/// A tenant (an organisation using SmartQueue). Every tenant-scoped row carries it, and every
/// tenant-scoped query is bound to it by the storage adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub Uuid);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
