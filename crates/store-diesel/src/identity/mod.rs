//! The identity repositories in SQL, one file per aggregate as in the ports.

mod api_keys;
mod email_tokens;
mod oauth;
mod sessions;
mod tickets;
mod users;
