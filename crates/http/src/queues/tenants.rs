//! Tenants: `GET`/`POST /api/v1/tenants`, `GET`/`PATCH /api/v1/tenants/{slug}`.

use accueil_app::identity::AuthError;
use accueil_app::queues::{CreateTenantError, InTenantError, TenantView};
use accueil_domain::queues::{NewTenant, TenantChanges};
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
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
    cfg.service(list_tenants)
        .service(create_tenant)
        .service(get_tenant)
        .service(update_tenant)
        .service(delete_tenant)
        .service(export_tenant);
}

crate::problems!(CreateTenantError {
    via Auth(AuthError), Store(accueil_app::StoreError);
    Unverified => Spec::new(403, "email_not_verified", "verify your e-mail address first (`POST /api/v1/auth/resend-verification`)"),
    SlugTaken => Spec::new(409, "slug_taken", "another tenant has this slug"),
});

/// A tenant, with the caller's role in it.
#[derive(Serialize, ToSchema)]
pub struct TenantBody {
    /// Id.
    pub id: Uuid,
    /// Its name in URLs, unique and unchanging.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// IANA time zone of its local day (ticket numbers restart at its midnight).
    pub time_zone: String,
    /// Default language of its customers' messages: `en` or `fr`.
    pub locale: String,
    /// The caller's role: `ADMIN`, `MANAGER` or `AGENT`.
    pub role: &'static str,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of its settings.
    pub updated_at: DateTime<Utc>,
}

impl From<&TenantView> for TenantBody {
    fn from(v: &TenantView) -> Self {
        let t = &v.tenant;
        Self {
            id: t.id.0,
            slug: t.slug.as_str().to_owned(),
            name: t.name.as_str().to_owned(),
            time_zone: t.time_zone.as_str().to_owned(),
            locale: t.locale.as_str().to_owned(),
            role: v.role.as_str(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// The caller's tenants.
#[derive(Serialize, ToSchema)]
pub struct TenantList {
    /// By slug.
    pub items: Vec<TenantBody>,
}

/// A tenant to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantRequest {
    /// 3 to 40 of `a-z`, `0-9` and single hyphens, starting with a letter, not ending with a
    /// hyphen; unique, never changes.
    #[schema(example = "acme", format = "slug")]
    pub slug: String,
    /// Display name, up to 100 characters.
    #[schema(format = "text:100")]
    pub name: String,
    /// IANA time zone (`Europe/Paris`).
    #[schema(format = "time-zone")]
    pub time_zone: String,
    /// `en` (default) or `fr`.
    #[schema(format = "enum:en,fr")]
    pub locale: Option<String>,
}

impl FromBody for NewTenant {
    type Body = TenantRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewTenant::parse(&b.slug, &b.name, &b.time_zone, b.locale.as_deref())
    }
}

/// Settings changes: absent (or `null`) fields are kept.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchRequest {
    /// Display name, up to 100 characters.
    #[schema(format = "text:100")]
    pub name: Option<String>,
    /// IANA time zone.
    #[schema(format = "time-zone")]
    pub time_zone: Option<String>,
    /// `en` or `fr`.
    #[schema(format = "enum:en,fr")]
    pub locale: Option<String>,
}

impl FromBody for TenantChanges {
    type Body = TenantPatchRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        TenantChanges::parse(
            b.name.as_deref(),
            b.time_zone.as_deref(),
            b.locale.as_deref(),
        )
    }
}

/// The caller's tenants, with their role in each.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), responses(
    (status = 200, description = "The caller's tenants", body = TenantList),
    Errors<AuthError>,
))]
#[get("/tenants")]
async fn list_tenants(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let mine = app.queues.my_tenants(&auth.0).await?;
    Ok(HttpResponse::Ok().json(TenantList {
        items: mine.iter().map(TenantBody::from).collect(),
    }))
}

