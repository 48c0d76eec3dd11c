//! `/api/v1/users/me` routes: the signed-in owner's account.

use accueil_app::identity::{
    ChangeEmailInput, ChangePasswordInput, NotificationsPatch, ProfilePatch,
};
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};

use super::dto::{
    AccountExportResponse, AuditExport, ChangeEmailRequest, ChangePasswordRequest,
    DeleteAccountRequest, ProfilePatchRequest, SessionExport, UserResponse,
};
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ProblemBody};

type App = web::Data<accueil_app::App>;

/// Change the caller's profile: absent fields are kept, `null` clears.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = ProfilePatchRequest,
    responses(
        (status = 200, description = "The updated account", body = UserResponse),
        (status = 400, description = "`invalid_json`, `unknown_field` (e.g. `roles`, `email_verified`, `id`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`username_taken`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`; field codes: display_name `required` `too_long` `invalid_characters`; username `too_short` `too_long` `invalid_username`; avatar_url `invalid_url` `too_long`; bio `too_long` `invalid_characters`; language `unsupported_language`; time_zone `unknown_time_zone`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[patch("/users/me")]
pub(super) async fn update_me(
    app: App,
    auth: Auth,
    body: web::Json<ProfilePatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let user = app
        .identity
        .update_profile(
            &auth.0,
            ProfilePatch {
                display_name: crate::json::patch_of(b.display_name),
                username: crate::json::patch_of(b.username),
                avatar_url: crate::json::patch_of(b.avatar_url),
                bio: crate::json::patch_of(b.bio),
                language: b.language,
                time_zone: crate::json::patch_of(b.time_zone),
                notifications: b.notifications.map(|n| NotificationsPatch {
                    email: n.email,
                    push: n.push,
                }),
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// Change the caller's password. The caller's other sessions end; this one stays.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`wrong_password`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` on `new_password` (password policy)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/users/me/password")]
pub(super) async fn change_password(
    app: App,
    auth: Auth,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    app.identity
        .change_password(
            &auth.0,
            ChangePasswordInput {
                current_password: b.current_password,
                new_password: b.new_password,
            },
        )
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
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`wrong_password`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` on `new_email`: `invalid_email`, `same_email`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/users/me/email")]
pub(super) async fn change_email(
    app: App,
    auth: Auth,
    ip: ClientIp,
    body: web::Json<ChangeEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    app.identity
        .change_email(
            &auth.0,
            ChangeEmailInput {
                current_password: b.current_password,
                new_email: b.new_email,
                client_ip: ip.0,
            },
        )
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Delete the caller's account: anonymised at once, every session ended, removed for good after
/// the grace period.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`wrong_password`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[delete("/users/me")]
pub(super) async fn delete_me(
    app: App,
    auth: Auth,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    app.identity.delete_account(&auth.0, &body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Everything stored about the caller, as JSON.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export", body = AccountExportResponse),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/users/me/export")]
pub(super) async fn export_me(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let export = app
        .identity
        .export(&auth.0)
        .await
        .map_err(|e| ApiError::store(&e))?;
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
        exported_at: chrono::Utc::now(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"accueil-export.json\"",
        ))
        .json(body))
}
