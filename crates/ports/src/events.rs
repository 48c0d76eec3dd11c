//! The event bus: how committed domain events reach whoever listens (realtime connections on
//! this instance and, with a shared bus, on every instance).
//!
//! A unit of work emits events with [`crate::Tx::emit`]; the store returns them only when the
//! transaction committed, and the application publishes them then (`accueil_app::events`), so
//! a rolled-back write is never heard of. Publishing never blocks nor fails the request that
//! caused it: a bus that cannot deliver drops, counts and tells its subscribers to
//! resynchronise, which they can always do because events only point at committed state.

use accueil_domain::events::Event;
use async_trait::async_trait;

/// What a subscriber receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// An event, in the order the bus received it.
    Event(Event),
    /// Events may have been missed (this subscriber fell behind, or the bus lost its
    /// connection to the other instances): re-read whatever is shown.
    Resync,
}

/// One subscriber's stream of deliveries, with its own bounded buffer: a subscriber that does
/// not keep up loses its oldest buffered events, then receives [`Delivery::Resync`].
#[async_trait]
pub trait Subscription: Send {
    /// Waits for the next delivery; `None` once the bus has shut down.
    async fn next(&mut self) -> Option<Delivery>;
}

/// Counters of a bus, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusStats {
    /// Events handed to the bus by committed units of work (on this instance).
    pub published: u64,
    /// Events delivered into subscribers' buffers (from any instance).
    pub received: u64,
    /// Events a publisher could not pass on (shared bus unreachable), so never delivered.
    pub dropped: u64,
    /// Resynchronisations told to subscribers (lagging ones and reconnections).
    pub resyncs: u64,
    /// Subscriptions open now.
    pub subscribers: u64,
}

/// Publishes committed events and fans them out to subscribers.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait EventBus: Send + Sync {
    /// Hands over the events of one committed unit of work. Returns at once: delivery happens
    /// on the bus's own tasks or threads.
    fn publish(&self, events: Vec<Event>);

    /// A new subscription to every event (subscribers filter what concerns them).
    fn subscribe(&self) -> Box<dyn Subscription>;

    /// Whether the bus delivers events from every instance now, for readiness probes.
    ///
    /// # Errors
    /// A message saying what is wrong (for example, the PostgreSQL listener is reconnecting).
    fn health(&self) -> Result<(), String>;

    /// The bus's counters so far.
    fn stats(&self) -> BusStats;
}
