//! Request and response bodies of the identity routes. Requests reject unknown fields, so a
//! client cannot set what the endpoint does not offer (roles, verification, ids).

use accueil_app::identity::TokenPair;
use accueil_domain::identity::User;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// E-mail address; trimmed, domain lower-cased, unique ignoring case.
    #[schema(example = "zoe@example.org")]
    pub email: String,
    /// 8 characters to 72 bytes; not a common password; not containing the username or the
    /// e-mail's local part.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    /// Optional second login name: 3-32 letters, digits, `_`, `.`, `-`; unique ignoring case.
    #[schema(example = "zoe")]
    pub username: Option<String>,
    /// Optional name shown to others (1-100 characters).
    #[schema(example = "Zoé")]
    pub display_name: Option<String>,
}

/// Login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// E-mail address or username (`email` and `username` are accepted as aliases, as the
    /// apps Accueil replaces sent them).
    #[serde(alias = "email", alias = "username")]
    #[schema(example = "zoe@example.org")]
    pub login: String,
    /// Password.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

/// Refresh.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh. It can be used once.
    pub refresh_token: String,
}

/// A new token pair.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque, single use: exchange it at `/api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

impl From<TokenPair> for TokenResponse {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: "Bearer",
            expires_in: p.expires_in,
        }
    }
}

/// An account, as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    /// Id.
    pub id: Uuid,
    /// E-mail address.
    #[schema(example = "zoe@example.org")]
    pub email: String,
    /// Username, if any.
    pub username: Option<String>,
    /// Display name, if any.
    pub display_name: Option<String>,
    /// `user`, and `admin` for administrators.
    #[schema(example = json!(["user"]))]
    pub roles: Vec<&'static str>,
    /// Whether the address was verified.
    pub email_verified: bool,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserResponse {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.as_str().to_owned(),
            username: u.username.as_ref().map(|n| n.as_str().to_owned()),
            display_name: u.display_name.as_ref().map(|n| n.as_str().to_owned()),
            roles: u.roles().iter().map(|r| r.as_str()).collect(),
            email_verified: u.email_verified,
            created_at: u.created_at,
        }
    }
}
