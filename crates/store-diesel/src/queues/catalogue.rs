//! A tenant's catalogue in SQL, on the view bound to it. Each statement filters by the bound
//! tenant; the references between items carry the tenant (composite foreign keys), so the
//! database refuses an item pointing into another tenant, and a delete that would orphan one
//! (`in use`).

use accueil_domain::identity::TimeZone;
use accueil_domain::queues::tickets::{Algorithm, Numbering};
use accueil_domain::queues::{Address, Counter, ItemName, Prefix, Queue, Service, Site};
use accueil_ports::StoreError;
use accueil_ports::queues::{CatalogueRepo, DeleteItemError, SaveItemError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use super::corrupt;
use crate::one::OneRow;
use crate::schema::{counters, queues, services, sites};
use crate::tx::{TenantView, all, naive, store_error, utc, uuid};

/// The smallest id: "after nothing" for the first page (no item has the nil id).
pub(super) const FIRST: &str = "00000000-0000-0000-0000-000000000000";

/// A page of the bound tenant's items of `$t`, as `$row`s converted.
macro_rules! page {
    ($view:ident, $t:ident, $row:ty, $after:ident, $limit:ident) => {{
        $view.bind()?;
        let after = $after.map_or_else(|| FIRST.to_owned(), |a| a.to_string());
        let rows: Vec<$row> = $t::table
            .filter($t::tenant_id.eq($view.tenant.to_string()))
            .filter($t::id.gt(after))
            .order($t::id.asc())
            .limit(i64::from($limit))
            .select(<$row>::as_select())
            .load($view.conn)
            .map_err(store_error)?;
        all(rows)
    }};
}
pub(super) use page;

/// One of the bound tenant's items of `$t`.
macro_rules! one {
    ($view:ident, $t:ident, $row:ty, $id:ident) => {{
        $view.bind()?;
        let row: Option<$row> = $t::table
            .filter($t::tenant_id.eq($view.tenant.to_string()))
            .filter($t::id.eq($id.to_string()))
            .select(<$row>::as_select())
            .one()
            .get_result($view.conn)
            .optional()
            .map_err(store_error)?;
        row.map(TryInto::try_into).transpose()
    }};
}
pub(super) use one;

/// Writes `$changes` to one of the bound tenant's items of `$t`; whether it exists.
macro_rules! update {
    ($view:ident, $t:ident, $id:expr, $changes:expr) => {{
        $view.writable()?;
        $view.bind()?;
        let n = diesel::update(
            $t::table
                .filter($t::tenant_id.eq($view.tenant.to_string()))
                .filter($t::id.eq($id.to_string())),
        )
        .set($changes)
        .execute($view.conn)
        .map_err(store_error)?;
        Ok(n > 0)
    }};
}
pub(super) use update;

/// Deletes one of the bound tenant's items of `$t`: whether it existed, `InUse` when others
/// refer to it.
macro_rules! delete {
    ($view:ident, $t:ident, $id:ident) => {{
        $view.writable()?;
        $view.bind()?;
        diesel::delete(
            $t::table
                .filter($t::tenant_id.eq($view.tenant.to_string()))
                .filter($t::id.eq($id.to_string())),
        )
        .execute($view.conn)
        .map(|n| n > 0)
        .map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                DeleteItemError::InUse
            }
            other => DeleteItemError::Store(store_error(other)),
        })
    }};
}

