//! Agent profiles: `GET`/`PATCH /api/v1/tenants/{slug}/agents/me`,
//! `GET /api/v1/tenants/{slug}/agents`, `PATCH /api/v1/tenants/{slug}/agents/{user_id}`.

use accueil_app::queues::{Agent, AgentChangeError, InTenantError};
use accueil_domain::identity::UserId;
use accueil_domain::queues::AgentChanges;
use accueil_domain::validation::ValidationErrors;
use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Valid, patch_of};
use crate::problems::Errors;

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    // `me` before `{user_id}`, though a user id is a UUID and `me` never one.
    cfg.service(get_my_agent)
        .service(update_my_agent)
        .service(list_agents)
        .service(update_agent);
}

crate::problems!(AgentChangeError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), Invalid(ValidationErrors), Store(accueil_app::StoreError);
});

/// A member and their agent profile.
#[derive(Serialize, ToSchema)]
pub struct AgentBody {
    /// The member's user id.
    pub user_id: Uuid,
    /// Their address.
    pub email: String,
    /// Their display name.
    pub display_name: Option<String>,
    /// `ADMIN`, `MANAGER` or `AGENT`.
    pub role: &'static str,
    /// `AVAILABLE`, `BUSY` (serving a ticket), `PAUSED` or `OFFLINE` (also when never set).
    pub status: &'static str,
    /// The counter they work at.
    pub counter_id: Option<Uuid>,
    /// The queues they serve, in the order given.
    pub queue_ids: Vec<Uuid>,
    /// Last change of the profile; `null` when never set.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&Agent> for AgentBody {
    fn from(a: &Agent) -> Self {
        Self {
            user_id: a.member.membership.user.0,
            email: a.member.email.as_str().to_owned(),
            display_name: a
                .member
                .display_name
                .as_ref()
                .map(|d| d.as_str().to_owned()),
            role: a.member.membership.role.as_str(),
            status: a.profile.status.as_str(),
            counter_id: a.profile.counter_id,
            queue_ids: a.profile.queue_ids.clone(),
            updated_at: a.profile.updated_at,
        }
    }
}

/// The tenant's agents.
#[derive(Serialize, ToSchema)]
pub struct AgentList {
    /// Every member, by address.
    pub items: Vec<AgentBody>,
}

/// Profile changes: absent fields are kept; `counter_id: null` leaves the counter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatchRequest {
    /// `AVAILABLE`, `PAUSED` or `OFFLINE` (`BUSY` follows the agent's tickets).
    #[schema(format = "enum:AVAILABLE,PAUSED,OFFLINE")]
    pub status: Option<String>,
    /// A counter of the tenant, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub counter_id: Option<Option<Uuid>>,
    /// The queues of the tenant to serve, each once, at most 50.
    #[schema(schema_with = queue_ids)]
    pub queue_ids: Option<Vec<Uuid>>,
}

/// `queue_ids`: distinct queue ids, at most 50 (the derive cannot say "distinct").
fn queue_ids() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .max_items(Some(accueil_domain::queues::agents::MAX_AGENT_QUEUES))
        .unique_items(true)
        .description(Some(
            "The queues of the tenant to serve, each once, at most 50.",
        ))
        .build()
}

impl FromBody for AgentChanges {
    type Body = AgentPatchRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        AgentChanges::parse(b.status.as_deref(), patch_of(b.counter_id), b.queue_ids)
    }
}

/// The caller's own agent profile (any member).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), responses(
    (status = 200, description = "The caller's profile", body = AgentBody),
    Errors<InTenantError>,
))]
#[get("/tenants/{slug}/agents/me")]
async fn get_my_agent(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let agent = app.queues.my_agent(&auth.0, &slug).await?;
    Ok(HttpResponse::Ok().json(AgentBody::from(&agent)))
}

/// Change the caller's status, counter or queues (`tickets:serve`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), request_body = AgentPatchRequest, responses(
    (status = 200, description = "The caller's profile", body = AgentBody),
    Errors<AgentChangeError>,
))]
#[patch("/tenants/{slug}/agents/me")]
async fn update_my_agent(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
    Valid(changes): Valid<AgentChanges>,
) -> Result<HttpResponse, ApiError> {
    let agent = app.queues.update_my_agent(&auth.0, &slug, changes).await?;
    Ok(HttpResponse::Ok().json(AgentBody::from(&agent)))
}

/// Every member with their agent profile (`agents:read`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), responses(
    (status = 200, description = "The agents", body = AgentList),
    Errors<InTenantError>,
))]
#[get("/tenants/{slug}/agents")]
async fn list_agents(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let agents = app.queues.agents(&auth.0, &slug).await?;
    Ok(HttpResponse::Ok().json(AgentList {
        items: agents.iter().map(AgentBody::from).collect(),
    }))
}

/// Change a member's status, counter or queues (`agents:manage`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("user_id" = Uuid, Path, description = "The member's user id"),
), request_body = AgentPatchRequest, responses(
    (status = 200, description = "The member's profile", body = AgentBody),
    Errors<AgentChangeError>,
))]
#[patch("/tenants/{slug}/agents/{user_id}")]
async fn update_agent(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
    Valid(changes): Valid<AgentChanges>,
) -> Result<HttpResponse, ApiError> {
    let (slug, user) = path.into_inner();
    let agent = app
        .queues
        .update_agent(&auth.0, &slug, UserId(user), changes)
        .await?;
    Ok(HttpResponse::Ok().json(AgentBody::from(&agent)))
}
