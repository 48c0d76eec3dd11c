//! Memories of a couple and their timeline. Every method takes the couple the memory must
//! belong to, so another couple's memory is simply not found; the one exception,
//! [`MemoriesRepo::memory_for_link`], serves links whose signature already named the memory.

use accueil_domain::couples::CoupleId;
use accueil_domain::memories::{Memory, MemoryId, SearchTerm, ShareId, TimelineCursor};

use crate::StoreError;

/// Memories, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait MemoriesRepo: Send {
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

    /// One of the couple's memories. (Writers of a couple's content hold the couple's lock,
    /// [`crate::couples::PairingRepo::active_couple_of_for_update`], so reading it unlocked
    /// loses nothing.)
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

    /// The couple's photo link generation: 0 until the couple first revokes its links.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn photo_link_generation(&mut self, couple: CoupleId) -> Result<u64, StoreError>;

    /// Bumps the couple's photo link generation (every link signed with an older one stops
    /// working) and returns the new one.
    ///
    /// # Errors
    /// `StoreError::Internal` when the couple does not exist or on failure.
    fn rotate_photo_links(&mut self, couple: CoupleId) -> Result<u64, StoreError>;

    /// A memory by its id alone, with its couple's photo link generation and whether that
    /// couple is dissolved. Only for a link whose signature was checked: the signature, made
    /// for the couple's own member, is what scopes this read.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn memory_for_link(&mut self, id: MemoryId) -> Result<Option<LinkedMemory>, StoreError>;
}

/// A memory found by a signed link, with what the link is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedMemory {
    /// The memory.
    pub memory: Memory,
    /// Its couple's current photo link generation.
    pub generation: u64,
    /// Whether its couple is dissolved (its content is then only in the export).
    pub dissolved: bool,
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
