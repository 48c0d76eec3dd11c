//! Notification ports: the outbox (in the unit of work) and the mailer that delivers.

use accueil_domain::notify::{DeliveryState, OutboundMail, OutboxEntry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// The transactional outbox.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OutboxRepo: Send {
    /// Adds an entry; it commits with the rest of the unit of work.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn enqueue(&mut self, entry: &OutboxEntry) -> Result<(), StoreError>;

    /// Pending entries due at `now` and not leased (or whose lease ran out), oldest due first,
    /// at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn due(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Takes a due entry for one attempt: counts the attempt and sets a lease, only if it is
    /// still pending, due and unleased at `now` (compare-and-set, so two workers never take the
    /// same entry). Returns whether this call took it.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn claim(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records a delivery: state `sent`, lease cleared, and the mail's values emptied (they may
    /// hold one-time links that must not outlive the delivery).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn mark_sent(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a transient failure: stays `pending`, due again at `next_attempt_at`, lease
    /// cleared, error kept.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn mark_retry(
        &mut self,
        id: Uuid,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError>;

    /// Records a permanent failure: state `failed`, lease cleared, error kept.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn mark_failed(&mut self, id: Uuid, error: &str) -> Result<(), StoreError>;

    /// Puts a failed entry back in line, due at `now`, with its attempts reset. Returns whether
    /// the entry existed and was failed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn requeue(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Entries in `state` (all when `None`), newest first, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn list(
        &mut self,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// One entry.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn get(&mut self, id: Uuid) -> Result<Option<OutboxEntry>, StoreError>;

    /// How many entries are in each state, in one grouped count (for the metrics scrape); a
    /// state with no entry is absent.
    ///
    /// # Errors
    /// `StoreError::Internal` when a state cannot be read back.
    fn count_by_state(&mut self) -> Result<Vec<(DeliveryState, u64)>, StoreError>;
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later: connection refused or dropped, timeout, a 4xx reply.
    #[error("transient: {0}")]
    Transient(String),
    /// Will never succeed as is: a 5xx reply (unknown mailbox, refused sender), a bad address.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Renders and delivers mails.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Renders `mail` and hands it to the mail server with a Message-ID made from
    /// `message_id`, which is the same for every attempt of one outbox entry.
    ///
    /// # Errors
    /// `SendError::Transient` when a later attempt may succeed; `SendError::Permanent` when it
    /// cannot.
    async fn send(&self, message_id: Uuid, mail: &OutboundMail) -> Result<(), SendError>;

    /// What this mailer does, for the start-up log (no credentials).
    fn describe(&self) -> String;
}
