//! The tenant registry in memory.

use accueil_domain::identity::{TokenDigest, UserId};
use accueil_domain::queues::{Invitation, Membership, Role, Tenant, TenantId};
use accueil_ports::StoreError;
use accueil_ports::queues::{TenantWriteError, TenantsRepo};

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
            .collect();
        mine.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));
        Ok(mine)
    }
}
