//! Event buses, the adapters of [`accueil_ports::events::EventBus`].
//!
//! [`LocalBus`] fans events out to the subscribers of one process: enough for one instance
//! (SQLite, or PostgreSQL without others). [`PgBus`] joins every instance on one PostgreSQL
//! database with `LISTEN`/`NOTIFY`; its notifications carry ids and sequence numbers in the
//! format of [`payload`]. Every bus delivers through a `LocalBus`, so subscribers see the same
//! semantics whichever bus carries the events.

mod local;
pub mod payload;
mod postgres;

pub use local::{DEFAULT_CAPACITY, LocalBus, LocalSubscription};
pub use postgres::{
    DEFAULT_CHANNEL, LISTENER_APPLICATION_NAME, PUBLISHER_APPLICATION_NAME, PgBus, PgBusError,
    PgBusOptions,
};
