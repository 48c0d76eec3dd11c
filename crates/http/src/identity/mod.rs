//! Identity routes: `/api/v1/auth/*` and `/api/v1/users/me`.

mod account;
mod api_keys;
mod dto;
mod handlers;
mod oauth;

pub(crate) use oauth::OAuthWeb;

use accueil_app::identity::{
    ApiKeyError, ChangeEmailError, ChangePasswordError, DeleteAccountError, LoginError,
    LogoutError, PasswordAuthDisabled, RefreshError, RegisterError, ResendError,
    ResetPasswordError, SessionRequired, UpdateProfileError, VerifyEmailError,
};
use accueil_domain::identity::TokenProblem;
use actix_web::ResponseError;
use actix_web::http::StatusCode;
use utoipa_actix_web::service_config::ServiceConfig;

pub use dto::{LoginRequest, RefreshRequest, RegisterRequest, TokenResponse, UserResponse};

use crate::error::ApiError;

/// Registers the identity routes (inside `/api/v1`). Without password sign-in (OAuth-only
/// mode), the password routes are left out here, so the OpenAPI document does not show them;
/// [`password_routes_disabled`] answers them instead.
pub fn configure(cfg: &mut ServiceConfig, password_auth: bool) {
    if password_auth {
        cfg.service(handlers::register)
            .service(handlers::login)
            .service(handlers::forgot_password)
            .service(handlers::reset_password)
            .service(account::change_password);
    }
    cfg.service(handlers::refresh)
        .service(handlers::logout)
        .service(handlers::logout_all)
        .service(handlers::verify_email)
        .service(handlers::resend_verification)
        .service(handlers::auth_me)
        .service(handlers::users_me)
        .service(account::update_me)
        .service(account::change_email)
        .service(account::delete_me)
        .service(account::export_me)
        .service(api_keys::create_api_key)
        .service(api_keys::list_api_keys)
        .service(api_keys::revoke_api_key)
        .service(oauth::oauth_start)
        .service(oauth::oauth_callback)
        .service(oauth::link_identity)
        .service(oauth::start_link)
        .service(oauth::list_identities)
        .service(oauth::unlink_identity);
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
            actix_web::web::post().to(|| async { password_auth_disabled().error_response() }),
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
    ("post", "/api/v1/users/me/identities/{provider}"),
    ("delete", "/api/v1/users/me/identities/{id}"),
];

impl From<PasswordAuthDisabled> for ApiError {
    fn from(_: PasswordAuthDisabled) -> Self {
        password_auth_disabled()
    }
}

fn password_auth_disabled() -> ApiError {
    ApiError::forbidden(
        "password_auth_disabled",
        "this server signs in with providers only (/api/v1/auth/{provider}/start)",
    )
}

