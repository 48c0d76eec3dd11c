//! The tenant registry in memory.

use accueil_domain::identity::{TokenDigest, UserId};
use accueil_domain::queues::{Invitation, Membership, Role, Tenant, TenantId};
use accueil_ports::StoreError;
use accueil_ports::queues::{TenantWriteError, TenantsRepo};
use chrono::{DateTime, Utc};

use crate::MemTx;

impl TenantsRepo for MemTx<'_> {
    fn create_tenant(&mut self, tenant: &Tenant, admin: UserId) -> Result<(), TenantWriteError> {
        self.writable()?;
        if self.state.tenants.values().any(|t| t.slug == tenant.slug) {
            return Err(TenantWriteError::SlugTaken);
        }
        self.state.tenants.insert(tenant.id, tenant.clone());
        self.state.memberships.insert(
            (tenant.id, admin),
            Membership {
                tenant: tenant.id,
                user: admin,
                role: Role::Admin,
                created_at: tenant.created_at,
                updated_at: tenant.created_at,
            },
        );
        Ok(())
    }

    fn purge_tenants_deleted_before(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let gone: Vec<TenantId> = self
            .state
            .tenants
            .values()
            .filter(|t| t.deleted_at.is_some_and(|at| at < before))
            .map(|t| t.id)
            .collect();
        for id in &gone {
            self.state.tenants.remove(id);
            self.state.tenant_rows.forget(*id);
        }
        self.state.memberships.retain(|(t, _), _| !gone.contains(t));
        self.state
            .invitations
            .retain(|_, i| !gone.contains(&i.tenant));
        Ok(gone.len() as u64)
    }

    fn tenant_by_slug(&mut self, slug: &str) -> Result<Option<Tenant>, StoreError> {
        Ok(self
            .state
            .tenants
            .values()
            .find(|t| t.slug.as_str() == slug)
            .cloned())
    }

    fn membership(
        &mut self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        Ok(self.state.memberships.get(&(tenant, user)).cloned())
    }

    fn invitation_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<Invitation>, StoreError> {
        Ok(self
            .state
            .invitations
            .values()
            .find(|i| &i.digest == digest)
            .cloned())
    }

    fn tenants_of(&mut self, user: UserId) -> Result<Vec<(Tenant, Role)>, StoreError> {
        let mut mine: Vec<(Tenant, Role)> = self
            .state
            .memberships
            .values()
            .filter(|m| m.user == user)
            .filter_map(|m| Some((self.state.tenants.get(&m.tenant)?.clone(), m.role)))
            .filter(|(t, _)| t.deleted_at.is_none())
            .collect();
        mine.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));
        Ok(mine)
    }
}
