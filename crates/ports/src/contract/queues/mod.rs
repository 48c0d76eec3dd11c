//! The queues ports' contracts, one file per repository; each check inside a tenant has a
//! second tenant whose rows must stay out of reach.

pub mod agents;
pub mod catalogue;
pub mod customers;
pub mod invitations;
pub mod members;
pub mod tenants;
pub mod tickets;

use accueil_domain::queues::{NewTenant, Tenant, TenantId};

use crate::contract::prelude::*;

/// Creates the tenant `slug` (Europe/Paris) with `admin` as its ADMIN.
pub(crate) async fn tenant(store: &Shared, slug: &str, admin: UserId) -> Tenant {
    let tenant = NewTenant::parse(slug, &format!("Tenant {slug}"), "Europe/Paris", Some("fr"))
        .unwrap()
        .into_tenant(TenantId(Uuid::now_v7()), t0());
    let t = tenant.clone();
    store
        .write(move |tx| tx.tenants().create_tenant(&t, admin))
        .await
        .unwrap();
    tenant
}