/// Create a tenant (a verified address is required); the caller becomes its ADMIN.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), request_body = TenantRequest, responses(
    (status = 201, description = "Created; `Location` is the tenant's URL", body = TenantBody),
    Errors<CreateTenantError>,
))]
#[post("/tenants")]
async fn create_tenant(
    app: App,
    auth: Auth,
    Valid(new): Valid<NewTenant>,
) -> Result<HttpResponse, ApiError> {
    let made = app.queues.create_tenant(&auth.0, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/tenants/{}", made.tenant.slug.as_str()),
        ))
        .json(TenantBody::from(&made)))
}

/// One of the caller's tenants (`tenant:read`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), responses(
    (status = 200, description = "The tenant", body = TenantBody),
    Errors<InTenantError>,
))]
#[get("/tenants/{slug}")]
async fn get_tenant(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = app.queues.tenant(&auth.0, &slug).await?;
    Ok(HttpResponse::Ok().json(TenantBody::from(&view)))
}

/// Change a tenant's name, time zone or locale (`tenant:admin`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), request_body = TenantPatchRequest, responses(
    (status = 200, description = "The tenant", body = TenantBody),
    Errors<InTenantError>,
))]
#[patch("/tenants/{slug}")]
async fn update_tenant(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
    Valid(changes): Valid<TenantChanges>,
) -> Result<HttpResponse, ApiError> {
    let view = app.queues.update_tenant(&auth.0, &slug, changes).await?;
    Ok(HttpResponse::Ok().json(TenantBody::from(&view)))
}

/// Delete a tenant (`tenant:admin`): gone at once for everyone (404 under its slug, out of
/// its members' lists), its data purged after 30 days; its slug stays taken until then.
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), responses(
    (status = 204, description = "Deleted"),
    Errors<InTenantError>,
))]
#[delete("/tenants/{slug}")]
async fn delete_tenant(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    app.queues.delete_tenant(&auth.0, &slug).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A tenant's data as JSON.
#[derive(Serialize, ToSchema)]
pub struct TenantExportBody {
    /// The tenant, with the caller's role.
    pub tenant: TenantBody,
    /// Its members.
    pub members: Vec<super::members::MemberBody>,
    /// Its pending invitations.
    pub invitations: Vec<super::invitations::InvitationBody>,
    /// Its sites.
    pub sites: Vec<super::catalogue::SiteBody>,
    /// Its services.
    pub services: Vec<super::catalogue::ServiceBody>,
    /// Its queues.
    pub queues: Vec<super::catalogue::QueueBody>,
    /// Its counters.
    pub counters: Vec<super::catalogue::CounterBody>,
    /// Its customers.
    pub customers: Vec<super::customers::CustomerBody>,
    /// The agent profiles its members set.
    pub agents: Vec<super::agents::AgentBody>,
    /// When this export was made.
    pub exported_at: DateTime<Utc>,
}

/// Everything the tenant holds, as JSON (`tenant:admin`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), responses(
    (status = 200, description = "The tenant's data", body = TenantExportBody),
    Errors<InTenantError>,
))]
#[get("/tenants/{slug}/export")]
async fn export_tenant(
    app: App,
    auth: Auth,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let export = app.queues.export_tenant(&auth.0, &slug).await?;
    let view = TenantView {
        tenant: export.tenant.clone(),
        role: accueil_domain::queues::Role::Admin,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TenantExportBody {
            tenant: TenantBody::from(&view),
            members: export
                .members
                .iter()
                .map(super::members::MemberBody::from)
                .collect(),
            invitations: export
                .invitations
                .iter()
                .map(super::invitations::InvitationBody::from)
                .collect(),
            sites: bodies(&export.sites),
            services: bodies(&export.services),
            queues: bodies(&export.queues),
            counters: bodies(&export.counters),
            customers: bodies(&export.customers),
            agents: bodies(&export.agents),
            exported_at: export.at,
        }))
}

/// Each item's body.
fn bodies<'a, T: 'a, B: From<&'a T>>(items: &'a [T]) -> Vec<B> {
    items.iter().map(B::from).collect()
}
