//! The authentication extractor: `Authorization: Bearer <access token>` or
//! `X-API-Key: <key>`, checked without I/O here and resolved inside the use case's unit of
//! work. A read-only key is refused on any request that is not safe (anything but `GET`, `HEAD`
//! and `OPTIONS`), whatever the route; the problems every authenticated operation can answer
//! with are declared here, once.

use std::future::{Ready, ready};

use accueil_app::identity::{AuthError, Caller, SessionRequired};
use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;
use crate::problems::Spec;

/// What the request authenticates with, checked without I/O (the access token's signature and
/// claims; the API key's shape and whether the request would change data). The handler passes
/// it to the use case, which resolves it against storage inside its own unit of work: one
/// transaction per request (see `accueil_app::scope`).
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

crate::problems!(AuthError {
    via Store(accueil_app::StoreError);
    Missing => Spec::new(401, "unauthorized", "no credential: send `Authorization: Bearer <access token>` or `X-API-Key`"),
    InvalidToken => Spec::new(401, "invalid_token", "the access token is malformed, badly signed, or a claim is wrong"),
    TokenExpired => Spec::new(401, "token_expired", "the access token expired: refresh it"),
    SessionRevoked => Spec::new(401, "session_revoked", "the token's session ended (logout, logout-all, reuse, password reset)"),
    InvalidApiKey => Spec::new(401, "invalid_api_key", "the `X-API-Key` is unknown, revoked or expired (or its account deleted)"),
    AccountDisabled => Spec::new(403, "account_disabled", "the account is disabled"),
    ReadOnlyKey => Spec::new(403, "api_key_read_only", "a `read` API key on a request that is not `GET`, `HEAD` or `OPTIONS`"),
});

/// 403 `session_required`: an API key on an operation that manages credentials.
pub(crate) const SESSION_REQUIRED: Spec = Spec::new(
    403,
    "session_required",
    "an API key on a route that manages credentials (logout, password, address, account deletion, API keys, sign-in methods)",
);

impl From<SessionRequired> for ApiError {
    fn from(e: SessionRequired) -> Self {
        SESSION_REQUIRED.answer(e.to_string())
    }
}

impl crate::problems::Problems for SessionRequired {
    fn specs() -> Vec<Spec> {
        vec![SESSION_REQUIRED]
    }
}

const X_API_KEY: &str = "x-api-key";

/// What the request authenticates with.
enum Presented {
    Bearer(String),
    ApiKey(String),
}

fn missing() -> ApiError {
    ApiError::from(AuthError::Missing)
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
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req).map(Auth))
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let presented = presented(req)?;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let app = req
        .app_data::<web::Data<accueil_app::App>>()
        .ok_or_else(|| ApiError::internal(&std::io::Error::other("application state missing")))?;
    Ok(match presented {
        Presented::Bearer(token) => app.identity.caller_from_bearer(&token)?,
        Presented::ApiKey(key) => app.identity.caller_from_api_key(&key, writes)?,
    })
}
