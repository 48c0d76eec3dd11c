//! The tenant registry: creating a tenant with its first ADMIN, finding one by slug, and a
//! user's memberships across tenants.

use accueil_domain::identity::{TokenDigest, UserId};
use accueil_domain::queues::{Invitation, Membership, Role, Tenant, TenantId};

use chrono::{DateTime, Utc};

use crate::StoreError;

/// Why a tenant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TenantWriteError {
    /// Another tenant has this slug.
    #[error("slug already taken")]
    SlugTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tenants, and memberships seen from their users.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TenantsRepo: Send {
    /// Creates `tenant` with `admin` as its first member, role ADMIN, both at
    /// `tenant.created_at`.
    ///
    /// # Errors
    /// [`TenantWriteError::SlugTaken`]; `Store` otherwise.
    fn create_tenant(&mut self, tenant: &Tenant, admin: UserId) -> Result<(), TenantWriteError>;

    /// Removes the tenants deleted before `before`, with everything of theirs (members,
    /// invitations, ...); returns how many went.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_tenants_deleted_before(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The tenant with this slug, deleted or not.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn tenant_by_slug(&mut self, slug: &str) -> Result<Option<Tenant>, StoreError>;

    /// `user`'s membership of `tenant`, if any: what the tenant gate admits by.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn membership(
        &mut self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError>;

    /// The invitation whose link has this digest, of whichever tenant: how an invitee, who is
    /// not a member yet, finds what they were invited to.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn invitation_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<Invitation>, StoreError>;

    /// The tenants `user` is a member of, with their role, by slug; deleted ones are left out.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn tenants_of(&mut self, user: UserId) -> Result<Vec<(Tenant, Role)>, StoreError>;
}
