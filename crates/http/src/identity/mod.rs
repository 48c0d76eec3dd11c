//! Identity routes: `/api/v1/auth/*` and `/api/v1/users/me`.

mod api_keys;
mod dto;
mod email_tokens;
mod oauth;
mod sessions;
mod users;

pub(crate) use oauth::OAuthWeb;

use accueil_app::StoreError;
use accueil_app::identity::{
    AuthError, ChangeEmailError, ChangePasswordError, CreateApiKeyError, DeleteAccountError,
    ExportError, ForgotPasswordError, LoginError, PasswordAuthDisabled, RateLimited, RefreshError,
    RegisterError, ResendError, ResetPasswordError, RevokeApiKeyError, SessionError,
    SessionRequired, UpdateProfileError, VerifyEmailError,
};
use accueil_domain::identity::TokenProblem;
use accueil_domain::validation::ValidationErrors;
use actix_web::ResponseError;
use utoipa_actix_web::service_config::ServiceConfig;

pub use dto::{LoginRequest, RefreshRequest, RegisterRequest, TokenResponse, UserResponse};

use crate::error::ApiError;
use crate::problems::{INTERNAL, NOT_FOUND, Problems, Spec};

/// Registers the identity routes (inside `/api/v1`). Without password sign-in (OAuth-only
/// mode), the password routes are left out here, so the OpenAPI document does not show them;
/// [`password_routes_disabled`] answers them instead.
pub fn configure(cfg: &mut ServiceConfig, password_auth: bool) {
    cfg.configure(|c| users::configure(c, password_auth))
        .configure(|c| sessions::configure(c, password_auth))
        .configure(|c| email_tokens::configure(c, password_auth))
        .configure(api_keys::configure)
        .configure(oauth::configure);
}

/// The password routes in OAuth-only mode: each answers 403 `password_auth_disabled`.
pub(crate) const PASSWORD_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/forgot-password"),
    ("POST", "/api/v1/auth/reset-password"),
    ("POST", "/api/v1/users/me/password"),
];

/// Registers [`PASSWORD_ROUTES`] (outside the documented routes).
pub(crate) fn password_routes_disabled(cfg: &mut actix_web::web::ServiceConfig) {
    for (_, path) in PASSWORD_ROUTES {
        cfg.route(
            path,
            actix_web::web::post()
                .to(|| async { ApiError::from(PasswordAuthDisabled).error_response() }),
        );
    }
}

/// The routes that manage credentials and so refuse API keys (`session_required`): the
/// OpenAPI document offers only the bearer scheme on them.
pub(crate) const SESSION_ONLY: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/logout-all"),
    ("post", "/api/v1/users/me/password"),
    ("post", "/api/v1/users/me/email"),
    ("delete", "/api/v1/users/me"),
    ("get", "/api/v1/users/me/api-keys"),
    ("post", "/api/v1/users/me/api-keys"),
    ("delete", "/api/v1/users/me/api-keys/{id}"),
    ("post", "/api/v1/users/me/identities/{identity}"),
    ("delete", "/api/v1/users/me/identities/{identity}"),
    ("post", "/api/v1/ws/ticket"),
];

const PASSWORD_AUTH_DISABLED: Spec = Spec::new(
    403,
    "password_auth_disabled",
    "this server signs in with providers only (`/api/v1/auth/{provider}/start`); the password routes are off",
);

impl From<PasswordAuthDisabled> for ApiError {
    fn from(_: PasswordAuthDisabled) -> Self {
        PASSWORD_AUTH_DISABLED
            .answer("this server signs in with providers only (/api/v1/auth/{provider}/start)")
    }
}

impl Problems for PasswordAuthDisabled {
    fn specs() -> Vec<Spec> {
        vec![PASSWORD_AUTH_DISABLED]
    }
}

/// 429 with `Retry-After`.
const RATE_LIMITED: Spec = Spec::new(
    429,
    "rate_limited",
    "too many requests (per client, per account or per address); `Retry-After` says how many seconds to wait",
);

impl From<RateLimited> for ApiError {
    fn from(r: RateLimited) -> Self {
        ApiError::rate_limited(r.retry_after)
    }
}

impl Problems for RateLimited {
    fn specs() -> Vec<Spec> {
        vec![RATE_LIMITED]
    }
}

crate::problems!(TokenProblem {
    via ;
    Invalid => Spec::new(400, "link_invalid", "the mailed link is not valid"),
    Expired => Spec::new(400, "link_expired", "the mailed link has expired: ask for a new one"),
    Used => Spec::new(400, "link_used", "the mailed link was already used, or a newer one was sent"),
});

