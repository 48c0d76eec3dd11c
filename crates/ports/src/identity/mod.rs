//! Identity ports, one repository per aggregate: users, sessions (with their refresh tokens),
//! e-mailed tokens, realtime tickets, API keys, and external identities with their sign-in flows; [`oauth`] also
//! holds the provider port.

mod api_keys;
mod email_tokens;
pub mod oauth;
mod sessions;
mod tickets;
mod users;

pub use api_keys::*;
pub use email_tokens::*;
pub use oauth::OAuthRepo;
pub use sessions::*;
pub use tickets::*;
pub use users::*;
