//! Monthly letters of a couple.

use accueil_domain::couples::{CoupleId, Letter, Month};
use uuid::Uuid;

use crate::StoreError;

/// Letters, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait LettersRepo: Send {
    /// The couple's letter of a month.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn letter_of_month(
        &mut self,
        couple: CoupleId,
        month: Month,
    ) -> Result<Option<Letter>, StoreError>;

    /// Stores a letter.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the couple has a letter for that month; `StoreError::Internal`
    /// otherwise.
    fn insert_letter(&mut self, letter: &Letter) -> Result<(), StoreError>;

    /// Replaces a letter's content, last author, time lock (delivery day and who set it, or
    /// none) and update time; its month and creation time stay.
    ///
    /// # Errors
    /// `StoreError::Internal` when it does not exist in its couple or cannot be written.
    fn update_letter(&mut self, letter: &Letter) -> Result<(), StoreError>;

    /// Deletes a letter of the couple; returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_letter(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError>;

    /// A letter of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn letter(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Letter>, StoreError>;

    /// The couple's letters, newest month first, with months before `before`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn letters(
        &mut self,
        couple: CoupleId,
        before: Option<Month>,
        limit: u32,
    ) -> Result<Vec<Letter>, StoreError>;
}
