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
use crate::problems::{Problems, Spec};

/// What the request authenticates with, checked without I/O (the access token's signature and
/// claims; the API key's shape and whether the request would change data). The handler passes
/// it to the use case, which resolves it against storage inside its own unit of work: one
/// transaction per request (see `accueil_app::scope`).
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

const UNAUTHORIZED: Spec = Spec::new(
    401,
    "unauthorized",
    "no credential: send `Authorization: Bearer <access token>` or `X-API-Key`",
);
const INVALID_TOKEN: Spec = Spec::new(
    401,
    "invalid_token",
    "the access token is malformed, badly signed, or a claim is wrong",
);
const TOKEN_EXPIRED: Spec = Spec::new(401, "token_expired", "the access token expired: refresh it");
const SESSION_REVOKED: Spec = Spec::new(
    401,
    "session_revoked",
    "the token's session ended (logout, logout-all, reuse, password reset)",
);
const INVALID_API_KEY: Spec = Spec::new(
    401,
    "invalid_api_key",
    "the `X-API-Key` is unknown, revoked or expired (or its account deleted)",
);
const ACCOUNT_DISABLED: Spec = Spec::new(403, "account_disabled", "the account is disabled");

/// 403 `api_key_read_only`. A `read` key is refused by the request's method alone, so
/// `openapi::finish` declares it on the operations that take credentials and are not `GET`,
/// rather than [`AuthError`] on every operation that authenticates.
pub(crate) const READ_ONLY_KEY: Spec = Spec::new(
    403,
    "api_key_read_only",
    "a `read` API key on a request that is not `GET`, `HEAD` or `OPTIONS`",
);

// By hand rather than with `problems!`: `ReadOnlyKey` answers with [`READ_ONLY_KEY`], which
// the document declares by the operation's method, not here; a test checks that every variant
// answers with a declared spec.
impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let spec = match &e {
            AuthError::Store(s) => return ApiError::store(s),
            AuthError::Missing => UNAUTHORIZED,
            AuthError::InvalidToken => INVALID_TOKEN,
            AuthError::TokenExpired => TOKEN_EXPIRED,
            AuthError::SessionRevoked => SESSION_REVOKED,
            AuthError::InvalidApiKey => INVALID_API_KEY,
            AuthError::AccountDisabled => ACCOUNT_DISABLED,
            AuthError::ReadOnlyKey => READ_ONLY_KEY,
        };
        spec.answer(e.to_string())
    }
}

impl Problems for AuthError {
    fn specs() -> Vec<Spec> {
        let mut all = accueil_app::StoreError::specs();
        all.extend([
            UNAUTHORIZED,
            INVALID_TOKEN,
            TOKEN_EXPIRED,
            SESSION_REVOKED,
            INVALID_API_KEY,
            ACCOUNT_DISABLED,
        ]);
        all
    }
}

/// 403 `session_required`: an API key on an operation that manages credentials.
pub(crate) const SESSION_REQUIRED: Spec = Spec::new(
    403,
    "session_required",
    "an API key on a route that manages credentials (logout, password, address, account deletion, API keys, sign-in methods) or opens a realtime connection (which belongs to a session)",
);

impl From<SessionRequired> for ApiError {
    fn from(e: SessionRequired) -> Self {
        SESSION_REQUIRED.answer(e.to_string())
    }
}

impl Problems for SessionRequired {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_auth_error_answers_with_a_declared_problem() {
        let declared = AuthError::specs();
        let all = [
            AuthError::Missing,
            AuthError::InvalidToken,
            AuthError::TokenExpired,
            AuthError::SessionRevoked,
            AuthError::AccountDisabled,
            AuthError::InvalidApiKey,
            AuthError::ReadOnlyKey,
            AuthError::Store(accueil_app::StoreError::Unavailable("down".into())),
        ];
        for e in all {
            let shown = format!("{e:?}");
            let read_only = matches!(e, AuthError::ReadOnlyKey);
            let answer = ApiError::from(e);
            let spec = (answer.status().as_u16(), answer.code());
            if read_only {
                assert_eq!(spec, (READ_ONLY_KEY.status, READ_ONLY_KEY.code));
            } else {
                assert!(
                    declared.iter().any(|s| (s.status, s.code) == spec),
                    "{shown} answers {spec:?}, which AuthError does not declare"
                );
            }
        }
    }
}
