//! Accounts: `/api/v1/auth/register` and the signed-in owner's `/api/v1/users/me*`.

use accueil_app::identity::{
    ChangeEmailError, ChangePasswordError, DeleteAccountError, ExportError, RegisterError,
    UpdateProfileError,
};
use accueil_domain::identity::{ProfileChanges, Registration};
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::json::Valid;
use crate::problems::Errors;

type App = web::Data<accueil_app::App>;

use super::api_keys::ApiKeyBody;
use super::dto::{
    AccountExportResponse, AuditExport, ChangeEmailRequest, ChangePasswordRequest,
    DeleteAccountRequest, EmailChange, MeResponse, ProfilePatchRequest, RegisterRequest,
    SessionExport, UserResponse,
};
use super::oauth::IdentityBody;

pub(super) fn configure(cfg: &mut ServiceConfig, password_auth: bool) {
    if password_auth {
        cfg.service(register).service(change_password);
    }
    cfg.service(update_me)
        .service(change_email)
        .service(delete_me)
        .service(export_me);
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
        Errors<RegisterError>,
    )
)]
#[post("/auth/register")]
async fn register(
    app: App,
    ip: ClientIp,
    Valid(registration): Valid<Registration>,
) -> Result<HttpResponse, ApiError> {
    let user = app.identity.register(registration, ip.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/users/me"))
        .json(UserResponse::from(&user)))
}

/// Change the caller's profile: absent fields are kept, `null` clears.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = ProfilePatchRequest,
    responses(
        (status = 200, description = "The updated account, with its sign-in methods", body = MeResponse),
        Errors<UpdateProfileError>,
    )
)]
#[patch("/users/me")]
async fn update_me(
    app: App,
    auth: Auth,
    Valid(changes): Valid<ProfileChanges>,
) -> Result<HttpResponse, ApiError> {
    let account = app.identity.update_profile(&auth.0, changes).await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(&account)))
}

/// Change the caller's password. The caller's other sessions end; this one stays.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        Errors<ChangePasswordError>,
    )
)]
#[post("/users/me/password")]
async fn change_password(
    app: App,
    auth: Auth,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    app.identity
        .change_password(&auth.0, &body.current_password, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Start an address change: a confirmation link is mailed to the new address, and the change
/// applies when it is used (`POST /api/v1/auth/verify-email`); the old address is then told.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = ChangeEmailRequest,
    responses(
        (status = 202, description = "Accepted (the same whether or not the new address has an account)"),
        Errors<ChangeEmailError>,
    )
)]
#[post("/users/me/email")]
async fn change_email(
    app: App,
    auth: Auth,
    Valid(change): Valid<EmailChange>,
) -> Result<HttpResponse, ApiError> {
    app.identity
        .change_email(&auth.0, change.new_email, &change.current_password)
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Delete the caller's account: anonymised at once, every session ended, removed for good after
/// the grace period. Confirmed by the password, or, for an account without one, by a session
/// signed in less than ten minutes ago (`reauthentication_required` otherwise: sign in again
/// with the provider, then retry).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted"),
        Errors<DeleteAccountError>,
    )
)]
#[delete("/users/me")]
async fn delete_me(
    app: App,
    auth: Auth,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = body.password.as_deref().unwrap_or_default();
    app.identity.delete_account(&auth.0, password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Everything stored about the caller, as JSON.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export", body = AccountExportResponse),
        Errors<ExportError>,
    )
)]
#[get("/users/me/export")]
async fn export_me(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let export = app.identity.export(&auth.0).await?;
    let now = app.now();
    let body = AccountExportResponse {
        user: UserResponse::from(&export.user),
        sessions: export
            .sessions
            .iter()
            .map(|s| SessionExport {
                id: s.id.0,
                created_at: s.created_at,
                revoked_at: s.revoked_at,
                revoke_reason: s.revoke_reason.clone(),
            })
            .collect(),
        audit: export
            .audit
            .iter()
            .map(|e| AuditExport {
                at: e.at,
                action: e.action.as_str(),
                detail: e.detail.clone(),
            })
            .collect(),
        identities: export.identities.iter().map(IdentityBody::from).collect(),
        api_keys: export
            .api_keys
            .iter()
            .map(|k| ApiKeyBody::of(k, k.state(now)))
            .collect(),
        couple: export
            .couple
            .as_ref()
            .map(|c| crate::couples::CoupleExportBody::of(c, now)),
        tenants: export
            .tenants
            .iter()
            .map(|(tenant, role)| {
                crate::queues::TenantBody::from(&accueil_app::queues::TenantView {
                    tenant: tenant.clone(),
                    role: *role,
                })
            })
            .collect(),
        exported_at: now,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"accueil-export.json\"",
        ))
        .json(body))
}
