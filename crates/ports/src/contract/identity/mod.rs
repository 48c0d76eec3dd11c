//! The identity ports' contracts, one file per repository.

pub mod api_keys;
pub mod email_tokens;
pub mod oauth;
pub mod sessions;
pub mod tickets;
pub mod users;
