//! Share-link routes: `/api/v1/couple/shares*`.

use accueil_app::memories::ShareInput;
use accueil_domain::memories::{Share, ShareScope, ShareState};
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, ProblemBody};

type App = web::Data<accueil_app::App>;

/// A share link (its token is shown only when it is created).
#[derive(Serialize, ToSchema)]
pub struct ShareBody {
    /// Its id.
    pub id: Uuid,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
    /// The memories it shows; `null`: all of them, including later ones.
    pub memory_ids: Option<Vec<Uuid>>,
    /// When it stops working; `null`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who made it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl ShareBody {
    fn new(s: &Share, state: ShareState) -> Self {
        Self {
            id: s.id.0,
            state: state.as_str(),
            memory_ids: match &s.scope {
                ShareScope::All => None,
                ShareScope::Only(ids) => Some(ids.iter().map(|m| m.0).collect()),
            },
            expires_at: s.expires_at,
            revoked_at: s.revoked_at,
            created_by: s.created_by.0,
            created_at: s.created_at,
        }
    }
}

/// A share link just made.
#[derive(Serialize, ToSchema)]
pub struct CreatedShareBody {
    /// The share.
    #[serde(flatten)]
    pub share: ShareBody,
    /// The secret of the link, shown this once.
    pub token: String,
    /// The public page's API path: `GET` it without credentials.
    pub url: String,
}

/// A new share link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// When it stops working (RFC 3339, in the future); absent: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// The memories it shows (1 to 500 of the couple's); absent: all of them.
    pub memory_ids: Option<Vec<Uuid>>,
}

/// Make a share link: a read-only public view of the couple's profile, counter,
/// perspectives and the chosen memories.
#[utoipa::path(tag = "memories", security(("bearer" = [])), request_body = ShareRequest, responses(
    (status = 201, description = "Created; the token is shown only now", body = CreatedShareBody),
    (status = 400, description = "`invalid_json`, `unknown_field`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`too_many_shares`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: expires_at `in_past`; memory_ids `required` `too_long` `not_found`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/couple/shares")]
pub(super) async fn create_share(
    app: App,
    auth: Auth,
    body: web::Json<ShareRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let created = app
        .memories
        .create_share(
            &auth.0,
            ShareInput {
                expires_at: b.expires_at,
                memory_ids: b.memory_ids,
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/couple/shares/{}", created.share.id.0),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedShareBody {
            share: ShareBody::new(&created.share, ShareState::Active),
            url: format!("/api/v1/public/{}", created.token),
            token: created.token,
        }))
}

/// The couple's share links, oldest first, in every state.
#[utoipa::path(tag = "memories", security(("bearer" = [])), responses(
    (status = 200, description = "The shares", body = [ShareBody]),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/couple/shares")]
pub(super) async fn list_shares(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let shares = app.memories.shares(&auth.0).await?;
    Ok(HttpResponse::Ok().json(
        shares
            .iter()
            .map(|(s, state)| ShareBody::new(s, *state))
            .collect::<Vec<_>>(),
    ))
}

/// Revoke a share link at once (revoking it again changes nothing).
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Revoked"),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[delete("/couple/shares/{id}")]
pub(super) async fn revoke_share(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.memories.revoke_share(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
