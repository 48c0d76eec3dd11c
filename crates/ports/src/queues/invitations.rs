//! A tenant's invitations, through the view bound to it.

use accueil_domain::identity::UserId;
use accueil_domain::queues::Invitation;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// The bound tenant's invitations.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait InvitationsRepo: Send {
    /// Stores `invitation` (of the bound tenant), revoking at its `created_at` every pending
    /// invitation of the tenant to the same address (case-insensitively): the newest link is
    /// the one that works.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn invite(&mut self, invitation: &Invitation) -> Result<(), StoreError>;

    /// The invitations still pending at `now` (not accepted, revoked or expired), newest
    /// first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn pending_invitations(&mut self, now: DateTime<Utc>) -> Result<Vec<Invitation>, StoreError>;

    /// Revokes a pending invitation at `at`; returns whether one was pending.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_invitation(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Marks an invitation accepted by `user` at `at`, unless it was accepted or revoked
    /// already; returns whether this call accepted it (of two concurrent acceptances, one).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn accept_invitation(
        &mut self,
        id: Uuid,
        user: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
