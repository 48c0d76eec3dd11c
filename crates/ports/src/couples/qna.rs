//! Questions and answers of a couple.

use accueil_domain::couples::{Answer, CoupleId, Question};
use uuid::Uuid;

use crate::StoreError;

/// Questions and answers, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait QnaRepo: Send {
    /// Stores a question.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_question(&mut self, question: &Question) -> Result<(), StoreError>;

    /// Replaces a question's text, theme and update time (matched by couple and id).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_question(&mut self, question: &Question) -> Result<(), StoreError>;

    /// Deletes a question of the couple and its answers; returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_question(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError>;

    /// A question of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn question(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Question>, StoreError>;

    /// The couple's questions, newest first, with ids before `before` (a page cursor), at
    /// most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn questions(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Question>, StoreError>;

    /// Stores an answer, or replaces the author's existing answer to the same question
    /// (keeping its id and creation time).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn upsert_answer(&mut self, answer: &Answer) -> Result<Answer, StoreError>;

    /// Every answer to a question of the couple, oldest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn answers(&mut self, couple: CoupleId, question: Uuid) -> Result<Vec<Answer>, StoreError>;
}
