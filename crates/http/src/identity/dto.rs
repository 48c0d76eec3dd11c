//! Request and response bodies of the identity routes. Requests reject unknown fields, so a
//! client cannot set what the endpoint does not offer (roles, verification, ids).

use accueil_app::identity::{AccountView, TokenPair};
use accueil_domain::identity::{
    AvatarUrl, Bio, DisplayName, Email, Language, NewApiKey, ProfileChanges, Registration,
    TimeZone, User, Username,
};
use accueil_domain::validation::{Fields, ValidationErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// E-mail address; trimmed, domain lower-cased, unique ignoring case.
    #[schema(example = "zoe@example.org", format = "email")]
    pub email: String,
    /// 8 characters to 72 bytes; not a common password; not containing the username or the
    /// e-mail's local part.
    #[schema(example = "correct horse battery staple", format = "password")]
    pub password: String,
    /// Optional second login name: 3-32 letters, digits, `_`, `.`, `-`; unique ignoring case.
    #[schema(example = "zoe", format = "username")]
    pub username: Option<String>,
    /// Optional name shown to others (1-100 characters).
    #[schema(example = "Zoé", format = "display-name")]
    pub display_name: Option<String>,
    /// Language of mails and of the interface: `fr` or `en` (default).
    #[schema(example = "fr", format = "enum:fr,en")]
    pub language: Option<String>,
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

/// Notification preferences.
#[derive(Serialize, ToSchema)]
pub struct NotificationsBody {
    /// E-mails about the couple's life (a partner joined, ...). Account and security mails
    /// (address verification, password reset, notices of a changed password or address) are
    /// sent whatever it says.
    pub email: bool,
    /// Push notifications (a choice stored for the apps; the server sends none yet).
    pub push: bool,
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
    /// `fr` or `en`.
    #[schema(example = "en")]
    pub language: &'static str,
    /// IANA time zone, if set (UTC is used otherwise).
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    /// Picture URL, if any.
    pub avatar_url: Option<String>,
    /// About me, if any.
    pub bio: Option<String>,
    /// Notification preferences.
    pub notifications: NotificationsBody,
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
            language: u.language.as_str(),
            time_zone: u.time_zone.as_ref().map(|t| t.as_str().to_owned()),
            avatar_url: u.avatar_url.as_ref().map(|a| a.as_str().to_owned()),
            bio: u.bio.as_ref().map(|b| b.as_str().to_owned()),
            notifications: NotificationsBody {
                email: u.notifications.email,
                push: u.notifications.push,
            },
            created_at: u.created_at,
        }
    }
}

/// The caller's account, with how it signs in.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// The account.
    #[serde(flatten)]
    pub user: UserResponse,
    /// The sign-in providers linked to the account (its external identities), sorted, each
    /// once; empty when it signs in with a password only.
    #[schema(example = json!(["google"]))]
    pub providers: Vec<String>,
    /// Whether the account has a password. Confirming a sensitive change (address, deletion)
    /// asks for it; an account without one confirms with a recent sign-in instead. In
    /// OAuth-only mode a password cannot be used to sign in.
    pub has_password: bool,
}

impl From<&AccountView> for MeResponse {
    fn from(a: &AccountView) -> Self {
        Self {
            user: UserResponse::from(&a.user),
            providers: a.providers.clone(),
            has_password: a.has_password,
        }
    }
}

/// A token from a mailed link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTokenRequest {
    /// The `token` parameter of the link.
    pub token: String,
}

/// An address, for requests that answer the same whether or not it has an account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// E-mail address.
    #[schema(example = "zoe@example.org", format = "email")]
    pub email: String,
}

/// A new password with the token from a reset mail.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The `token` parameter of the link.
    pub token: String,
    /// The new password (same policy as registration).
    #[schema(format = "password")]
    pub password: String,
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub current_password: String,
    /// The new password (same policy as registration).
    #[schema(format = "password")]
    pub new_password: String,
}

/// An address change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailRequest {
    /// The current password.
    pub current_password: String,
    /// The new address; a confirmation link is mailed to it.
    #[schema(example = "zoe@new.example", format = "email")]
    pub new_email: String,
}

/// Account deletion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The current password. An account without one (made by a sign-in provider) leaves it
    /// out and confirms with a sign-in less than ten minutes old instead.
    pub password: Option<String>,
}

/// Notification preference changes; absent fields are kept.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsPatchBody {
    /// E-mails about the couple's life; account and security mails are always sent.
    pub email: Option<bool>,
    /// Push notifications (stored for the apps).
    pub push: Option<bool>,
}

/// A partial profile update: absent fields are kept, `null` clears. Role, verification, ids and
/// times cannot be set (unknown fields are refused).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchRequest {
    /// 1-100 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "display-name")]
    pub display_name: Option<Option<String>>,
    /// 3-32 letters, digits, `_`, `.`, `-`, unique, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "username")]
    pub username: Option<Option<String>>,
    /// An http(s) URL, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "avatar-url")]
    pub avatar_url: Option<Option<String>>,
    /// At most 500 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "bio")]
    pub bio: Option<Option<String>>,
    /// `fr` or `en`.
    #[schema(format = "enum:fr,en")]
    pub language: Option<String>,
    /// IANA time zone (`Europe/Paris`), or `null` for UTC.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "time-zone")]
    pub time_zone: Option<Option<String>>,
    /// Notification preferences.
    #[serde(default, deserialize_with = "crate::json::object")]
    pub notifications: Option<NotificationsPatchBody>,
}

