//! Identity: users, their credentials and their sessions.

mod api_keys;
mod email;
mod email_tokens;
mod oauth;
mod password;
mod profile;
mod sessions;
mod tickets;
mod username;
mod users;

pub use api_keys::{
    API_KEY_PREFIX, ApiKey, ApiKeyId, ApiKeyName, ApiKeyScope, ApiKeyState, MAX_API_KEYS, NewApiKey,
};
pub use email::Email;
pub use email_tokens::{EmailToken, TokenProblem, TokenPurpose};
pub use oauth::{
    ExternalIdentity, FLOW_TTL, FlowResponse, IdentityId, OAuthFlow, PENDING_LINK_TTL, PendingLink,
    ProviderName, Unmatched, unmatched,
};
pub use password::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, Password, PasswordContext, PasswordHash,
};
pub use profile::{AvatarUrl, Bio, Language, NotificationPrefs, TimeZone};
pub use sessions::{
    REAUTHENTICATION_WINDOW, RefreshToken, RefreshVerdict, Session, SessionId, TokenDigest,
    signed_in_recently,
};
pub use tickets::{TicketProblem, WS_TICKET_TTL, WsTicket};
pub use username::Username;
pub use users::{DisplayName, NewUser, ProfileChanges, Registration, Role, User, UserId};
