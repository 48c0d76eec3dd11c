//! Mailed links: `/api/v1/auth/verify-email`, `/resend-verification`, `/forgot-password`,
//! `/reset-password`.

use accueil_app::identity::{
    ForgotPasswordError, ResendError, ResetPasswordError, VerifyEmailError,
};
use accueil_domain::identity::Email;
use actix_web::{HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::json::Valid;
use crate::problems::Errors;

type App = web::Data<accueil_app::App>;

use super::dto::{EmailRequest, LinkTokenRequest, ResetPasswordRequest};

pub(super) fn configure(cfg: &mut ServiceConfig, password_auth: bool) {
    if password_auth {
        cfg.service(forgot_password).service(reset_password);
    }
    cfg.service(verify_email).service(resend_verification);
}

/// Redeem a link from a verification mail (also confirms an address change).
#[utoipa::path(
    tag = "auth",
    request_body = LinkTokenRequest,
    responses(
        (status = 204, description = "Address verified (or changed)"),
        Errors<VerifyEmailError>,
    )
)]
#[post("/auth/verify-email")]
async fn verify_email(
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
        Errors<ResendError>,
    )
)]
#[post("/auth/resend-verification")]
async fn resend_verification(
    app: App,
    ip: ClientIp,
    Valid(email): Valid<Email>,
) -> Result<HttpResponse, ApiError> {
    app.identity.resend_verification(email, ip.0).await?;
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
        Errors<ForgotPasswordError>,
    )
)]
#[post("/auth/forgot-password")]
async fn forgot_password(
    app: App,
    ip: ClientIp,
    Valid(email): Valid<Email>,
) -> Result<HttpResponse, ApiError> {
    app.identity.forgot_password(email, ip.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from a reset mail. Every session of the account ends.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed; log in again"),
        Errors<ResetPasswordError>,
    )
)]
#[post("/auth/reset-password")]
async fn reset_password(
    app: App,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    app.identity
        .reset_password(&body.token, &body.password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