impl From<SessionRequired> for ApiError {
    fn from(e: SessionRequired) -> Self {
        ApiError::forbidden("session_required", e.to_string())
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::SessionRequired(s) => s.into(),
            ApiKeyError::Invalid(v) => ApiError::validation(&v),
            e @ ApiKeyError::TooMany => ApiError::conflict("too_many_api_keys", e.to_string()),
            ApiKeyError::NotFound => ApiError::not_found("no such API key of yours"),
            ApiKeyError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::PasswordAuthDisabled(d) => d.into(),
            RegisterError::Invalid(v) => ApiError::validation(&v),
            RegisterError::UsernameTaken => {
                ApiError::conflict("username_taken", "this username is taken")
            }
            RegisterError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            RegisterError::Hash(e) => ApiError::internal(&e),
            RegisterError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::PasswordAuthDisabled(d) => d.into(),
            LoginError::InvalidCredentials => {
                ApiError::unauthorized("invalid_credentials", "wrong login or password")
            }
            LoginError::AccountDisabled => {
                ApiError::forbidden("account_disabled", "this account is disabled")
            }
            LoginError::EmailNotVerified => ApiError::forbidden(
                "email_not_verified",
                "verify your e-mail address first; POST /api/v1/auth/resend-verification sends a new link",
            ),
            LoginError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            LoginError::Hash(e) => ApiError::internal(&e),
            LoginError::Token(e) => ApiError::internal(&e),
            LoginError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Invalid => {
                ApiError::unauthorized("invalid_refresh_token", "unknown refresh token")
            }
            RefreshError::Expired => ApiError::unauthorized(
                "refresh_token_expired",
                "the refresh token has expired; log in again",
            ),
            RefreshError::SessionRevoked => {
                ApiError::unauthorized("session_revoked", "this session has ended; log in again")
            }
            RefreshError::Reused => ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session has been ended for safety; log in again",
            ),
            RefreshError::AccountDisabled => ApiError::new(
                StatusCode::FORBIDDEN,
                "account_disabled",
                "Forbidden",
                "this account is disabled",
            ),
            RefreshError::Token(e) => ApiError::internal(&e),
            RefreshError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<LogoutError> for ApiError {
    fn from(e: LogoutError) -> Self {
        match e {
            LogoutError::SessionRequired(s) => s.into(),
            LogoutError::Store(e) => ApiError::store(&e),
        }
    }
}

fn link_problem(p: TokenProblem) -> ApiError {
    let (code, detail) = match p {
        TokenProblem::Invalid => ("link_invalid", "this link is not valid"),
        TokenProblem::Expired => ("link_expired", "this link has expired; ask for a new one"),
        TokenProblem::Used => (
            "link_used",
            "this link was already used, or a newer one was sent",
        ),
    };
    ApiError::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
}

fn reauthenticate() -> ApiError {
    ApiError::forbidden(
        "reauthentication_required",
        "this account has no password: sign in again with your provider, then retry within ten minutes",
    )
}

fn wrong_password() -> ApiError {
    ApiError::forbidden("wrong_password", "the password is not right")
}

impl From<VerifyEmailError> for ApiError {
    fn from(e: VerifyEmailError) -> Self {
        match e {
            VerifyEmailError::Token(p) => link_problem(p),
            VerifyEmailError::EmailTaken => ApiError::conflict(
                "email_taken",
                "the new address now belongs to another account",
            ),
            VerifyEmailError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<ResendError> for ApiError {
    fn from(e: ResendError) -> Self {
        match e {
            ResendError::PasswordAuthDisabled(d) => d.into(),
            ResendError::Invalid(v) => ApiError::validation(&v),
            ResendError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            ResendError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<ResetPasswordError> for ApiError {
    fn from(e: ResetPasswordError) -> Self {
        match e {
            ResetPasswordError::PasswordAuthDisabled(d) => d.into(),
            ResetPasswordError::Token(p) => link_problem(p),
            ResetPasswordError::Invalid(v) => ApiError::validation(&v),
            ResetPasswordError::Hash(e) => ApiError::internal(&e),
            ResetPasswordError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<ChangePasswordError> for ApiError {
    fn from(e: ChangePasswordError) -> Self {
        match e {
            ChangePasswordError::PasswordAuthDisabled(d) => d.into(),
            ChangePasswordError::SessionRequired(s) => s.into(),
            ChangePasswordError::ReauthenticationRequired => reauthenticate(),
            ChangePasswordError::WrongPassword => wrong_password(),
            ChangePasswordError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            ChangePasswordError::Invalid(v) => ApiError::validation(&v),
            ChangePasswordError::Hash(e) => ApiError::internal(&e),
            ChangePasswordError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<ChangeEmailError> for ApiError {
    fn from(e: ChangeEmailError) -> Self {
        match e {
            ChangeEmailError::SessionRequired(s) => s.into(),
            ChangeEmailError::ReauthenticationRequired => reauthenticate(),
            ChangeEmailError::WrongPassword => wrong_password(),
            ChangeEmailError::Invalid(v) => ApiError::validation(&v),
            ChangeEmailError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            ChangeEmailError::Hash(e) => ApiError::internal(&e),
            ChangeEmailError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<DeleteAccountError> for ApiError {
    fn from(e: DeleteAccountError) -> Self {
        match e {
            DeleteAccountError::SessionRequired(s) => s.into(),
            DeleteAccountError::ReauthenticationRequired => reauthenticate(),
            DeleteAccountError::WrongPassword => wrong_password(),
            DeleteAccountError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            DeleteAccountError::Hash(e) => ApiError::internal(&e),
            DeleteAccountError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<UpdateProfileError> for ApiError {
    fn from(e: UpdateProfileError) -> Self {
        match e {
            UpdateProfileError::Invalid(v) => ApiError::validation(&v),
            UpdateProfileError::UsernameTaken => {
                ApiError::conflict("username_taken", "this username is taken")
            }
            UpdateProfileError::Store(e) => ApiError::store(&e),
        }
    }
}
