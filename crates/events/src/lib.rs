//! Event buses, the adapters of [`accueil_ports::events::EventBus`].
//!
//! [`LocalBus`] fans events out to the subscribers of one process: enough for one instance
//! (SQLite, or PostgreSQL without others). Every bus delivers through a `LocalBus`, so
//! subscribers see the same semantics whichever bus carries the events.

mod local;

pub use local::LocalBus;
