//! Each partner's perspective: at most one per side of a couple.

use accueil_domain::couples::{CoupleId, Side};
use accueil_domain::memories::Perspective;

use crate::StoreError;

/// Perspectives, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait PerspectivesRepo: Send {
    /// The couple's perspectives (at most one per side), side A first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn perspectives(&mut self, couple: CoupleId) -> Result<Vec<Perspective>, StoreError>;

    /// Stores a side's perspective, replacing its content, author and update time when the
    /// side has one (its creation time stays). Returns what is stored.
    ///
    /// # Errors
    /// `StoreError::Internal` when the couple does not exist or on failure.
    fn put_perspective(&mut self, perspective: &Perspective) -> Result<Perspective, StoreError>;

    /// One side's perspective.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn perspective(
        &mut self,
        couple: CoupleId,
        side: Side,
    ) -> Result<Option<Perspective>, StoreError>;
}
