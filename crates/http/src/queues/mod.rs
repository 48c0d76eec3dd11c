//! SmartQueue routes under `/api/v1/tenants`, one file per aggregate: tenants (the caller's
//! list, creation, one tenant, its settings), members, invitations (with
//! `/api/v1/tenant-invitations/accept`), the catalogue (sites, services, queues, counters),
//! customers and agents. Everything under
//! `/tenants/{slug}` answers 404 `tenant_not_found` to a non-member, as for a tenant that does
//! not exist, and 403 `missing_scope` (naming the scope) to a member whose role lacks it.

mod agents;
#[macro_use]
mod catalogue;
mod customers;
mod invitations;
mod members;
mod tenants;
mod tickets;

use accueil_app::StoreError;
use accueil_app::identity::AuthError;
use accueil_app::queues::InTenantError;
use accueil_app::scope::TenantDenied;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problems::Spec;

pub(crate) use tenants::TenantBody;

/// Registers the SmartQueue routes (inside `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(tenants::configure)
        .configure(members::configure)
        .configure(invitations::configure)
        .configure(catalogue::configure)
        .configure(customers::configure)
        .configure(agents::configure)
        .configure(tickets::configure);
}

crate::problems!(TenantDenied {
    via Auth(AuthError);
    NotFound => Spec::new(404, "tenant_not_found", "no tenant has this slug, or the caller is not one of its members"),
    MissingScope(_) => Spec::new(403, "missing_scope", "the caller's role in the tenant lacks the scope this operation requires (named in `detail`; the table is in docs/api.md)"),
});

crate::problems!(InTenantError {
    via Denied(TenantDenied), Store(StoreError);
});
