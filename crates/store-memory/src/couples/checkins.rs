//! Daily check-ins in memory.

use accueil_domain::couples::{CheckIn, CoupleId};
use accueil_ports::StoreError;
use accueil_ports::couples::CheckinsRepo;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::MemTx;

impl CheckinsRepo for MemTx<'_> {
    fn upsert_checkin(&mut self, c: &CheckIn) -> Result<CheckIn, StoreError> {
        self.writable()?;
        let existing = self
            .state
            .checkins
            .values_mut()
            .find(|x| x.user_id == c.user_id && x.day == c.day && x.couple_id == c.couple_id);
        Ok(match existing {
            Some(x) => {
                x.mood = c.mood;
                x.stress = c.stress;
                x.energy = c.energy;
                x.note = c.note.clone();
                x.updated_at = c.updated_at;
                x.clone()
            }
            None => {
                self.state.checkins.insert(c.id, c.clone());
                c.clone()
            }
        })
    }

    fn update_checkin(&mut self, c: &CheckIn) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.checkins.get_mut(&c.id) {
            Some(x) if x.couple_id == c.couple_id => {
                x.mood = c.mood;
                x.stress = c.stress;
                x.energy = c.energy;
                x.note = c.note.clone();
                x.updated_at = c.updated_at;
                Ok(())
            }
            _ => Err(StoreError::Internal("no such check-in".into())),
        }
    }

    fn checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<CheckIn>, StoreError> {
        Ok(self
            .state
            .checkins
            .get(&id)
            .filter(|c| c.couple_id == couple)
            .cloned())
    }

    fn delete_checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.checkins.get(&id) {
            Some(c) if c.couple_id == couple => {
                self.state.checkins.remove(&id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn checkins(
        &mut self,
        couple: CoupleId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        before: Option<(NaiveDate, Uuid)>,
        limit: u32,
    ) -> Result<Vec<CheckIn>, StoreError> {
        let mut all: Vec<CheckIn> = self
            .state
            .checkins
            .values()
            .filter(|c| {
                c.couple_id == couple
                    && from.is_none_or(|f| c.day >= f)
                    && to.is_none_or(|t| c.day <= t)
                    && before.is_none_or(|b| (c.day, c.id) < b)
            })
            .cloned()
            .collect();
        all.sort_by_key(|c| std::cmp::Reverse((c.day, c.id)));
        all.truncate(limit as usize);
        Ok(all)
    }
}
