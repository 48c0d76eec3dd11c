//! The memories site's content in memory.

use accueil_domain::couples::{CoupleId, Side};
use accueil_domain::memories::{Memory, MemoryId, Perspective, Share, ShareId, ShareScope};
use accueil_ports::StoreError;
use accueil_ports::memories::{MemoriesRepo, TimelineQuery};
use chrono::{DateTime, Utc};

use crate::MemTx;

impl MemoriesRepo for MemTx<'_> {
    fn perspectives(&mut self, couple: CoupleId) -> Result<Vec<Perspective>, StoreError> {
        Ok([Side::A, Side::B]
            .into_iter()
            .filter_map(|side| self.state.perspectives.get(&(couple, side)).cloned())
            .collect())
    }

    fn put_perspective(&mut self, p: &Perspective) -> Result<Perspective, StoreError> {
        self.writable()?;
        if !self.state.couples.contains_key(&p.couple_id) {
            return Err(StoreError::Internal(
                "perspective for an unknown couple".into(),
            ));
        }
        let stored = match self.state.perspectives.get(&(p.couple_id, p.side)) {
            Some(old) => Perspective {
                created_at: old.created_at,
                ..p.clone()
            },
            None => p.clone(),
        };
        self.state
            .perspectives
            .insert((p.couple_id, p.side), stored.clone());
        Ok(stored)
    }

    fn perspective(
        &mut self,
        couple: CoupleId,
        side: Side,
    ) -> Result<Option<Perspective>, StoreError> {
        Ok(self.state.perspectives.get(&(couple, side)).cloned())
    }

    fn insert_memory(&mut self, memory: &Memory) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.couples.contains_key(&memory.couple_id) {
            return Err(StoreError::Internal("no such couple".into()));
        }
        if self.state.memories.contains_key(&memory.id) {
            return Err(StoreError::Conflict("memory id".into()));
        }
        self.state.memories.insert(memory.id, memory.clone());
        Ok(())
    }

    fn update_memory(&mut self, memory: &Memory) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.memories.get_mut(&memory.id) {
            Some(m) if m.couple_id == memory.couple_id => {
                *m = Memory {
                    created_by: m.created_by,
                    created_at: m.created_at,
                    ..memory.clone()
                };
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn memory(&mut self, couple: CoupleId, id: MemoryId) -> Result<Option<Memory>, StoreError> {
        Ok(self
            .state
            .memories
            .get(&id)
            .filter(|m| m.couple_id == couple)
            .cloned())
    }

    fn delete_memory(&mut self, couple: CoupleId, id: MemoryId) -> Result<bool, StoreError> {
        self.writable()?;
        if self.memory(couple, id)?.is_none() {
            return Ok(false);
        }
        self.state.memories.remove(&id);
        for share in self.state.shares.values_mut() {
            if let ShareScope::Only(ids) = &mut share.scope {
                ids.retain(|m| *m != id);
            }
        }
        Ok(true)
    }

    fn timeline(
        &mut self,
        couple: CoupleId,
        query: &TimelineQuery,
        limit: u32,
    ) -> Result<Vec<Memory>, StoreError> {
        let listed = match query.share {
            Some(id) => match self.state.shares.get(&id) {
                Some(share) => Some(share.scope.clone()),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let mut all: Vec<Memory> = self
            .state
            .memories
            .values()
            .filter(|m| m.couple_id == couple)
            .filter(|m| listed.as_ref().is_none_or(|s| s.includes(m.id)))
            .filter(|m| query.search.as_ref().is_none_or(|q| q.matches(m)))
            .filter(|m| {
                query
                    .after
                    .is_none_or(|c| (m.timeline_day(), m.id) < (c.day, c.id))
            })
            .cloned()
            .collect();
        all.sort_by_key(|m| std::cmp::Reverse((m.timeline_day(), m.id)));
        all.truncate(limit as usize);
        Ok(all)
    }

    fn existing_memories(
        &mut self,
        couple: CoupleId,
        ids: &[MemoryId],
    ) -> Result<Vec<MemoryId>, StoreError> {
        Ok(ids
            .iter()
            .copied()
            .filter(|id| {
                self.state
                    .memories
                    .get(id)
                    .is_some_and(|m| m.couple_id == couple)
            })
            .collect())
    }

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
