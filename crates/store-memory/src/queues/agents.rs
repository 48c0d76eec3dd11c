//! A tenant's agent profiles in memory, on the bound view.

use accueil_domain::identity::UserId;
use accueil_domain::queues::{AgentProfile, AgentStatus};
use accueil_ports::StoreError;
use accueil_ports::queues::AgentsRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

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

    fn presence(
        &mut self,
        user: UserId,
    ) -> Result<Option<(AgentStatus, Option<Uuid>)>, StoreError> {
        Ok(self.agent(user)?.map(|p| (p.status, p.counter_id)))
    }

    fn set_status(
        &mut self,
        user: UserId,
        status: AgentStatus,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(
            match self.state.tenant_rows.agents.get_mut(&(self.tenant, user)) {
                Some(p) => {
                    p.status = status;
                    p.updated_at = Some(at);
                    true
                }
                None => false,
            },
        )
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
