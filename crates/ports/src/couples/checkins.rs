//! Daily check-ins of a couple's partners.

use accueil_domain::couples::{CheckIn, CoupleId};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::StoreError;

/// Check-ins, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait CheckinsRepo: Send {
    /// Stores a check-in, or replaces the fields of the same user's check-in for the same day
    /// (keeping its id and creation time). Returns what is stored.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn upsert_checkin(&mut self, checkin: &CheckIn) -> Result<CheckIn, StoreError>;

    /// Replaces a check-in's scores, note and update time (its user, day and creation time
    /// stay).
    ///
    /// # Errors
    /// `StoreError::Internal` when it does not exist in its couple or cannot be written.
    fn update_checkin(&mut self, checkin: &CheckIn) -> Result<(), StoreError>;

    /// A check-in of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<CheckIn>, StoreError>;

    /// Deletes a check-in of the couple; returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError>;

    /// The couple's check-ins with `from <= day <= to`, newest day first (then newest id),
    /// strictly after the `(day, id)` position `before` in that order, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn checkins(
        &mut self,
        couple: CoupleId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        before: Option<(NaiveDate, Uuid)>,
        limit: u32,
    ) -> Result<Vec<CheckIn>, StoreError>;
}
