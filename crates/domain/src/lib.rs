//! Accueil's domain: entities, validated value types and the rules that govern them.
//!
//! Nothing here performs I/O or knows about HTTP, SQL or time sources: rules that depend on
//! "now" take the instant as an argument, so they are tested without clocks or sleeps. A value
//! of a type defined here is valid by construction (`Email::parse`, `Username::parse`, ...).

pub mod admin;
pub mod couples;
pub mod events;
pub mod identity;
pub mod jobs;
pub mod limits;
pub mod memories;
pub mod notify;
pub mod queues;
pub mod validation;
