//! The `Authorization: Bearer` extractor.

use std::future::Future;
use std::pin::Pin;

use accueil_app::identity::{AuthError, Principal};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;

/// The authenticated caller. A handler that takes it requires a valid access token whose
/// session is live and whose user is active.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidToken => {
                ApiError::unauthorized("invalid_token", "the access token is invalid")
            }
            AuthError::TokenExpired => {
                ApiError::unauthorized("token_expired", "the access token has expired; refresh it")
            }
            AuthError::SessionRevoked => {
                ApiError::unauthorized("session_revoked", "this session has ended; log in again")
            }
            AuthError::AccountDisabled => {
                ApiError::forbidden("account_disabled", "this account is disabled")
            }
            AuthError::Store(e) => ApiError::store(&e),
        }
    }
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let missing = || {
        ApiError::unauthorized(
            "unauthorized",
            "send an access token as Authorization: Bearer <token>",
        )
    };
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim().to_owned())
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let app = req.app_data::<web::Data<accueil_app::App>>().cloned();
        Box::pin(async move {
            let token = token?;
            let app = app.ok_or_else(|| {
                ApiError::internal(&std::io::Error::other("application state missing"))
            })?;
            Ok(Auth(app.identity.authenticate(&token).await?))
        })
    }
}
