//! The couple's change feed: a gapless sequence per couple, advanced in the writer's transaction.

use accueil_domain::couples::{Change, ChangeOp, CoupleId, EntityKind};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// The change feed, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait FeedRepo: Send {
    /// Appends a change to the couple's feed with the next number of its sequence, which is
    /// advanced in this transaction (writers of one couple are serialized by it, so numbers
    /// become visible in order). Returns the number.
    ///
    /// # Errors
    /// `StoreError::Internal` when the couple does not exist or on failure.
    fn record_change(
        &mut self,
        couple: CoupleId,
        kind: EntityKind,
        entity: Uuid,
        op: ChangeOp,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    /// The couple's changes numbered after `after`, in order, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn changes_after(
        &mut self,
        couple: CoupleId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError>;

    /// The couple's changes made after `since`, in order, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn changes_since(
        &mut self,
        couple: CoupleId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError>;
}
