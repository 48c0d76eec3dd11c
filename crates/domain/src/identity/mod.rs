//! Identity: users, their credentials and their sessions.

mod email;
mod password;
mod session;
mod user;
mod username;

pub use email::Email;
pub use password::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, Password, PasswordContext, PasswordHash,
};
pub use session::{RefreshToken, RefreshVerdict, Session, SessionId, TokenDigest};
pub use user::{DisplayName, NewUser, Role, User, UserId};
pub use username::Username;
