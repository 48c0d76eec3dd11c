//! The partners' perspectives in memory.

use accueil_domain::couples::{CoupleId, Side};
use accueil_domain::memories::Perspective;
use accueil_ports::StoreError;
use accueil_ports::memories::PerspectivesRepo;

use crate::MemTx;

impl PerspectivesRepo for MemTx<'_> {
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
}
