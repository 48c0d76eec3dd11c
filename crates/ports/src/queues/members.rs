//! One tenant and its members, through the view bound to it: no method takes a tenant, and
//! none reaches another tenant's rows.

use accueil_domain::identity::UserId;
use accueil_domain::queues::{Member, Membership, Role, Tenant};
use chrono::{DateTime, Utc};

use crate::StoreError;

/// The bound tenant's settings and members.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait MembersRepo: Send {
    /// The bound tenant; in a write unit, locked until commit, so changes to its members run
    /// one at a time (the "at least one ADMIN" rule counts them).
    ///
    /// # Errors
    /// `StoreError::Internal` when the row is missing or cannot be read back.
    fn this_tenant(&mut self) -> Result<Tenant, StoreError>;

    /// Writes the bound tenant's settings (name, zone, locale, `updated_at`); its id and slug
    /// are the bound ones whatever `tenant` says.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_tenant(&mut self, tenant: &Tenant) -> Result<(), StoreError>;

    /// Marks the bound tenant deleted at `at` (it is purged after the grace period).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_tenant(&mut self, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// The members, by address.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn members(&mut self) -> Result<Vec<Member>, StoreError>;

    /// One member's membership.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn member(&mut self, user: UserId) -> Result<Option<Membership>, StoreError>;

    /// Adds `user` with `role` at `at`; returns whether they were added (`false`: already a
    /// member, unchanged).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn add_member(
        &mut self,
        user: UserId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Sets a member's role at `at`; returns whether they are a member.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn set_role(&mut self, user: UserId, role: Role, at: DateTime<Utc>)
    -> Result<bool, StoreError>;

    /// Removes a member; returns whether they were one.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn remove_member(&mut self, user: UserId) -> Result<bool, StoreError>;

    /// How many ADMINs the tenant has.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn count_admins(&mut self) -> Result<u64, StoreError>;
}
