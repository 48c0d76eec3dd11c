//! End to end: the identity module — accounts and sessions, mailed links, sign-in providers,
//! API keys, the personal export, and the rate limits that guard them.

mod api_keys;
mod auth;
mod export;
mod mail;
mod oauth;
mod oauth_userinfo;
mod rate_limits;
mod reauthentication;
