//! Invitations: `GET`/`POST /api/v1/tenants/{slug}/invitations`,
//! `DELETE /api/v1/tenants/{slug}/invitations/{id}`, `POST /api/v1/tenant-invitations/accept`.

use accueil_app::identity::AuthError;
use accueil_app::queues::{
    AcceptInvitationError, InTenantError, InviteError, RevokeInvitationError,
};
use accueil_domain::queues::{Invitation, InvitationProblem, NewInvitation};
use accueil_domain::validation::ValidationErrors;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::tenants::TenantBody;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Valid};
use crate::problems::{Errors, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(invite)
        .service(list_invitations)
        .service(revoke_invitation)
        .service(accept_invitation);
}

crate::problems!(InviteError {
    via Denied(accueil_app::scope::TenantDenied), RateLimited(accueil_app::identity::RateLimited), Store(accueil_app::StoreError);
    AlreadyMember => Spec::new(409, "already_member", "the address is a member's already"),
});

crate::problems!(RevokeInvitationError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
});

crate::problems!(InvitationProblem {
    via ;
    Unknown => Spec::new(400, "link_invalid", "the invitation link is not valid: revoked, replaced by a newer one, or never sent"),
    Used => Spec::new(400, "link_used", "the invitation was accepted already"),
    Expired => Spec::new(400, "link_expired", "the invitation has expired (7 days): ask for a new one"),
    OtherAddress => Spec::new(403, "invitation_for_another_address", "the invitation was sent to another address than this account's: sign in with the account of that address"),
});

crate::problems!(AcceptInvitationError {
    via Auth(AuthError), Invitation(InvitationProblem), Store(accueil_app::StoreError);
});

/// An invitation.
#[derive(Serialize, ToSchema)]
pub struct InvitationBody {
    /// Id.
    pub id: Uuid,
    /// The address it was sent to.
    pub email: String,
    /// The role the invitee gets: `ADMIN`, `MANAGER` or `AGENT`.
    pub role: &'static str,
    /// Who invited.
    pub invited_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Until when the link works.
    pub expires_at: DateTime<Utc>,
}

impl From<&Invitation> for InvitationBody {
    fn from(i: &Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email.as_str().to_owned(),
            role: i.role.as_str(),
            invited_by: i.invited_by.0,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// The pending invitations.
#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    /// Newest first.
    pub items: Vec<InvitationBody>,
}

/// An invitation to send.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    /// The invitee's address.
    #[schema(format = "email")]
    pub email: String,
    /// `ADMIN` (by an ADMIN only), `MANAGER` or `AGENT`.
    #[schema(example = "AGENT", format = "enum:ADMIN,MANAGER,AGENT")]
    pub role: String,
}

impl FromBody for NewInvitation {
    type Body = InvitationRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewInvitation::parse(&b.email, &b.role)
    }
}

/// The link's secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The `token` of the mailed link.
    pub token: String,
}

/// Invite an address to the tenant (`members:invite`; `tenant:admin` for an ADMIN). The mail,
/// with a single-use link valid 7 days, is sent in the tenant's locale; a newer invitation to
/// the same address replaces the older.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), request_body = InvitationRequest, responses(
    (status = 201, description = "Invited", body = InvitationBody),
    Errors<InviteError>,
))]
#[post("/tenants/{slug}/invitations")]
async fn invite(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
    Valid(new): Valid<NewInvitation>,
) -> Result<HttpResponse, ApiError> {
    let invitation = app.queues.invite(&auth.0, &slug, new).await?;
    Ok(HttpResponse::Created().json(InvitationBody::from(&invitation)))
}

/// The tenant's pending invitations (`members:read`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), responses(
    (status = 200, description = "Pending invitations", body = InvitationList),
    Errors<InTenantError>,
))]
#[get("/tenants/{slug}/invitations")]
async fn list_invitations(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pending = app.queues.invitations(&auth.0, &slug).await?;
    Ok(HttpResponse::Ok().json(InvitationList {
        items: pending.iter().map(InvitationBody::from).collect(),
    }))
}

/// Revoke a pending invitation (`members:invite`): its link stops working.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("id" = Uuid, Path, description = "The invitation's id"),
), responses(
    (status = 204, description = "Revoked"),
    Errors<RevokeInvitationError>,
))]
#[delete("/tenants/{slug}/invitations/{id}")]
async fn revoke_invitation(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    app.queues.revoke_invitation(&auth.0, &slug, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invitation, signed in to the account of the invited address: the caller becomes
/// a member with the invited role (a member already keeps theirs), and the link is spent.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), request_body = AcceptRequest, responses(
    (status = 200, description = "The tenant, with the caller's role", body = TenantBody),
    Errors<AcceptInvitationError>,
))]
#[post("/tenant-invitations/accept")]
async fn accept_invitation(
    app: App,
    auth: Auth,
    body: web::Json<AcceptRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = app
        .queues
        .accept_invitation(&auth.0, &body.into_inner().token)
        .await?;
    Ok(HttpResponse::Ok().json(TenantBody::from(&view)))
}
