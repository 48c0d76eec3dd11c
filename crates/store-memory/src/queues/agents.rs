//! A tenant's agent profiles in memory, on the bound view.

use accueil_domain::identity::UserId;
use accueil_domain::queues::AgentProfile;
use accueil_ports::StoreError;
use accueil_ports::queues::AgentsRepo;

use crate::MemTenantTx;

impl AgentsRepo for MemTenantTx<'_> {
    fn agents(&mut self) -> Result<Vec<AgentProfile>, StoreError> {
        Ok(self
            .state
            .tenant_rows
            .agents
            .iter()
            .filter(|((t, _), _)| *t == self.tenant)
            .map(|(_, a)| a.clone())
            .collect())
    }

    fn agent(&mut self, user: UserId) -> Result<Option<AgentProfile>, StoreError> {
        Ok(self
            .state
            .tenant_rows
            .agents
            .get(&(self.tenant, user))
            .cloned())
    }

    fn save_agent(&mut self, profile: &AgentProfile) -> Result<(), StoreError> {
        self.writable()?;
        if !self
            .state
            .memberships
            .contains_key(&(self.tenant, profile.user))
        {
            return Err(StoreError::Internal(
                "an agent profile needs a member".into(),
            ));
        }
        self.state
            .tenant_rows
            .agents
            .insert((self.tenant, profile.user), profile.clone());
        Ok(())
    }
}