/// Inserts `$row` into `$t`: `ParentMissing` when the item it belongs to is not the tenant's.
macro_rules! insert_child {
    ($view:ident, $t:ident, $row:expr) => {{
        $view.writable()?;
        $view.bind()?;
        diesel::insert_into($t::table)
            .values($row)
            .execute($view.conn)
            .map(|_| ())
            .map_err(|e| match e {
                DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                    SaveItemError::ParentMissing
                }
                other => SaveItemError::Store(store_error(other)),
            })
    }};
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
struct SiteRow {
    id: String,
    tenant_id: String,
    name: String,
    address: Option<String>,
    time_zone: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<SiteRow> for Site {
    type Error = StoreError;
    fn try_from(r: SiteRow) -> Result<Self, StoreError> {
        Ok(Site {
            id: uuid(&r.id)?,
            name: ItemName::from_trusted(r.name),
            address: r.address.map(Address::from_trusted),
            time_zone: r
                .time_zone
                .map(|z| TimeZone::parse(&z).map_err(|_| corrupt("site time zone", &z)))
                .transpose()?,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
struct ServiceRow {
    id: String,
    tenant_id: String,
    site_id: String,
    name: String,
    prefix: String,
    range_start: i32,
    range_end: i32,
    daily_cap: Option<i32>,
    avg_service_minutes: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A stored count, which the domain keeps within `u32`.
fn count(what: &str, v: i32) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(what, &v.to_string()))
}

/// A count to store: the domain bounds every one well below `i32::MAX`.
fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;
    fn try_from(r: ServiceRow) -> Result<Self, StoreError> {
        Ok(Service {
            id: uuid(&r.id)?,
            site_id: uuid(&r.site_id)?,
            name: ItemName::from_trusted(r.name),
            prefix: Prefix::from_trusted(r.prefix),
            numbering: Numbering {
                first: count("range start", r.range_start)?,
                last: count("range end", r.range_end)?,
                cap: r.daily_cap.map(|c| count("daily cap", c)).transpose()?,
            },
            avg_service_minutes: count("service minutes", r.avg_service_minutes)?,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = queues)]
struct QueueRow {
    id: String,
    tenant_id: String,
    service_id: String,
    name: String,
    algorithm: String,
    is_open: bool,
    max_waiting: Option<i32>,
    aging_minutes: i32,
    join_token: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<QueueRow> for Queue {
    type Error = StoreError;
    fn try_from(r: QueueRow) -> Result<Self, StoreError> {
        Ok(Queue {
            id: uuid(&r.id)?,
            service_id: uuid(&r.service_id)?,
            name: ItemName::from_trusted(r.name),
            algorithm: Algorithm::parse(&r.algorithm)
                .ok_or_else(|| corrupt("queue algorithm", &r.algorithm))?,
            is_open: r.is_open,
            max_waiting: r.max_waiting.map(|m| count("max waiting", m)).transpose()?,
            aging_minutes: count("aging minutes", r.aging_minutes)?,
            join_token: r.join_token,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = counters)]
struct CounterRow {
    id: String,
    tenant_id: String,
    site_id: String,
    name: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<CounterRow> for Counter {
    type Error = StoreError;
    fn try_from(r: CounterRow) -> Result<Self, StoreError> {
        Ok(Counter {
            id: uuid(&r.id)?,
            site_id: uuid(&r.site_id)?,
            name: ItemName::from_trusted(r.name),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

impl CatalogueRepo for TenantView<'_> {
    fn sites(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Site>, StoreError> {
        page!(self, sites, SiteRow, after, limit)
    }

    fn site(&mut self, id: Uuid) -> Result<Option<Site>, StoreError> {
        one!(self, sites, SiteRow, id)
    }

    fn insert_site(&mut self, s: &Site) -> Result<(), StoreError> {
        self.writable()?;
        self.bind()?;
        diesel::insert_into(sites::table)
            .values(SiteRow {
                id: s.id.to_string(),
                tenant_id: self.tenant.to_string(),
                name: s.name.as_str().to_owned(),
                address: s.address.as_ref().map(|a| a.as_str().to_owned()),
                time_zone: s.time_zone.as_ref().map(|z| z.as_str().to_owned()),
                created_at: naive(s.created_at),
                updated_at: naive(s.updated_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_site(&mut self, s: &Site) -> Result<bool, StoreError> {
        update!(
            self,
            sites,
            s.id,
            (
                sites::name.eq(s.name.as_str()),
                sites::address.eq(s.address.as_ref().map(Address::as_str)),
                sites::time_zone.eq(s.time_zone.as_ref().map(TimeZone::as_str)),
                sites::updated_at.eq(naive(s.updated_at)),
            )
        )
    }

    fn delete_site(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        delete!(self, sites, id)
    }

    fn services(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Service>, StoreError> {
        page!(self, services, ServiceRow, after, limit)
    }

    fn service(&mut self, id: Uuid) -> Result<Option<Service>, StoreError> {
        one!(self, services, ServiceRow, id)
    }

    fn insert_service(&mut self, s: &Service) -> Result<(), SaveItemError> {
        let row = ServiceRow {
            id: s.id.to_string(),
            tenant_id: self.tenant.to_string(),
            site_id: s.site_id.to_string(),
            name: s.name.as_str().to_owned(),
            prefix: s.prefix.as_str().to_owned(),
            range_start: int(s.numbering.first),
            range_end: int(s.numbering.last),
            daily_cap: s.numbering.cap.map(int),
            avg_service_minutes: int(s.avg_service_minutes),
            created_at: naive(s.created_at),
            updated_at: naive(s.updated_at),
        };
        insert_child!(self, services, row)
    }

    fn update_service(&mut self, s: &Service) -> Result<bool, StoreError> {
        update!(
            self,
            services,
            s.id,
            (
                services::name.eq(s.name.as_str()),
                services::prefix.eq(s.prefix.as_str()),
                services::range_start.eq(int(s.numbering.first)),
                services::range_end.eq(int(s.numbering.last)),
                services::daily_cap.eq(s.numbering.cap.map(int)),
                services::avg_service_minutes.eq(int(s.avg_service_minutes)),
                services::updated_at.eq(naive(s.updated_at)),
            )
        )
    }

    fn delete_service(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        delete!(self, services, id)
    }

    fn queues(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Queue>, StoreError> {
        page!(self, queues, QueueRow, after, limit)
    }

    fn queue(&mut self, id: Uuid) -> Result<Option<Queue>, StoreError> {
        one!(self, queues, QueueRow, id)
    }

    fn insert_queue(&mut self, q: &Queue) -> Result<(), SaveItemError> {
        let row = QueueRow {
            id: q.id.to_string(),
            tenant_id: self.tenant.to_string(),
            service_id: q.service_id.to_string(),
            name: q.name.as_str().to_owned(),
            algorithm: q.algorithm.as_str().to_owned(),
            is_open: q.is_open,
            max_waiting: q.max_waiting.map(int),
            aging_minutes: int(q.aging_minutes),
            join_token: q.join_token.clone(),
            created_at: naive(q.created_at),
            updated_at: naive(q.updated_at),
        };
        insert_child!(self, queues, row)
    }

    fn update_queue(&mut self, q: &Queue) -> Result<bool, StoreError> {
        update!(
            self,
            queues,
            q.id,
            (
                queues::name.eq(q.name.as_str()),
                queues::algorithm.eq(q.algorithm.as_str()),
                queues::is_open.eq(q.is_open),
                queues::max_waiting.eq(q.max_waiting.map(int)),
                queues::aging_minutes.eq(int(q.aging_minutes)),
                queues::join_token.eq(&q.join_token),
                queues::updated_at.eq(naive(q.updated_at)),
            )
        )
    }

    fn delete_queue(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        delete!(self, queues, id)
    }

    fn counters(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Counter>, StoreError> {
        page!(self, counters, CounterRow, after, limit)
    }

    fn counter(&mut self, id: Uuid) -> Result<Option<Counter>, StoreError> {
        one!(self, counters, CounterRow, id)
    }

    fn insert_counter(&mut self, c: &Counter) -> Result<(), SaveItemError> {
        let row = CounterRow {
            id: c.id.to_string(),
            tenant_id: self.tenant.to_string(),
            site_id: c.site_id.to_string(),
            name: c.name.as_str().to_owned(),
            created_at: naive(c.created_at),
            updated_at: naive(c.updated_at),
        };
        insert_child!(self, counters, row)
    }

    fn update_counter(&mut self, c: &Counter) -> Result<bool, StoreError> {
        update!(
            self,
            counters,
            c.id,
            (
                counters::name.eq(c.name.as_str()),
                counters::updated_at.eq(naive(c.updated_at)),
            )
        )
    }

    fn delete_counter(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        delete!(self, counters, id)
    }
}
