//! Share links in memory.

use accueil_domain::couples::CoupleId;
use accueil_domain::memories::{Share, ShareId, ShareScope};
use accueil_ports::StoreError;
use accueil_ports::memories::SharesRepo;
use chrono::{DateTime, Utc};

use crate::MemTx;

impl SharesRepo for MemTx<'_> {
    fn insert_share(&mut self, share: &Share) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.couples.contains_key(&share.couple_id) {
            return Err(StoreError::Internal("no such couple".into()));
        }
        if let ShareScope::Only(ids) = &share.scope
            && ids.iter().any(|id| !self.state.memories.contains_key(id))
        {
            return Err(StoreError::Internal("no such memory".into()));
        }
        if self.state.shares.contains_key(&share.id)
            || self
                .state
                .shares
                .values()
                .any(|s| s.token_digest == share.token_digest)
        {
            return Err(StoreError::Conflict("share".into()));
        }
        self.state.shares.insert(share.id, share.clone());
        Ok(())
    }

    fn shares(&mut self, couple: CoupleId) -> Result<Vec<Share>, StoreError> {
        let mut all: Vec<Share> = self
            .state
            .shares
            .values()
            .filter(|s| s.couple_id == couple)
            .cloned()
            .collect();
        all.sort_by_key(|s| (s.created_at, s.id));
        Ok(all)
    }

    fn share_by_digest(&mut self, digest: &str) -> Result<Option<Share>, StoreError> {
        Ok(self
            .state
            .shares
            .values()
            .find(|s| s.token_digest == digest)
            .cloned())
    }

    fn revoke_share(
        &mut self,
        couple: CoupleId,
        id: ShareId,
        at: DateTime<Utc>,
    ) -> Result<Option<Share>, StoreError> {
        self.writable()?;
        match self.state.shares.get_mut(&id) {
            Some(s) if s.couple_id == couple => {
                s.revoked_at.get_or_insert(at);
                Ok(Some(s.clone()))
            }
            _ => Ok(None),
        }
    }
}
