//! The tenant registry in SQL. Reading one user's memberships across tenants sets that user
//! for row-level security first (`accueil.user_id`), the one other way the policy admits rows.

use accueil_domain::identity::{TokenDigest, UserId};
use accueil_domain::queues::{Invitation, Membership, Role, Tenant, TenantId};
use accueil_ports::StoreError;
use accueil_ports::queues::{TenantWriteError, TenantsRepo};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::invitations::InvitationRow;
use super::{MemberRow, TenantRow, member_columns, role};
use crate::one::OneRow;
use crate::schema::{tenant_members, tenants};
use crate::tx::{DieselTx, naive, rls_invitation, rls_settings, store_error, utc};

impl TenantsRepo for DieselTx<'_> {
    fn create_tenant(&mut self, tenant: &Tenant, admin: UserId) -> Result<(), TenantWriteError> {
        self.writable()?;
        // The new membership is the admin's: admitted by the user clause of the policy.
        rls_settings(self.conn, None, Some(&admin.to_string()))?;
        diesel::insert_into(tenants::table)
            .values(TenantRow::from(tenant))
            .execute(self.conn)
            .map_err(|e| match e {
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    TenantWriteError::SlugTaken
                }
                e => TenantWriteError::Store(store_error(e)),
            })?;
        diesel::insert_into(tenant_members::table)
            .values((
                tenant_members::tenant_id.eq(tenant.id.to_string()),
                tenant_members::user_id.eq(admin.to_string()),
                tenant_members::role.eq(Role::Admin.as_str()),
                tenant_members::created_at.eq(naive(tenant.created_at)),
                tenant_members::updated_at.eq(naive(tenant.created_at)),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn purge_tenants_deleted_before(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        // The members and invitations go by the foreign keys' cascade (which row-level
        // security does not filter: referential actions bypass it).
        let n = diesel::delete(tenants::table.filter(tenants::deleted_at.lt(naive(before))))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(n as u64)
    }

    fn tenant_by_slug(&mut self, slug: &str) -> Result<Option<Tenant>, StoreError> {
        tenants::table
            .filter(tenants::slug.eq(slug))
            .select(TenantRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Tenant::try_from)
            .transpose()
    }

    fn membership(
        &mut self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        rls_settings(self.conn, None, Some(&user.to_string()))?;
        let row: Option<MemberRow> = tenant_members::table
            .filter(tenant_members::tenant_id.eq(tenant.to_string()))
            .filter(tenant_members::user_id.eq(user.to_string()))
            .select(member_columns())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        row.map(|(_, r, created, updated)| {
            Ok(Membership {
                tenant,
                user,
                role: role(&r)?,
                created_at: utc(created),
                updated_at: utc(updated),
            })
        })
        .transpose()
    }

    fn invitation_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<Invitation>, StoreError> {
        use crate::schema::tenant_invitations as inv;
        rls_invitation(self.conn, &digest.0)?;
        inv::table
            .filter(inv::digest.eq(&digest.0))
            .select(InvitationRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Invitation::try_from)
            .transpose()
    }

    fn tenants_of(&mut self, user: UserId) -> Result<Vec<(Tenant, Role)>, StoreError> {
        rls_settings(self.conn, None, Some(&user.to_string()))?;
        let rows: Vec<(TenantRow, String)> = tenant_members::table
            .inner_join(tenants::table)
            .filter(tenant_members::user_id.eq(user.to_string()))
            .filter(tenants::deleted_at.is_null())
            .order(tenants::slug.asc())
            .select((TenantRow::as_select(), tenant_members::role))
            .load(self.conn)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(t, r)| Ok((Tenant::try_from(t)?, role(&r)?)))
            .collect()
    }
}
