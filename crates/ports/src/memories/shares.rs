//! Share links of a couple's site.

use accueil_domain::couples::CoupleId;
use accueil_domain::memories::{Share, ShareId};
use chrono::{DateTime, Utc};

use crate::StoreError;

/// Share links, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SharesRepo: Send {
    /// Stores a new share (with its memory list).
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id or token digest exists; `StoreError::Internal` when
    /// the couple or a listed memory does not exist, or on failure.
    fn insert_share(&mut self, share: &Share) -> Result<(), StoreError>;

    /// The couple's shares, oldest first. A listed share's scope holds only the memories
    /// that still exist.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn shares(&mut self, couple: CoupleId) -> Result<Vec<Share>, StoreError>;

    /// The share whose token has this digest, of any couple and in any state.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn share_by_digest(&mut self, digest: &str) -> Result<Option<Share>, StoreError>;

    /// Marks one of the couple's shares revoked at `at`, unless it already is (the first
    /// revocation time stays). Returns the share as stored, `None` when there is no such share.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_share(
        &mut self,
        couple: CoupleId,
        id: ShareId,
        at: DateTime<Utc>,
    ) -> Result<Option<Share>, StoreError>;
}
