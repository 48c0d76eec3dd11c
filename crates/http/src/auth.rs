//! The authentication extractor: `Authorization: Bearer <access token>` or
//! `X-API-Key: <key>`. A read-only key is refused on any request that is not safe (anything
//! but `GET`, `HEAD` and `OPTIONS`), whatever the route.

use std::future::Future;
use std::pin::Pin;

use accueil_app::identity::{AuthError, Principal};
use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;

/// The authenticated caller. A handler that takes it requires a valid access token whose
/// session is live, or a live API key whose scope allows the request; and an active user.
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
            AuthError::InvalidApiKey => ApiError::unauthorized(
                "invalid_api_key",
                "the API key is unknown, revoked or expired",
            ),
            AuthError::ReadOnlyKey => ApiError::forbidden(
                "api_key_read_only",
                "this API key may only read; use a read_write key to change data",
            ),
            AuthError::Store(e) => ApiError::store(&e),
        }
    }
}

const X_API_KEY: &str = "x-api-key";

/// What the request authenticates with.
enum Presented {
    Bearer(String),
    ApiKey(String),
}

fn missing() -> ApiError {
    ApiError::unauthorized(
        "unauthorized",
        "send an access token as Authorization: Bearer <token>, or an API key as X-API-Key",
    )
}

fn presented(req: &HttpRequest) -> Result<Presented, ApiError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return bearer(req).map(Presented::Bearer);
    }
    match req.headers().get(X_API_KEY).and_then(|v| v.to_str().ok()) {
        Some(key) if !key.trim().is_empty() => Ok(Presented::ApiKey(key.trim().to_owned())),
        _ => Err(missing()),
    }
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
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
        let presented = presented(req);
        let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let app = req.app_data::<web::Data<accueil_app::App>>().cloned();
        Box::pin(async move {
            let presented = presented?;
            let app = app.ok_or_else(|| {
                ApiError::internal(&std::io::Error::other("application state missing"))
            })?;
            Ok(Auth(match presented {
                Presented::Bearer(token) => app.identity.authenticate(&token).await?,
                Presented::ApiKey(key) => app.identity.authenticate_api_key(&key, writes).await?,
            }))
        })
    }
}
