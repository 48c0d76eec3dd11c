//! A tenant's catalogue: `/api/v1/tenants/{slug}/sites`, `…/services`, `…/queues` and
//! `…/counters` (`GET` a page, `POST` one) and `…/{id}` (`GET`, `PATCH`, `DELETE`), and
//! `POST …/queues/{id}/join-token` (a new join link).

use accueil_app::queues::{
    ChangeItemError, CreateItemError, InTenantError, InTenantLookupError, RemoveItemError,
};
use accueil_domain::queues::{
    Counter, CounterChanges, NewCounter, NewQueue, NewService, NewSite, NumberingFields, Queue,
    QueueChanges, Service, ServiceChanges, Site, SiteChanges,
};
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Auth;
use crate::couples::Paging;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Query, Valid, patch_of};
use crate::problems::{Errors, InvalidCursor, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_sites)
        .service(create_site)
        .service(get_site)
        .service(update_site)
        .service(delete_site)
        .service(list_services)
        .service(create_service)
        .service(get_service)
        .service(update_service)
        .service(delete_service)
        .service(list_queues)
        .service(create_queue)
        .service(get_queue)
        .service(update_queue)
        .service(delete_queue)
        .service(rotate_join_token)
        .service(list_counters)
        .service(create_counter)
        .service(get_counter)
        .service(update_counter)
        .service(delete_counter);
}

crate::problems!(InTenantLookupError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
});

crate::problems!(CreateItemError {
    via Denied(accueil_app::scope::TenantDenied), Invalid(ValidationErrors), Store(accueil_app::StoreError);
});

crate::problems!(ChangeItemError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), Invalid(ValidationErrors), Store(accueil_app::StoreError);
});

crate::problems!(RemoveItemError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
    InUse(_) => Spec::new(409, "in_use", "other items still refer to this one (a site's services or counters, a service's queues, a queue's tickets): `detail` says which"),
});

/// `201 Created` with `Location: /api/v1/tenants/{slug}/{what}/{id}`.
pub(super) fn created(slug: &str, what: &str, id: Uuid, body: impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/tenants/{slug}/{what}/{id}"),
        ))
        .json(body)
}

