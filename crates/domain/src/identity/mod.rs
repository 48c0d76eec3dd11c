//! Identity: users, their credentials and their sessions.

mod api_key;
mod email;
mod email_token;
mod external;
mod password;
mod profile;
mod session;
mod user;
mod username;

pub use api_key::{
    API_KEY_PREFIX, ApiKey, ApiKeyId, ApiKeyName, ApiKeyScope, ApiKeyState, MAX_API_KEYS,
};
pub use email::Email;
pub use email_token::{EmailToken, TokenProblem, TokenPurpose};
pub use external::{
    ExternalIdentity, FLOW_TTL, FlowResponse, IdentityId, OAuthFlow, PENDING_LINK_TTL, PendingLink,
    ProviderName, Unmatched, unmatched,
};
pub use password::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, Password, PasswordContext, PasswordHash,
};
pub use profile::{AvatarUrl, Bio, Language, NotificationPrefs, TimeZone};
pub use session::{RefreshToken, RefreshVerdict, Session, SessionId, TokenDigest};
pub use user::{DisplayName, NewUser, Role, User, UserId};
pub use username::Username;
