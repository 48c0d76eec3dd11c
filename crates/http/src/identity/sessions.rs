//! Sessions: `/api/v1/auth/login`, `/refresh`, `/logout`, `/logout-all`, and the caller's
//! account at `/api/v1/auth/me` and `/api/v1/users/me`.

use accueil_app::identity::{AuthError, LoginError, RefreshError, SessionError};
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::json::MaybeValid;
use crate::problems::Errors;

type App = web::Data<accueil_app::App>;

use super::dto::{LoginRequest, LogoutRequest, MeResponse, RefreshRequest, TokenResponse};

pub(super) fn configure(cfg: &mut ServiceConfig, password_auth: bool) {
    if password_auth {
        cfg.service(login);
    }
    cfg.service(refresh)
        .service(logout)
        .service(logout_all)
        .service(auth_me)
        .service(users_me);
}

/// Token answers must never be cached (RFC 6749 §5.1).
fn tokens(pair: accueil_app::identity::TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse::from(pair))
}

/// Log in with e-mail or username and password.
///
/// An unknown account and a wrong password get the same answer, in about the same time.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session's token pair", body = TokenResponse),
        Errors<LoginError>,
    )
)]
#[post("/auth/login")]
async fn login(
    app: App,
    ip: ClientIp,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = app
        .identity
        .login(&body.login, &body.password, ip.0)
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
        Errors<RefreshError>,
    )
)]
#[post("/auth/refresh")]
async fn refresh(app: App, body: web::Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    Ok(tokens(app.identity.refresh(&body.refresh_token).await?))
}

/// End this session: its refresh token and access tokens stop working.
///
/// Send the access token as `Authorization: Bearer`, or, when it has expired, the session's
/// refresh token in the body.
#[utoipa::path(
    tag = "auth",
    security((), ("bearer" = [])),
    request_body(content = Option<LogoutRequest>, description = "Optional: `{\"refresh_token\": ...}` instead of a bearer token"),
    responses(
        (status = 204, description = "Logged out"),
        Errors<SessionError>,
    )
)]
#[post("/auth/logout")]
async fn logout(
    app: App,
    req: actix_web::HttpRequest,
    MaybeValid(body): MaybeValid<LogoutRequest>,
) -> Result<HttpResponse, ApiError> {
    // A body that is sent is read as any other: one that is not a logout body is refused
    // rather than taken for no body (which would end the bearer's session instead).
    match body.and_then(|b| b.refresh_token) {
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
        Errors<SessionError>,
    )
)]
#[post("/auth/logout-all")]
async fn logout_all(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    app.identity.logout_all(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's account, resolved in one read unit of work.
async fn me(app: &App, auth: &Auth) -> Result<HttpResponse, ApiError> {
    let account = app.identity.account(&auth.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(MeResponse::from(&account)))
}

/// The caller's account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller, with its sign-in methods", body = MeResponse),
        Errors<AuthError>,
    )
)]
#[get("/auth/me")]
async fn auth_me(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    me(&app, &auth).await
}

/// The caller's account (same as `/api/v1/auth/me`).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller, with its sign-in methods", body = MeResponse),
        Errors<AuthError>,
    )
)]
#[get("/users/me")]
async fn users_me(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    me(&app, &auth).await
}
