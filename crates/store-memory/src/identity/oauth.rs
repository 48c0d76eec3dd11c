//! External identities, sign-in flows in progress and pending links in memory.

use accueil_domain::identity::{
    ExternalIdentity, IdentityId, OAuthFlow, PendingLink, ProviderName, TokenDigest, UserId,
};
use accueil_ports::StoreError;
use accueil_ports::identity::OAuthRepo;
use chrono::{DateTime, Utc};

use crate::MemTx;

impl OAuthRepo for MemTx<'_> {
    fn insert_identity(&mut self, identity: &ExternalIdentity) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.users.contains_key(&identity.user_id) {
            return Err(StoreError::Internal("no such user".into()));
        }
        if self.state.identities.contains_key(&identity.id)
            || self
                .state
                .identities
                .values()
                .any(|i| i.provider == identity.provider && i.subject == identity.subject)
        {
            return Err(StoreError::Conflict("identity".into()));
        }
        self.state.identities.insert(identity.id, identity.clone());
        Ok(())
    }

    fn identity_by_subject(
        &mut self,
        provider: &ProviderName,
        subject: &str,
    ) -> Result<Option<ExternalIdentity>, StoreError> {
        Ok(self
            .state
            .identities
            .values()
            .find(|i| &i.provider == provider && i.subject == subject)
            .cloned())
    }

    fn identities_of(&mut self, user: UserId) -> Result<Vec<ExternalIdentity>, StoreError> {
        let mut all: Vec<_> = self
            .state
            .identities
            .values()
            .filter(|i| i.user_id == user)
            .cloned()
            .collect();
        all.sort_by_key(|i| (i.created_at, i.id));
        Ok(all)
    }

    fn touch_identity(&mut self, id: IdentityId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(i) = self.state.identities.get_mut(&id) {
            i.last_used_at = Some(at);
        }
        Ok(())
    }

    fn delete_identity(&mut self, user: UserId, id: IdentityId) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.identities.get(&id) {
            Some(i) if i.user_id == user => {
                self.state.identities.remove(&id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn insert_oauth_flow(&mut self, flow: &OAuthFlow) -> Result<(), StoreError> {
        self.writable()?;
        let key = flow.state_digest.0.clone();
        if self.state.oauth_flows.contains_key(&key) {
            return Err(StoreError::Conflict("oauth flow".into()));
        }
        self.state.oauth_flows.insert(key, flow.clone());
        Ok(())
    }

    fn take_oauth_flow(
        &mut self,
        state_digest: &TokenDigest,
    ) -> Result<Option<OAuthFlow>, StoreError> {
        self.writable()?;
        Ok(self.state.oauth_flows.remove(&state_digest.0))
    }

    fn insert_pending_link(&mut self, link: &PendingLink) -> Result<(), StoreError> {
        self.writable()?;
        let key = link.digest.0.clone();
        if self.state.pending_links.contains_key(&key) {
            return Err(StoreError::Conflict("pending link".into()));
        }
        self.state.pending_links.insert(key, link.clone());
        Ok(())
    }

    fn take_pending_link(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<PendingLink>, StoreError> {
        self.writable()?;
        Ok(self.state.pending_links.remove(&digest.0))
    }

    fn purge_oauth_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let before = self.state.oauth_flows.len() + self.state.pending_links.len();
        self.state.oauth_flows.retain(|_, f| f.expires_at >= cutoff);
        self.state
            .pending_links
            .retain(|_, l| l.expires_at >= cutoff);
        Ok((before - self.state.oauth_flows.len() - self.state.pending_links.len()) as u64)
    }
}
