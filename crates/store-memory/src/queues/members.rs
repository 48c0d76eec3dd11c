//! A tenant's settings and members in memory, on the bound view.

use accueil_domain::identity::UserId;
use accueil_domain::queues::{Member, Membership, Role, Tenant};
use accueil_ports::StoreError;
use accueil_ports::queues::MembersRepo;
use chrono::{DateTime, Utc};

use crate::MemTenantTx;

impl MembersRepo for MemTenantTx<'_> {
    fn this_tenant(&mut self) -> Result<Tenant, StoreError> {
        self.state
            .tenants
            .get(&self.tenant)
            .cloned()
            .ok_or_else(|| StoreError::Internal("the bound tenant vanished".into()))
    }

    fn update_tenant(&mut self, tenant: &Tenant) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(t) = self.state.tenants.get_mut(&self.tenant) {
            t.name = tenant.name.clone();
            t.time_zone = tenant.time_zone.clone();
            t.locale = tenant.locale;
            t.updated_at = tenant.updated_at;
        }
        Ok(())
    }

    fn delete_tenant(&mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(t) = self.state.tenants.get_mut(&self.tenant) {
            t.deleted_at = Some(at);
        }
        Ok(())
    }

    fn members(&mut self) -> Result<Vec<Member>, StoreError> {
        let mut members: Vec<Member> = self
            .state
            .memberships
            .values()
            .filter(|m| m.tenant == self.tenant)
            .filter_map(|m| {
                let user = self.state.users.get(&m.user)?;
                Some(Member {
                    membership: m.clone(),
                    email: user.email.clone(),
                    display_name: user.display_name.clone(),
                })
            })
            .collect();
        members.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
        Ok(members)
    }

    fn member(&mut self, user: UserId) -> Result<Option<Membership>, StoreError> {
        Ok(self.state.memberships.get(&(self.tenant, user)).cloned())
    }

    fn add_member(
        &mut self,
        user: UserId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let key = (self.tenant, user);
        if self.state.memberships.contains_key(&key) {
            return Ok(false);
        }
        self.state.memberships.insert(
            key,
            Membership {
                tenant: self.tenant,
                user,
                role,
                created_at: at,
                updated_at: at,
            },
        );
        Ok(true)
    }

    fn set_role(
        &mut self,
        user: UserId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.memberships.get_mut(&(self.tenant, user)) {
            Some(m) => {
                m.role = role;
                m.updated_at = at;
                true
            }
            None => false,
        })
    }

    fn remove_member(&mut self, user: UserId) -> Result<bool, StoreError> {
        self.writable()?;
        self.state.tenant_rows.agents.remove(&(self.tenant, user));
        Ok(self
            .state
            .memberships
            .remove(&(self.tenant, user))
            .is_some())
    }

    fn count_admins(&mut self) -> Result<u64, StoreError> {
        Ok(self
            .state
            .memberships
            .values()
            .filter(|m| m.tenant == self.tenant && m.role == Role::Admin)
            .count() as u64)
    }
}
