//! Accueil's ports: the traits the application layer needs from the outside world.
//!
//! Storage is reached through [`store::Store`], which runs a closure inside one transaction and
//! hands it a [`store::Tx`] giving every module's repository; everything that closure writes
//! commits together or not at all. The other ports are small: a clock, id and token
//! generation, a password hasher and an access-token signer.
//!
//! Every method documents in `# Errors` what an adapter must return in each failure case, so
//! that adapters are interchangeable; the contract suites (feature `contract`) check it.

pub mod admin;
pub mod couples;
pub mod events;
pub mod identity;
pub mod jobs;
pub mod media;
pub mod memories;
pub mod notify;
pub mod queues;
pub mod scope;
pub mod store;
pub mod system;

#[cfg(feature = "contract")]
pub mod contract;

pub use store::{Access, Committed, Store, StoreError, StoreExt, Tx};