const USERNAME_TAKEN: Spec = Spec::new(409, "username_taken", "the username is taken");
const WRONG_PASSWORD: Spec = Spec::new(
    403,
    "wrong_password",
    "the password typed to confirm is not right",
);
const REAUTHENTICATE: Spec = Spec::new(
    403,
    "reauthentication_required",
    "the account has no password: sign in again with its provider (the detail names them), then retry within ten minutes",
);
const ACCOUNT_DISABLED: Spec = Spec::new(403, "account_disabled", "the account is disabled");
const EMAIL_NOT_VERIFIED: Spec = Spec::new(
    403,
    "email_not_verified",
    "the deployment requires a verified address first (only after a correct password)",
);

crate::problems!(SessionError {
    via Auth(AuthError), SessionRequired(SessionRequired), Store(StoreError);
});

crate::problems!(CreateApiKeyError {
    via Auth(AuthError), SessionRequired(SessionRequired), Store(StoreError);
    TooMany => Spec::new(409, "too_many_api_keys", "the account has as many live API keys as allowed (20)"),
});

crate::problems!(RevokeApiKeyError {
    via Auth(AuthError), SessionRequired(SessionRequired), Store(StoreError);
    NotFound => NOT_FOUND,
});

crate::problems!(RegisterError {
    via PasswordAuthDisabled(PasswordAuthDisabled), RateLimited(RateLimited), Store(StoreError);
    UsernameTaken => USERNAME_TAKEN,
    Hash(_) => INTERNAL,
});

crate::problems!(LoginError {
    via PasswordAuthDisabled(PasswordAuthDisabled), RateLimited(RateLimited), Store(StoreError);
    InvalidCredentials => Spec::new(401, "invalid_credentials", "wrong login or password (an unknown account and a wrong password answer alike)"),
    AccountDisabled => ACCOUNT_DISABLED,
    EmailNotVerified => EMAIL_NOT_VERIFIED,
    Hash(_) => INTERNAL,
    Token(_) => INTERNAL,
});

crate::problems!(RefreshError {
    via Store(StoreError);
    Invalid => Spec::new(401, "invalid_refresh_token", "the refresh token is unknown"),
    Expired => Spec::new(401, "refresh_token_expired", "the refresh token has expired: log in again"),
    SessionRevoked => Spec::new(401, "session_revoked", "the token's session ended (logout, logout-all, reuse, password reset)"),
    Reused => Spec::new(401, "refresh_token_reused", "the refresh token was already used: its whole session is ended"),
    AccountDisabled => ACCOUNT_DISABLED,
    Token(_) => INTERNAL,
});

crate::problems!(VerifyEmailError {
    via Token(TokenProblem), Store(StoreError);
    EmailTaken => Spec::new(409, "email_taken", "the new address got an account meanwhile"),
});

crate::problems!(ResendError {
    via RateLimited(RateLimited), Store(StoreError);
});

crate::problems!(ForgotPasswordError {
    via PasswordAuthDisabled(PasswordAuthDisabled), RateLimited(RateLimited), Store(StoreError);
});

crate::problems!(ResetPasswordError {
    via PasswordAuthDisabled(PasswordAuthDisabled), Token(TokenProblem), Invalid(ValidationErrors), Store(StoreError);
    Hash(_) => INTERNAL,
});

crate::problems!(ChangePasswordError {
    via Auth(AuthError), PasswordAuthDisabled(PasswordAuthDisabled), SessionRequired(SessionRequired), RateLimited(RateLimited), Invalid(ValidationErrors), Store(StoreError);
    ReauthenticationRequired(_) => REAUTHENTICATE,
    WrongPassword => WRONG_PASSWORD,
    Hash(_) => INTERNAL,
});

crate::problems!(ChangeEmailError {
    via Auth(AuthError), SessionRequired(SessionRequired), Invalid(ValidationErrors), RateLimited(RateLimited), Store(StoreError);
    ReauthenticationRequired(_) => REAUTHENTICATE,
    WrongPassword => WRONG_PASSWORD,
    Hash(_) => INTERNAL,
});

crate::problems!(DeleteAccountError {
    via Auth(AuthError), SessionRequired(SessionRequired), RateLimited(RateLimited), Store(StoreError);
    ReauthenticationRequired(_) => REAUTHENTICATE,
    WrongPassword => WRONG_PASSWORD,
    Blocked(_) => Spec::new(409, "last_admin", "the account is the last ADMIN of a tenant (named in `detail`): make another member ADMIN first"),
    Hash(_) => INTERNAL,
});

crate::problems!(UpdateProfileError {
    via Auth(AuthError), Store(StoreError);
    UsernameTaken => USERNAME_TAKEN,
});

crate::problems!(ExportError {
    via Auth(AuthError), Store(StoreError);
});
