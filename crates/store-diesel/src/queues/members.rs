//! A tenant's settings and members in SQL, on the view bound to it: every statement filters
//! by the bound tenant, after [`TenantView::bind`].

use accueil_domain::identity::{DisplayName, Email, UserId};
use accueil_domain::queues::{Member, Membership, Role, Tenant};
use accueil_ports::StoreError;
use accueil_ports::queues::MembersRepo;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{MemberRow, TenantRow, member_columns, role};
use crate::connection::AnyConnection;
use crate::one::OneRow;
use crate::schema::{tenant_members, tenants, users};
use crate::tx::{TenantView, first_for_update, naive, store_error, utc, uuid};

impl TenantView<'_> {
    fn membership(&self, (user, r, created, updated): MemberRow) -> Result<Membership, StoreError> {
        Ok(Membership {
            tenant: self.tenant,
            user: UserId(uuid(&user)?),
            role: role(&r)?,
            created_at: utc(created),
            updated_at: utc(updated),
        })
    }
}

impl MembersRepo for TenantView<'_> {
    fn this_tenant(&mut self) -> Result<Tenant, StoreError> {
        self.bind()?;
        let id = self.tenant.to_string();
        let row: Option<TenantRow> =
            first_for_update!(self, tenants::table.find(id).select(TenantRow::as_select()))
                .map_err(store_error)?;
        row.map(Tenant::try_from)
            .transpose()?
            .ok_or_else(|| StoreError::Internal("the bound tenant vanished".into()))
    }

    fn update_tenant(&mut self, tenant: &Tenant) -> Result<(), StoreError> {
        self.writable()?;
        self.bind()?;
        diesel::update(tenants::table.find(self.tenant.to_string()))
            .set((
                tenants::name.eq(tenant.name.as_str()),
                tenants::time_zone.eq(tenant.time_zone.as_str()),
                tenants::locale.eq(tenant.locale.as_str()),
                tenants::updated_at.eq(naive(tenant.updated_at)),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn delete_tenant(&mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        self.bind()?;
        diesel::update(tenants::table.find(self.tenant.to_string()))
            .set(tenants::deleted_at.eq(Some(naive(at))))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn members(&mut self) -> Result<Vec<Member>, StoreError> {
        self.bind()?;
        let rows: Vec<(MemberRow, String, Option<String>)> = tenant_members::table
            .inner_join(users::table)
            .filter(tenant_members::tenant_id.eq(self.tenant.to_string()))
            .order(users::email.asc())
            .select((member_columns(), users::email, users::display_name))
            .load(self.conn)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(m, email, display_name)| {
                Ok(Member {
                    membership: self.membership(m)?,
                    email: Email::from_trusted(email),
                    display_name: display_name.map(DisplayName::from_trusted),
                })
            })
            .collect()
    }

    fn member(&mut self, user: UserId) -> Result<Option<Membership>, StoreError> {
        self.bind()?;
        let row: Option<MemberRow> = tenant_members::table
            .filter(tenant_members::tenant_id.eq(self.tenant.to_string()))
            .filter(tenant_members::user_id.eq(user.to_string()))
            .select(member_columns())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        row.map(|r| self.membership(r)).transpose()
    }

    fn add_member(
        &mut self,
        user: UserId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        self.bind()?;
        let values = (
            tenant_members::tenant_id.eq(self.tenant.to_string()),
            tenant_members::user_id.eq(user.to_string()),
            tenant_members::role.eq(role.as_str()),
            tenant_members::created_at.eq(naive(at)),
            tenant_members::updated_at.eq(naive(at)),
        );
        // The same statement for each backend: the multi-backend connection has no upsert.
        let n = match &mut *self.conn {
            AnyConnection::Postgresql(pg) => diesel::insert_into(tenant_members::table)
                .values(values)
                .on_conflict_do_nothing()
                .execute(pg),
            AnyConnection::Sqlite(lite) => diesel::insert_into(tenant_members::table)
                .values(values)
                .on_conflict_do_nothing()
                .execute(lite),
        }
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn set_role(
        &mut self,
        user: UserId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        self.bind()?;
        let n = diesel::update(
            tenant_members::table
                .filter(tenant_members::tenant_id.eq(self.tenant.to_string()))
                .filter(tenant_members::user_id.eq(user.to_string())),
        )
        .set((
            tenant_members::role.eq(role.as_str()),
            tenant_members::updated_at.eq(naive(at)),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn remove_member(&mut self, user: UserId) -> Result<bool, StoreError> {
        self.writable()?;
        self.bind()?;
        let n = diesel::delete(
            tenant_members::table
                .filter(tenant_members::tenant_id.eq(self.tenant.to_string()))
                .filter(tenant_members::user_id.eq(user.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn count_admins(&mut self) -> Result<u64, StoreError> {
        self.bind()?;
        let n: i64 = tenant_members::table
            .filter(tenant_members::tenant_id.eq(self.tenant.to_string()))
            .filter(tenant_members::role.eq(Role::Admin.as_str()))
            .count()
            .get_result(self.conn)
            .map_err(store_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
