//! Identity handlers.

use accueil_app::identity::{LoginInput, RegisterInput, ResetPasswordInput};
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};

use super::dto::{
    EmailRequest, LinkTokenRequest, LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest,
    ResetPasswordRequest, TokenResponse, UserResponse,
};
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ProblemBody};

type App = web::Data<accueil_app::App>;

/// Token answers must never be cached (RFC 6749 §5.1).
fn tokens(pair: accueil_app::identity::TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse::from(pair))
}

/// Create an account; a verification link is mailed (valid 24 hours).
///
/// The answer is the same whether or not the address already has an account: when it has,
/// nothing is created and its owner is told by mail.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Created; `Location` is `/api/v1/users/me`", body = UserResponse),
        (status = 400, description = "`invalid_json`, `unknown_field`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`username_taken` (an address that has an account gets the same 201 as a new one; its owner is mailed instead)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (with `Retry-After`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`; field codes: email `invalid_email` `too_long`; language `unsupported_language`; username `too_short` `too_long` `invalid_username`; display_name `required` `too_long` `invalid_characters`; password `too_short` `too_long` `invalid_characters` `common_password` `contains_username` `contains_email`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
pub(super) async fn register(
    app: App,
    ip: ClientIp,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let user = app
        .identity
        .register(RegisterInput {
            email: body.email,
            password: body.password,
            username: body.username,
            display_name: body.display_name,
            language: body.language,
            client_ip: ip.0,
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/users/me"))
        .json(UserResponse::from(&user)))
}

/// Log in with e-mail or username and password.
///
/// An unknown account and a wrong password get the same answer, in about the same time.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session's token pair", body = TokenResponse),
        (status = 400, description = "`invalid_json`, `unknown_field`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_credentials`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many attempts from this client or for this account", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`, `email_not_verified` (only after a correct password; the latter where the deployment requires verified addresses)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub(super) async fn login(
    app: App,
    ip: ClientIp,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let pair = app
        .identity
        .login(LoginInput {
            login: body.login,
            password: body.password,
            client_ip: ip.0,
        })
        .await?;
    Ok(tokens(pair))
}

/// Exchange a refresh token for a new pair.
///
/// The presented token stops working. Presenting a token that was already used ends its
/// whole session (every token descended from that login), since it means the token leaked.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The next token pair", body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token`, `refresh_token_expired`, `session_revoked`, `refresh_token_reused`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub(super) async fn refresh(
    app: App,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(tokens(app.identity.refresh(&body.refresh_token).await?))
}

/// End this session: its refresh token and access tokens stop working.
///
/// Send the access token as `Authorization: Bearer`, or, when it has expired, the session's
/// refresh token in the body.
#[utoipa::path(
    tag = "auth",
    security((), ("bearer" = [])),
    request_body(content = LogoutRequest, description = "Optional: `{\"refresh_token\": ...}` instead of a bearer token"),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked` (without a refresh token in the body)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub(super) async fn logout(
    app: App,
    req: actix_web::HttpRequest,
    body: Option<web::Json<LogoutRequest>>,
) -> Result<HttpResponse, ApiError> {
    match body.and_then(|b| b.into_inner().refresh_token) {
        Some(token) => app.identity.logout_with_refresh_token(&token).await?,
        None => {
            let auth = <Auth as actix_web::FromRequest>::extract(&req).await?;
            app.identity.logout(&auth.0).await?;
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// End every session of the caller, on every device.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout-all")]
pub(super) async fn logout_all(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    app.identity.logout_all(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn me(auth: &Auth) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UserResponse::from(&auth.0.user))
}

/// The caller's account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserResponse),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/auth/me")]
pub(super) async fn auth_me(auth: Auth) -> HttpResponse {
    me(&auth)
}

/// The caller's account (same as `/api/v1/auth/me`).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserResponse),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/users/me")]
pub(super) async fn users_me(auth: Auth) -> HttpResponse {
    me(&auth)
}

/// Redeem a link from a verification mail (also confirms an address change).
#[utoipa::path(
    tag = "auth",
    request_body = LinkTokenRequest,
    responses(
        (status = 204, description = "Address verified (or changed)"),
        (status = 400, description = "`link_invalid`, `link_expired`, `link_used`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: the new address got an account meanwhile", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/verify-email")]
pub(super) async fn verify_email(
    app: App,
    body: web::Json<LinkTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    app.identity.verify_email(&body.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mail a new verification link to an unverified account (older links stop working).
///
/// Always 202, whether or not the address has an account.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "Accepted"),
        (status = 422, description = "`validation_failed` (malformed address)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/resend-verification")]
pub(super) async fn resend_verification(
    app: App,
    ip: ClientIp,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    app.identity.resend_verification(&body.email, ip.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Mail a password-reset link (valid 1 hour, single use).
///
/// Always 202, whether or not the address has an account.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "Accepted"),
        (status = 422, description = "`validation_failed` (malformed address)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/forgot-password")]
pub(super) async fn forgot_password(
    app: App,
    ip: ClientIp,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    app.identity.forgot_password(&body.email, ip.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from a reset mail. Every session of the account ends.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed; log in again"),
        (status = 400, description = "`link_invalid`, `link_expired`, `link_used`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (password policy)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/auth/reset-password")]
pub(super) async fn reset_password(
    app: App,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    app.identity
        .reset_password(ResetPasswordInput {
            token: body.token,
            password: body.password,
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
