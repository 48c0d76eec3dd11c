//! A tenant's tickets and their events, through the view bound to it.
//!
//! Numbering and the choice of the next ticket are the two places where concurrent units of
//! work meet: a ticket is numbered with its service's row locked (takers of one service run
//! one at a time, whatever the backend), and the next ticket is claimed with the rows other
//! agents are claiming skipped (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer).

use accueil_domain::identity::UserId;
use accueil_domain::queues::Queue;
use accueil_domain::queues::tickets::{Ticket, TicketEvent};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Why a ticket could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TicketWriteError {
    /// The agent already has a ticket called or in service.
    #[error("the agent already has a ticket called or in service")]
    AgentBusy,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many tickets a service numbered on a day, and the last number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayCount {
    /// Tickets numbered.
    pub issued: u32,
    /// The last number given, if any.
    pub last: Option<u32>,
}

/// The bound tenant's tickets.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TicketsRepo: Send {
    /// Locks `service` until commit (in a write unit) and says what it numbered on `day`:
    /// the first step of taking a ticket, so two takers never get one number.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure (the service must exist).
    fn lock_numbering(&mut self, service: Uuid, day: NaiveDate) -> Result<DayCount, StoreError>;

    /// Stores a new ticket with its first event, and counts it in its service's day.
    ///
    /// # Errors
    /// `StoreError::Conflict` when its number is taken (numbering was not locked).
    fn insert_ticket(&mut self, ticket: &Ticket, event: &TicketEvent) -> Result<(), StoreError>;

    /// One ticket.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn ticket(&mut self, id: Uuid) -> Result<Option<Ticket>, StoreError>;

    /// One ticket, locked until commit (in a write unit).
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn ticket_for_update(&mut self, id: Uuid) -> Result<Option<Ticket>, StoreError>;

    /// The queue's `WAITING` tickets, earliest in line first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn waiting(&mut self, queue: Uuid) -> Result<Vec<Ticket>, StoreError>;

    /// The first `limit` waiting tickets of `queue` in the order they will be called at `now`
    /// (the order of [`TicketsRepo::claim_next`]).
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn line(
        &mut self,
        queue: &Queue,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Ticket>, StoreError>;

    /// How many waiting tickets of `ticket`'s queue will be called before it at `now`.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn ahead(
        &mut self,
        queue: &Queue,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError>;

    /// How many tickets wait in the queue.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn count_waiting(&mut self, queue: Uuid) -> Result<u32, StoreError>;

    /// The waiting ticket of `queue` to call next at `now`, by the queue's algorithm and
    /// aging (`accueil_domain::queues::tickets::next_to_call`'s rule), locked until commit and
    /// skipping those other units hold; `None` when none is free.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn claim_next(
        &mut self,
        queue: &Queue,
        now: DateTime<Utc>,
    ) -> Result<Option<Ticket>, StoreError>;

    /// Writes a ticket's state, times, agent and counter, with the event of the change.
    ///
    /// # Errors
    /// [`TicketWriteError::AgentBusy`] when its agent would have two tickets called or in
    /// service.
    fn update_ticket(
        &mut self,
        ticket: &Ticket,
        event: &TicketEvent,
    ) -> Result<(), TicketWriteError>;

    /// The ticket `agent` has called or in service, if any.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn active_ticket(&mut self, agent: UserId) -> Result<Option<Ticket>, StoreError>;

    /// How long (start to close) the last `n` tickets of `service` served took, most recent
    /// first: what the ETA measures the service by.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn recent_service_times(
        &mut self,
        service: Uuid,
        n: u32,
    ) -> Result<Vec<chrono::Duration>, StoreError>;

    /// A ticket's events, oldest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn events(&mut self, ticket: Uuid) -> Result<Vec<TicketEvent>, StoreError>;
}
