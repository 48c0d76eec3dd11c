//! Identity routes: `/api/v1/auth/*` and `/api/v1/users/me`.

mod dto;
mod handlers;

use accueil_app::identity::{LoginError, LogoutError, RefreshError, RegisterError};
use actix_web::http::StatusCode;
use utoipa_actix_web::service_config::ServiceConfig;

pub use dto::{LoginRequest, RefreshRequest, RegisterRequest, TokenResponse, UserResponse};

use crate::error::ApiError;

/// Registers the identity routes (inside `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::register)
        .service(handlers::login)
        .service(handlers::refresh)
        .service(handlers::logout)
        .service(handlers::logout_all)
        .service(handlers::auth_me)
        .service(handlers::users_me);
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Invalid(v) => ApiError::validation(&v),
            RegisterError::EmailTaken => {
                ApiError::conflict("email_taken", "an account with this e-mail address exists")
            }
            RegisterError::UsernameTaken => {
                ApiError::conflict("username_taken", "this username is taken")
            }
            RegisterError::Hash(e) => ApiError::internal(&e),
            RegisterError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => {
                ApiError::unauthorized("invalid_credentials", "wrong login or password")
            }
            LoginError::AccountDisabled => {
                ApiError::forbidden("account_disabled", "this account is disabled")
            }
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
            LogoutError::Store(e) => ApiError::store(&e),
        }
    }
}
