//! Pairing: couples (with their profile) and invite codes, and the purge of dissolved couples.

use accueil_domain::couples::{Couple, CoupleId, Invite};
use accueil_domain::identity::UserId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Couples and invites, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait PairingRepo: Send {
    /// Stores a new couple (its change sequence starts at 0).
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_couple(&mut self, couple: &Couple) -> Result<(), StoreError>;

    /// Replaces a couple's partners and times.
    ///
    /// # Errors
    /// `StoreError::Internal` when it does not exist or cannot be written.
    fn update_couple(&mut self, couple: &Couple) -> Result<(), StoreError>;

    /// The active (not dissolved) couple `user` belongs to.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn active_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError>;

    /// The active couple `user` belongs to, locked until commit in a write unit (read as it is
    /// in a read unit): every unit that writes a couple's content takes this lock first, so
    /// one couple's writers run one after the other and no read-modify-write of its content
    /// (an edit, a get-or-create, an upsert) can lose or collide with a concurrent one.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn active_couple_of_for_update(&mut self, user: UserId) -> Result<Option<Couple>, StoreError>;

    /// The most recent couple `user` belonged to, active or dissolved.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn latest_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError>;

    /// A couple by id.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn couple(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError>;

    /// A couple by id, locked until commit in a write unit (as
    /// [`PairingRepo::active_couple_of_for_update`]).
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn couple_for_update(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError>;

    /// Deletes the couples dissolved before `cutoff`, with their invites, changes and content.
    /// Returns their ids, so that their files can be deleted too.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_dissolved_before(
        &mut self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<CoupleId>, StoreError>;

    /// Stores an invite.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_invite(&mut self, invite: &Invite) -> Result<(), StoreError>;

    /// Revokes every unused, unrevoked invite of a couple; returns their ids.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_invites(
        &mut self,
        couple: CoupleId,
        at: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError>;

    /// The newest invite with this code (used, expired and revoked ones included, so the
    /// caller can say why it cannot be used).
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn invite_by_code(&mut self, code: &str) -> Result<Option<Invite>, StoreError>;

    /// Whether an unused, unrevoked invite with this code is valid at `now` (codes are unique
    /// among live invites).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn live_code_exists(&mut self, code: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Marks an invite used, only if it is unused and unrevoked (compare-and-set).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn use_invite(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError>;
}
