//! Share-link routes: `/api/v1/couple/shares*`.

use accueil_app::couples::{InCoupleError, InCoupleLookupError};
use accueil_app::memories::ShareError;
use accueil_domain::memories::{NewShare, Share, ShareScope, ShareState};
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Valid};
use crate::problems::{Errors, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_share)
        .service(list_shares)
        .service(revoke_share);
}

crate::problems!(ShareError {
    via Denied(accueil_app::couples::CoupleDenied), Invalid(ValidationErrors), Store(accueil_app::StoreError);
    TooMany { .. } => Spec::new(409, "too_many_shares", "the couple has as many active share links as allowed (`ACCUEIL_MAX_ACTIVE_SHARES`)"),
});

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
    pub(crate) fn of(s: &Share, state: ShareState) -> Self {
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
    #[schema(min_items = 1, max_items = 500)]
    pub memory_ids: Option<Vec<Uuid>>,
}

impl FromBody for NewShare {
    type Body = ShareRequest;

    fn from_body(b: Self::Body, now: Now) -> Result<Self, ValidationErrors> {
        NewShare::parse(b.expires_at, b.memory_ids, now)
    }
}

/// Make a share link: a read-only public view of the couple's profile, counter,
/// perspectives and the chosen memories.
#[utoipa::path(tag = "memories", security(("bearer" = [])), request_body = ShareRequest, responses(
    (status = 201, description = "Created; the token is shown only now", body = CreatedShareBody),
    Errors<ShareError>,
))]
#[post("/couple/shares")]
async fn create_share(
    app: App,
    auth: Auth,
    Valid(new): Valid<NewShare>,
) -> Result<HttpResponse, ApiError> {
    let created = app.memories.create_share(&auth.0, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/couple/shares/{}", created.share.id.0),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedShareBody {
            share: ShareBody::of(&created.share, ShareState::Active),
            url: format!("/api/v1/public/{}", created.token),
            token: created.token,
        }))
}

/// The couple's share links, oldest first, in every state.
#[utoipa::path(tag = "memories", security(("bearer" = [])), responses(
    (status = 200, description = "The shares", body = [ShareBody]),
    Errors<InCoupleError>,
))]
#[get("/couple/shares")]
async fn list_shares(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let shares = app.memories.shares(&auth.0).await?;
    Ok(HttpResponse::Ok().json(
        shares
            .iter()
            .map(|(s, state)| ShareBody::of(s, *state))
            .collect::<Vec<_>>(),
    ))
}

/// Revoke a share link at once (revoking it again changes nothing).
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Revoked"),
    Errors<InCoupleLookupError>,
))]
#[delete("/couple/shares/{id}")]
async fn revoke_share(app: App, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    app.memories.revoke_share(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
