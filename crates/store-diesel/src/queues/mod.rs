//! SmartQueue's repositories in SQL: the registry on [`crate::tx::DieselTx`], a tenant's rows
//! on its bound view [`crate::tx::TenantView`] (every statement adds `tenant_id = …`, and on
//! PostgreSQL the view sets the tenant for row-level security first).

mod agents;
mod catalogue;
mod customers;
mod invitations;
mod members;
mod tenants;
mod tickets;

use accueil_domain::identity::{Language, TimeZone};
use accueil_domain::queues::{Role, Slug, Tenant, TenantId, TenantName};
use accueil_ports::StoreError;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::tenant_members;
use crate::tx::{naive, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::tenants)]
struct TenantRow {
    id: String,
    slug: String,
    name: String,
    time_zone: String,
    locale: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("corrupt {what}: {value:?}"))
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId(uuid(&r.id)?),
            slug: Slug::from_trusted(r.slug),
            name: TenantName::from_trusted(r.name),
            time_zone: TimeZone::parse(&r.time_zone)
                .map_err(|_| corrupt("tenant time zone", &r.time_zone))?,
            locale: Language::parse(&r.locale)
                .ok_or_else(|| corrupt("tenant locale", &r.locale))?,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            deleted_at: r.deleted_at.map(utc),
        })
    }
}

impl From<&Tenant> for TenantRow {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            slug: t.slug.as_str().to_owned(),
            name: t.name.as_str().to_owned(),
            time_zone: t.time_zone.as_str().to_owned(),
            locale: t.locale.as_str().to_owned(),
            created_at: naive(t.created_at),
            updated_at: naive(t.updated_at),
            deleted_at: t.deleted_at.map(naive),
        }
    }
}

/// A membership's columns, as [`MemberRow`] holds them.
fn member_columns() -> (
    tenant_members::user_id,
    tenant_members::role,
    tenant_members::created_at,
    tenant_members::updated_at,
) {
    (
        tenant_members::user_id,
        tenant_members::role,
        tenant_members::created_at,
        tenant_members::updated_at,
    )
}

/// A membership's row: user, role, joined, changed.
type MemberRow = (String, String, NaiveDateTime, NaiveDateTime);

fn role(raw: &str) -> Result<Role, StoreError> {
    Role::parse(raw).ok_or_else(|| corrupt("member role", raw))
}
