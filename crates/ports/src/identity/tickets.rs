//! One-time tickets of realtime connections.

use accueil_domain::identity::{TokenDigest, WsTicket};
use chrono::{DateTime, Utc};

use crate::StoreError;

/// Realtime tickets, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait WsTicketsRepo: Send {
    /// Stores a ticket.
    ///
    /// # Errors
    /// `StoreError::Conflict` when its digest exists; `StoreError::Internal` when its user or
    /// session does not.
    fn insert_ws_ticket(&mut self, ticket: &WsTicket) -> Result<(), StoreError>;

    /// Takes (returns and deletes) the ticket with this digest, expired or not, so that it is
    /// redeemed once: of concurrent takers in different transactions (on any instance), one
    /// gets it and the others `None`.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure, or in a read-only unit of work.
    fn take_ws_ticket(&mut self, digest: &TokenDigest) -> Result<Option<WsTicket>, StoreError>;

    /// Deletes the tickets that expired before `cutoff`; returns how many.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_ws_tickets_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