/// A page of items.
#[derive(Serialize, ToSchema)]
pub struct ItemPage<T> {
    /// In creation order.
    pub items: Vec<T>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

impl<T> ItemPage<T> {
    pub(super) fn of<I>(page: &accueil_app::couples::Page<I>, body: impl Fn(&I) -> T) -> Self {
        Self {
            items: page.items.iter().map(body).collect(),
            next_cursor: page.next.map(|id| id.simple().to_string()),
        }
    }
}

/// A site.
#[derive(Serialize, ToSchema)]
pub struct SiteBody {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// IANA time zone, when not the tenant's.
    pub time_zone: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Site> for SiteBody {
    fn from(s: &Site) -> Self {
        Self {
            id: s.id,
            name: s.name.as_str().to_owned(),
            address: s.address.as_ref().map(|a| a.as_str().to_owned()),
            time_zone: s.time_zone.as_ref().map(|z| z.as_str().to_owned()),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A site to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteRequest {
    /// 1 to 100 characters.
    #[schema(example = "Head office", format = "text:100")]
    pub name: String,
    /// Postal address, 1 to 300 characters on one line.
    #[schema(format = "text:300")]
    pub address: Option<String>,
    /// IANA time zone, when not the tenant's.
    #[schema(format = "time-zone")]
    pub time_zone: Option<String>,
}

impl FromBody for NewSite {
    type Body = SiteRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewSite::parse(&b.name, b.address.as_deref(), b.time_zone.as_deref())
    }
}

/// Site changes: absent fields are kept; `null` clears the address or the zone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatchRequest {
    /// 1 to 100 characters.
    #[schema(format = "text:100")]
    pub name: Option<String>,
    /// Postal address, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:300")]
    pub address: Option<Option<String>>,
    /// IANA time zone, or `null` for the tenant's.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "time-zone")]
    pub time_zone: Option<Option<String>>,
}

impl FromBody for SiteChanges {
    type Body = SitePatchRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        SiteChanges::parse(
            b.name.as_deref(),
            patch_of(b.address),
            patch_of(b.time_zone),
        )
    }
}

/// A service.
#[derive(Serialize, ToSchema)]
pub struct ServiceBody {
    /// Id.
    pub id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Name.
    pub name: String,
    /// Its ticket numbers' prefix (`A` in `A-001`).
    pub prefix: String,
    /// The first number of each local day.
    pub range_start: u32,
    /// The last.
    pub range_end: u32,
    /// The most tickets a day, if capped.
    pub daily_cap: Option<u32>,
    /// The time a ticket takes, in minutes, before any was served (the ETA's starting point).
    pub avg_service_minutes: u32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Service> for ServiceBody {
    fn from(s: &Service) -> Self {
        Self {
            id: s.id,
            site_id: s.site_id,
            name: s.name.as_str().to_owned(),
            prefix: s.prefix.as_str().to_owned(),
            range_start: s.numbering.first,
            range_end: s.numbering.last,
            daily_cap: s.numbering.cap,
            avg_service_minutes: s.avg_service_minutes,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A service to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    /// One of the tenant's sites.
    pub site_id: Uuid,
    /// 1 to 100 characters.
    #[schema(example = "Accounts", format = "text:100")]
    pub name: String,
    /// 1 to 3 capital letters.
    #[schema(example = "A", format = "prefix")]
    pub prefix: String,
    /// First number of a day, 1 to 9999 (default 1).
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 9999)]
    pub range_start: Option<i64>,
    /// Last number of a day, `range_start` to 9999 (default 999).
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 9999)]
    pub range_end: Option<i64>,
    /// At most this many tickets a day (default: no cap).
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 9999)]
    pub daily_cap: Option<i64>,
    /// Minutes a ticket takes before any was served, 1 to 480 (default 5).
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 480)]
    pub avg_service_minutes: Option<i64>,
}

impl FromBody for NewService {
    type Body = ServiceRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewService::parse(
            b.site_id,
            &b.name,
            &b.prefix,
            NumberingFields {
                range_start: b.range_start,
                range_end: b.range_end,
                daily_cap: b.daily_cap.map_or(
                    accueil_domain::validation::Patch::Keep,
                    accueil_domain::validation::Patch::Set,
                ),
            },
            b.avg_service_minutes,
        )
    }
}

/// Service changes: absent fields are kept; `null` removes the cap. Its site never changes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatchRequest {
    /// 1 to 100 characters.
    #[schema(format = "text:100")]
    pub name: Option<String>,
    /// 1 to 3 capital letters (tickets taken keep theirs).
    #[schema(format = "prefix")]
    pub prefix: Option<String>,
    /// First number of a day.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 9999)]
    pub range_start: Option<i64>,
    /// Last number of a day, at least `range_start`.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 9999)]
    pub range_end: Option<i64>,
    /// Daily cap, or `null` for none.
    #[serde(default, deserialize_with = "crate::json::nullable_integer")]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 9999)]
    pub daily_cap: Option<Option<i64>>,
    /// Minutes a ticket takes before any was served.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 480)]
    pub avg_service_minutes: Option<i64>,
}

impl FromBody for ServiceChanges {
    type Body = ServicePatchRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        ServiceChanges::parse(
            b.name.as_deref(),
            b.prefix.as_deref(),
            NumberingFields {
                range_start: b.range_start,
                range_end: b.range_end,
                daily_cap: patch_of(b.daily_cap),
            },
            b.avg_service_minutes,
        )
    }
}

