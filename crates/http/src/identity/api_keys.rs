//! `/api/v1/users/me/api-keys`: the caller's API keys. Managed from a signed-in session only.

use accueil_app::identity::{CreateApiKeyError, RevokeApiKeyError, SessionError};
use accueil_domain::identity::{ApiKey, ApiKeyState, NewApiKey};
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::Valid;
use crate::problems::Errors;

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_api_key)
        .service(list_api_keys)
        .service(revoke_api_key);
}

/// An API key (never its secret, except once at creation).
#[derive(Serialize, ToSchema)]
pub struct ApiKeyBody {
    /// Its id.
    pub id: Uuid,
    /// Its label.
    pub name: String,
    /// `read` (safe requests only) or `read_write`.
    pub scope: &'static str,
    /// The key's first characters, to recognise it.
    pub hint: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
    /// When it stops working; `null`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the hour).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl ApiKeyBody {
    pub(crate) fn of(k: &ApiKey, state: ApiKeyState) -> Self {
        Self {
            id: k.id.0,
            name: k.name.as_str().to_owned(),
            scope: k.scope.as_str(),
            hint: k.hint.clone(),
            state: state.as_str(),
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
        }
    }
}

/// A key just made.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKeyBody {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKeyBody,
    /// The secret to send as `X-API-Key`; shown this once, stored only as a digest.
    pub secret: String,
}

/// A new key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequest {
    /// 1 to 100 characters.
    #[schema(format = "text:100")]
    pub name: String,
    /// `read` or `read_write`.
    #[schema(format = "enum:read,read_write")]
    pub scope: String,
    /// When it stops working (RFC 3339, in the future); absent: never, until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Make an API key. It acts as the caller within its scope (`read`: safe requests only),
/// except on the routes that manage credentials, which need a signed-in session.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = ApiKeyRequest, responses(
    (status = 201, description = "Created; the secret is shown only now", body = CreatedApiKeyBody),
    Errors<CreateApiKeyError>,


))]
#[post("/users/me/api-keys")]
async fn create_api_key(
    app: App,
    auth: Auth,
    Valid(new): Valid<NewApiKey>,
) -> Result<HttpResponse, ApiError> {
    let created = app.identity.create_api_key(&auth.0, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedApiKeyBody {
            key: ApiKeyBody::of(&created.key, ApiKeyState::Active),
            secret: created.secret,
        }))
}

/// The caller's API keys in every state, oldest first.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, description = "The keys", body = [ApiKeyBody]),
    Errors<SessionError>,
))]
#[get("/users/me/api-keys")]
async fn list_api_keys(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let keys = app.identity.api_keys(&auth.0).await?;
    Ok(HttpResponse::Ok().json(
        keys.iter()
            .map(|(k, state)| ApiKeyBody::of(k, *state))
            .collect::<Vec<_>>(),
    ))
}

/// Revoke an API key at once (revoking it again changes nothing).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Revoked"),
    Errors<RevokeApiKeyError>,

))]
#[delete("/users/me/api-keys/{id}")]
async fn revoke_api_key(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.identity
        .revoke_api_key(&auth.0, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
