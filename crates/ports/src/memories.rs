//! Memories ports: memories, the partners' perspectives and share links. Every method that
//! reads or changes a memory or a share takes the couple it must belong to, so another
//! couple's object is simply not found.

use accueil_domain::couples::{CoupleId, Side};
use accueil_domain::memories::{
    Memory, MemoryId, Perspective, SearchTerm, Share, ShareId, TimelineCursor,
};
use chrono::{DateTime, Utc};

use crate::StoreError;

/// The couple memories site's content, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait MemoriesRepo: Send {
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

    /// Stores a new memory.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` when the couple does
    /// not exist or on failure.
    fn insert_memory(&mut self, memory: &Memory) -> Result<(), StoreError>;

    /// Replaces a memory's title, description, day, photo and update time (matched by id and
    /// couple). Returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_memory(&mut self, memory: &Memory) -> Result<bool, StoreError>;

    /// One of the couple's memories. In a write unit it stays locked until commit, so
    /// read-modify-write use cases cannot lose a concurrent change.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn memory(&mut self, couple: CoupleId, id: MemoryId) -> Result<Option<Memory>, StoreError>;

    /// Deletes one of the couple's memories (and its place in shares). Returns whether it
    /// existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_memory(&mut self, couple: CoupleId, id: MemoryId) -> Result<bool, StoreError>;

    /// The couple's timeline: latest `timeline_day` first, and within a day the latest id
    /// first; only memories after `query.after`, matching `query.search` (a substring of the
    /// memory's search text) and, with `query.share`, listed by that share. At most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn timeline(
        &mut self,
        couple: CoupleId,
        query: &TimelineQuery,
        limit: u32,
    ) -> Result<Vec<Memory>, StoreError>;

    /// Which of these ids are the couple's memories.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn existing_memories(
        &mut self,
        couple: CoupleId,
        ids: &[MemoryId],
    ) -> Result<Vec<MemoryId>, StoreError>;

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

/// Which part of a timeline to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineQuery {
    /// Start after this memory.
    pub after: Option<TimelineCursor>,
    /// Only memories whose search text contains this.
    pub search: Option<SearchTerm>,
    /// Only memories this share lists (for shares that do not show them all).
    pub share: Option<ShareId>,
}