/// A queue.
#[derive(Serialize, ToSchema)]
pub struct QueueBody {
    /// Id.
    pub id: Uuid,
    /// Its service.
    pub service_id: Uuid,
    /// Name.
    pub name: String,
    /// `FIFO` or `PRIORITY`.
    pub algorithm: &'static str,
    /// Whether tickets can be taken.
    pub is_open: bool,
    /// The most tickets waiting at once, if limited.
    pub max_waiting: Option<u32>,
    /// Minutes of waiting that raise a ticket's priority one level (PRIORITY; 0: none).
    pub aging_minutes: u32,
    /// The secret of the public join link (`POST /api/v1/public/queues/{join_token}/tickets`);
    /// `POST …/join-token` replaces it.
    pub join_token: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Queue> for QueueBody {
    fn from(q: &Queue) -> Self {
        Self {
            id: q.id,
            service_id: q.service_id,
            name: q.name.as_str().to_owned(),
            algorithm: q.algorithm.as_str(),
            is_open: q.is_open,
            max_waiting: q.max_waiting,
            aging_minutes: q.aging_minutes,
            join_token: q.join_token.clone(),
            created_at: q.created_at,
            updated_at: q.updated_at,
        }
    }
}

/// A queue to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueRequest {
    /// One of the tenant's services.
    pub service_id: Uuid,
    /// 1 to 100 characters.
    #[schema(example = "Main", format = "text:100")]
    pub name: String,
    /// `FIFO` (default) or `PRIORITY`.
    #[schema(format = "enum:FIFO,PRIORITY")]
    pub algorithm: Option<String>,
    /// Open (default) or closed.
    pub is_open: Option<bool>,
    /// 1 to 10000 waiting at once (default: no limit).
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_waiting: Option<i64>,
    /// 0 (default, no aging) to 1440.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 0, maximum = 1440)]
    pub aging_minutes: Option<i64>,
}

impl FromBody for NewQueue {
    type Body = QueueRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewQueue::parse(
            b.service_id,
            &b.name,
            b.algorithm.as_deref(),
            b.is_open,
            b.max_waiting,
            b.aging_minutes,
        )
    }
}

/// Queue changes: absent fields are kept; `null` removes the limit. Its service never changes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueuePatchRequest {
    /// 1 to 100 characters.
    #[schema(format = "text:100")]
    pub name: Option<String>,
    /// `FIFO` or `PRIORITY`.
    #[schema(format = "enum:FIFO,PRIORITY")]
    pub algorithm: Option<String>,
    /// Open or close it.
    pub is_open: Option<bool>,
    /// 1 to 10000, or `null` for no limit.
    #[serde(default, deserialize_with = "crate::json::nullable_integer")]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 10000)]
    pub max_waiting: Option<Option<i64>>,
    /// 0 to 1440.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 0, maximum = 1440)]
    pub aging_minutes: Option<i64>,
}

impl FromBody for QueueChanges {
    type Body = QueuePatchRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        QueueChanges::parse(
            b.name.as_deref(),
            b.algorithm.as_deref(),
            b.is_open,
            patch_of(b.max_waiting),
            b.aging_minutes,
        )
    }
}

