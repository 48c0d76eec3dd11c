//! Memories and their timeline in memory.

use accueil_domain::couples::CoupleId;
use accueil_domain::memories::{Memory, MemoryId, ShareScope};
use accueil_ports::StoreError;
use accueil_ports::memories::{LinkedMemory, MemoriesRepo, TimelineQuery};

use crate::MemTx;

impl MemoriesRepo for MemTx<'_> {
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

    fn photo_link_generation(&mut self, couple: CoupleId) -> Result<u64, StoreError> {
        Ok(self
            .state
            .photo_link_generations
            .get(&couple)
            .copied()
            .unwrap_or(0))
    }

    fn rotate_photo_links(&mut self, couple: CoupleId) -> Result<u64, StoreError> {
        self.writable()?;
        if !self.state.couples.contains_key(&couple) {
            return Err(StoreError::Internal("no such couple".into()));
        }
        let g = self.state.photo_link_generations.entry(couple).or_insert(0);
        *g += 1;
        Ok(*g)
    }

    fn memory_for_link(&mut self, id: MemoryId) -> Result<Option<LinkedMemory>, StoreError> {
        let Some(memory) = self.state.memories.get(&id).cloned() else {
            return Ok(None);
        };
        let dissolved = self
            .state
            .couples
            .get(&memory.couple_id)
            .is_some_and(|(c, _)| c.dissolved_at.is_some());
        let generation = self.photo_link_generation(memory.couple_id)?;
        Ok(Some(LinkedMemory {
            memory,
            generation,
            dissolved,
        }))
    }
}
