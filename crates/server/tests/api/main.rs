//! Accueil end to end: real servers on 127.0.0.1:0, each with a fresh database, driven over
//! HTTP like a client would; and the `accueil` binary itself.
//!
//! One test binary, so the suite costs one link, with a module per application module
//! (identity, couples, memories), one for what every route shares (`platform`), one for the
//! WebSocket notifications (`realtime`), and one for the command line. Flows that touch storage run on SQLite and on PostgreSQL
//! (`on_both_backends!`; `REQUIRE_POSTGRES=1` makes a missing PostgreSQL fail the run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

mod cli;
mod couples;
mod identity;
mod memories;
mod platform;
mod queues;
mod realtime;