/// A counter (desk).
#[derive(Serialize, ToSchema)]
pub struct CounterBody {
    /// Id.
    pub id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Counter> for CounterBody {
    fn from(c: &Counter) -> Self {
        Self {
            id: c.id,
            site_id: c.site_id,
            name: c.name.as_str().to_owned(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A counter to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterRequest {
    /// One of the tenant's sites.
    pub site_id: Uuid,
    /// 1 to 100 characters.
    #[schema(example = "Desk 1", format = "text:100")]
    pub name: String,
}

impl FromBody for NewCounter {
    type Body = CounterRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewCounter::parse(b.site_id, &b.name)
    }
}

/// Counter changes. Its site never changes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterPatchRequest {
    /// 1 to 100 characters.
    #[schema(format = "text:100")]
    pub name: Option<String>,
}

impl FromBody for CounterChanges {
    type Body = CounterPatchRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        CounterChanges::parse(b.name.as_deref())
    }
}

/// The five routes of one kind of item inside a tenant: a page, one, create, change, delete.
/// Each handler parses, calls its use case and maps the answer; the docs are given whole, so
/// the document says each operation's scope.
macro_rules! item_routes {
    (
        $collection:tt, $item:tt, $segment:tt, $Body:ident, $Page:ty,
        list $list:ident => $app_list:ident, $list_doc:tt;
        create $create:ident($New:ty, $NewReq:ty) => $app_create:ident, $CreateErr:ty, $create_doc:tt;
        get $get:ident => $app_get:ident, $get_doc:tt;
        update $update:ident($Changes:ty, $PatchReq:ty) => $app_edit:ident, $EditErr:ty, $update_doc:tt;
        delete $delete:ident => $app_delete:ident, $DeleteErr:ty, $delete_doc:tt;
    ) => {
        #[doc = $list_doc]
        #[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug"), crate::couples::PageParams), responses(
            (status = 200, description = "A page, in creation order", body = $Page),
            Errors<(InTenantError, InvalidCursor)>,
        ))]
        #[get($collection)]
        async fn $list(
            app: App,
            auth: Auth,
            slug: web::Path<String>,
            Query(page): Query<Paging>,
        ) -> Result<HttpResponse, ApiError> {
            let page = app.queues.$app_list(&auth.0, &slug, page.after, page.limit).await?;
            Ok(HttpResponse::Ok().json(ItemPage::of(&page, |i| $Body::from(i))))
        }

        #[doc = $create_doc]
        #[utoipa::path(tag = "tenants", security(("bearer" = [])), params(("slug" = String, Path, description = "The tenant's slug")), request_body = $NewReq, responses(
            (status = 201, description = "Created; `Location` is its URL", body = $Body),
            Errors<$CreateErr>,
        ))]
        #[post($collection)]
        async fn $create(
            app: App,
            auth: Auth,
            slug: web::Path<String>,
            Valid(new): Valid<$New>,
        ) -> Result<HttpResponse, ApiError> {
            let made = app.queues.$app_create(&auth.0, &slug, new).await?;
            Ok(created(&slug, $segment, made.id, $Body::from(&made)))
        }

        #[doc = $get_doc]
        #[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
            ("slug" = String, Path, description = "The tenant's slug"),
            ("id" = Uuid, Path, description = "Its id"),
        ), responses(
            (status = 200, description = "Found", body = $Body),
            Errors<InTenantLookupError>,
        ))]
        #[get($item)]
        async fn $get(
            app: App,
            auth: Auth,
            path: web::Path<(String, Uuid)>,
        ) -> Result<HttpResponse, ApiError> {
            let (slug, id) = path.into_inner();
            let found = app.queues.$app_get(&auth.0, &slug, id).await?;
            Ok(HttpResponse::Ok().json($Body::from(&found)))
        }

        #[doc = $update_doc]
        #[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
            ("slug" = String, Path, description = "The tenant's slug"),
            ("id" = Uuid, Path, description = "Its id"),
        ), request_body = $PatchReq, responses(
            (status = 200, description = "Changed", body = $Body),
            Errors<$EditErr>,
        ))]
        #[patch($item)]
        async fn $update(
            app: App,
            auth: Auth,
            path: web::Path<(String, Uuid)>,
            Valid(changes): Valid<$Changes>,
        ) -> Result<HttpResponse, ApiError> {
            let (slug, id) = path.into_inner();
            let changed = app.queues.$app_edit(&auth.0, &slug, id, changes).await?;
            Ok(HttpResponse::Ok().json($Body::from(&changed)))
        }

        #[doc = $delete_doc]
        #[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
            ("slug" = String, Path, description = "The tenant's slug"),
            ("id" = Uuid, Path, description = "Its id"),
        ), responses(
            (status = 204, description = "Deleted"),
            Errors<$DeleteErr>,
        ))]
        #[delete($item)]
        async fn $delete(
            app: App,
            auth: Auth,
            path: web::Path<(String, Uuid)>,
        ) -> Result<HttpResponse, ApiError> {
            let (slug, id) = path.into_inner();
            app.queues.$app_delete(&auth.0, &slug, id).await?;
            Ok(HttpResponse::NoContent().finish())
        }
    };
}