/// One session in an export.
#[derive(Serialize, ToSchema)]
pub struct SessionExport {
    /// Id.
    pub id: Uuid,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// End time, if ended.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it ended.
    pub revoke_reason: Option<String>,
}

/// One security event in an export.
#[derive(Serialize, ToSchema)]
pub struct AuditExport {
    /// When.
    pub at: DateTime<Utc>,
    /// What (`user.registered`, `user.password_changed`, ...).
    pub action: &'static str,
    /// Detail.
    pub detail: String,
}

/// Everything stored about the caller.
#[derive(Serialize, ToSchema)]
pub struct AccountExportResponse {
    /// The account.
    pub user: UserResponse,
    /// Every login.
    pub sessions: Vec<SessionExport>,
    /// Security events about the account.
    pub audit: Vec<AuditExport>,
    /// The sign-in providers linked to the account.
    pub identities: Vec<super::oauth::IdentityBody>,
    /// The account's API keys (names, scopes, dates; never a secret).
    pub api_keys: Vec<super::api_keys::ApiKeyBody>,
    /// The caller's couple and its content (the same as `GET /api/v1/couple/export`), while
    /// they are in it or for 30 days after leaving it.
    pub couple: Option<crate::couples::CoupleExportBody>,
    /// The SmartQueue tenants the caller is a member of, with their role in each.
    pub tenants: Vec<crate::queues::TenantBody>,
    /// When this export was made.
    pub exported_at: DateTime<Utc>,
}

/// Optional logout body.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// Ends the session of this refresh token instead of the bearer's (for a client whose
    /// access token has expired).
    pub refresh_token: Option<String>,
}

impl crate::json::FromBody for LogoutRequest {
    type Body = LogoutRequest;

    fn from_body(b: Self::Body, _: crate::json::Now) -> Result<Self, ValidationErrors> {
        Ok(b)
    }
}

impl crate::json::FromBody for Registration {
    type Body = RegisterRequest;

    fn from_body(b: Self::Body, _: crate::json::Now) -> Result<Self, ValidationErrors> {
        Registration::parse(
            &b.email,
            &b.password,
            b.username.as_deref(),
            b.display_name.as_deref(),
            b.language.as_deref(),
        )
    }
}

impl crate::json::FromBody for ProfileChanges {
    type Body = ProfilePatchRequest;

    fn from_body(b: Self::Body, _: crate::json::Now) -> Result<Self, ValidationErrors> {
        use crate::json::patch_of;
        let (display_name, username, avatar_url, bio, language, time_zone) = (
            patch_of(b.display_name).try_map(|v| DisplayName::parse(&v)),
            patch_of(b.username).try_map(|v| Username::parse(&v)),
            patch_of(b.avatar_url).try_map(|v| AvatarUrl::parse(&v)),
            patch_of(b.bio).try_map(|v| Bio::parse(&v)),
            b.language.as_deref().map(Language::parse_field).transpose(),
            patch_of(b.time_zone).try_map(|v| TimeZone::parse(&v)),
        )
            .all()?;
        Ok(ProfileChanges {
            display_name,
            username,
            avatar_url,
            bio,
            language,
            time_zone,
            email_notifications: b.notifications.as_ref().and_then(|n| n.email),
            push_notifications: b.notifications.as_ref().and_then(|n| n.push),
        })
    }
}

impl crate::json::FromBody for Email {
    type Body = EmailRequest;

    fn from_body(b: Self::Body, _: crate::json::Now) -> Result<Self, ValidationErrors> {
        Email::parse(&b.email).map_err(|e| ValidationErrors(vec![e]))
    }
}

impl crate::json::FromBody for NewApiKey {
    type Body = super::api_keys::ApiKeyRequest;

    fn from_body(b: Self::Body, now: crate::json::Now) -> Result<Self, ValidationErrors> {
        NewApiKey::parse(&b.name, &b.scope, b.expires_at, now)
    }
}

/// An address change, with its new address checked.
pub(crate) struct EmailChange {
    /// The password typed to confirm.
    pub(crate) current_password: String,
    /// Where to switch.
    pub(crate) new_email: Email,
}

impl crate::json::FromBody for EmailChange {
    type Body = ChangeEmailRequest;

    fn from_body(b: Self::Body, _: crate::json::Now) -> Result<Self, ValidationErrors> {
        let new_email = Email::parse(&b.new_email).map_err(|mut e| {
            e.field = "new_email";
            ValidationErrors(vec![e])
        })?;
        Ok(Self {
            current_password: b.current_password,
            new_email,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::json::FromBody;

    #[test]
    fn a_profile_change_reports_every_invalid_field() {
        let body: ProfilePatchRequest = serde_json::from_value(serde_json::json!({
            "display_name": "Fine",
            "time_zone": "Mars/Olympus",
            "avatar_url": "javascript:alert(1)",
        }))
        .unwrap();
        let v = ProfileChanges::from_body(body, chrono::Utc::now()).unwrap_err();
        let codes: Vec<_> = v.0.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(
            codes,
            vec![
                ("avatar_url", "invalid_url"),
                ("time_zone", "unknown_time_zone")
            ]
        );
    }
}
