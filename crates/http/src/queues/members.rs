//! A tenant's members: `GET /api/v1/tenants/{slug}/members`,
//! `PATCH`/`DELETE /api/v1/tenants/{slug}/members/{user_id}`.

use accueil_app::queues::{InTenantError, MemberError};
use accueil_domain::identity::UserId;
use accueil_domain::queues::{Member, Role};
use accueil_domain::validation::ValidationErrors;
use actix_web::{HttpResponse, delete, get, patch, web};
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
    cfg.service(list_members)
        .service(change_role)
        .service(remove_member);
}

crate::problems!(MemberError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
    LastAdmin(_) => Spec::new(409, "last_admin", "the tenant would be left without an ADMIN: make another member ADMIN first"),
});

/// A member of a tenant.
#[derive(Serialize, ToSchema)]
pub struct MemberBody {
    /// Their user id.
    pub user_id: Uuid,
    /// Their address.
    pub email: String,
    /// Their display name, if they chose one.
    pub display_name: Option<String>,
    /// `ADMIN`, `MANAGER` or `AGENT`.
    pub role: &'static str,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// Last change of their role.
    pub updated_at: DateTime<Utc>,
}

impl From<&Member> for MemberBody {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.membership.user.0,
            email: m.email.as_str().to_owned(),
            display_name: m.display_name.as_ref().map(|d| d.as_str().to_owned()),
            role: m.membership.role.as_str(),
            joined_at: m.membership.created_at,
            updated_at: m.membership.updated_at,
        }
    }
}

/// The members.
#[derive(Serialize, ToSchema)]
pub struct MemberList {
    /// By address.
    pub items: Vec<MemberBody>,
}

/// A new role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `ADMIN`, `MANAGER` or `AGENT`.
    #[schema(example = "MANAGER", format = "enum:ADMIN,MANAGER,AGENT")]
    pub role: String,
}

impl FromBody for Role {
    type Body = RoleRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        Role::parse_field(&b.role).map_err(|e| ValidationErrors(vec![e]))
    }
}

/// The tenant's members (`members:read`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), responses(
    (status = 200, description = "The members", body = MemberList),
    Errors<InTenantError>,
))]
#[get("/tenants/{slug}/members")]
async fn list_members(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let members = app.queues.members(&auth.0, &slug).await?;
    Ok(HttpResponse::Ok().json(MemberList {
        items: members.iter().map(MemberBody::from).collect(),
    }))
}

/// Give a member another role (`tenant:admin`); the tenant keeps at least one ADMIN.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("user_id" = Uuid, Path, description = "The member's user id"),
), request_body = RoleRequest, responses(
    (status = 200, description = "The member", body = MemberBody),
    Errors<MemberError>,
))]
#[patch("/tenants/{slug}/members/{user_id}")]
async fn change_role(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
    Valid(role): Valid<Role>,
) -> Result<HttpResponse, ApiError> {
    let (slug, user) = path.into_inner();
    let member = app
        .queues
        .change_role(&auth.0, &slug, UserId(user), role)
        .await?;
    Ok(HttpResponse::Ok().json(MemberBody::from(&member)))
}

/// Remove a member (`tenant:admin`), or leave the tenant (one's own user id, any member); the
/// last ADMIN cannot go.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("user_id" = Uuid, Path, description = "The member's user id"),
), responses(
    (status = 204, description = "Removed"),
    Errors<MemberError>,
))]
#[delete("/tenants/{slug}/members/{user_id}")]
async fn remove_member(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, user) = path.into_inner();
    app.queues
        .remove_member(&auth.0, &slug, UserId(user))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