item_routes! {
    "/tenants/{slug}/sites", "/tenants/{slug}/sites/{id}", "sites", SiteBody, ItemPage<SiteBody>,
    list list_sites => sites, "The tenant's sites (`catalogue:read`).";
    create create_site(NewSite, SiteRequest) => create_site, InTenantError, "Create a site (`catalogue:write`).";
    get get_site => site, "One site (`catalogue:read`).";
    update update_site(SiteChanges, SitePatchRequest) => edit_site, InTenantLookupError, "Change a site (`catalogue:write`).";
    delete delete_site => delete_site, RemoveItemError, "Delete a site that has no services or counters (`catalogue:write`).";
}

item_routes! {
    "/tenants/{slug}/services", "/tenants/{slug}/services/{id}", "services", ServiceBody, ItemPage<ServiceBody>,
    list list_services => services, "The tenant's services (`catalogue:read`).";
    create create_service(NewService, ServiceRequest) => create_service, CreateItemError, "Create a service at one of the tenant's sites (`catalogue:write`).";
    get get_service => service, "One service (`catalogue:read`).";
    update update_service(ServiceChanges, ServicePatchRequest) => edit_service, ChangeItemError, "Change a service (`catalogue:write`); its range is checked whole (422 `before_range_start`).";
    delete delete_service => delete_service, RemoveItemError, "Delete a service that has no queues (`catalogue:write`).";
}

item_routes! {
    "/tenants/{slug}/queues", "/tenants/{slug}/queues/{id}", "queues", QueueBody, ItemPage<QueueBody>,
    list list_queues => queues, "The tenant's queues (`catalogue:read`).";
    create create_queue(NewQueue, QueueRequest) => create_queue, CreateItemError, "Create a queue for one of the tenant's services, with its join link (`catalogue:write`).";
    get get_queue => queue, "One queue (`catalogue:read`).";
    update update_queue(QueueChanges, QueuePatchRequest) => edit_queue, InTenantLookupError, "Change a queue: open or close it, its algorithm, limits and aging (`catalogue:write`).";
    delete delete_queue => delete_queue, RemoveItemError, "Delete a queue that has no tickets; agents stop serving it (`catalogue:write`).";
}

item_routes! {
    "/tenants/{slug}/counters", "/tenants/{slug}/counters/{id}", "counters", CounterBody, ItemPage<CounterBody>,
    list list_counters => counters, "The tenant's counters (`catalogue:read`).";
    create create_counter(NewCounter, CounterRequest) => create_counter, CreateItemError, "Create a counter at one of the tenant's sites (`catalogue:write`).";
    get get_counter => counter, "One counter (`catalogue:read`).";
    update update_counter(CounterChanges, CounterPatchRequest) => edit_counter, InTenantLookupError, "Rename a counter (`catalogue:write`).";
    delete delete_counter => delete_counter, RemoveItemError, "Delete a counter; agents at it are at none (`catalogue:write`).";
}

/// Give a queue a new join link; the old one stops working at once (`catalogue:write`).
#[utoipa::path(tag = "tenants", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("id" = Uuid, Path, description = "The queue's id"),
), responses(
    (status = 200, description = "The queue, with its new `join_token`", body = QueueBody),
    Errors<InTenantLookupError>,
))]
#[post("/tenants/{slug}/queues/{id}/join-token")]
async fn rotate_join_token(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let queue = app.queues.rotate_join_token(&auth.0, &slug, id).await?;
    Ok(HttpResponse::Ok().json(QueueBody::from(&queue)))
}
