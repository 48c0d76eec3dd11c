//! Monthly letters in memory.

use accueil_domain::couples::{CoupleId, Letter, Month};
use accueil_ports::StoreError;
use accueil_ports::couples::LettersRepo;
use uuid::Uuid;

use crate::MemTx;

impl LettersRepo for MemTx<'_> {
    fn letter_of_month(
        &mut self,
        couple: CoupleId,
        month: Month,
    ) -> Result<Option<Letter>, StoreError> {
        Ok(self
            .state
            .letters
            .values()
            .find(|l| l.couple_id == couple && l.month == month)
            .cloned())
    }

    fn insert_letter(&mut self, letter: &Letter) -> Result<(), StoreError> {
        self.writable()?;
        let taken = self.state.letters.contains_key(&letter.id)
            || self
                .state
                .letters
                .values()
                .any(|l| l.couple_id == letter.couple_id && l.month == letter.month);
        if taken {
            return Err(StoreError::Conflict("letters.couple_month".into()));
        }
        self.state.letters.insert(letter.id, letter.clone());
        Ok(())
    }

    fn update_letter(&mut self, letter: &Letter) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.letters.get_mut(&letter.id) {
            Some(l) if l.couple_id == letter.couple_id => {
                l.content = letter.content.clone();
                l.last_author = letter.last_author;
                l.lock = letter.lock;
                l.updated_at = letter.updated_at;
                Ok(())
            }
            _ => Err(StoreError::Internal("no such letter".into())),
        }
    }

    fn delete_letter(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.letters.get(&id) {
            Some(l) if l.couple_id == couple => {
                self.state.letters.remove(&id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn letter(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Letter>, StoreError> {
        Ok(self
            .state
            .letters
            .get(&id)
            .filter(|l| l.couple_id == couple)
            .cloned())
    }

    fn letters(
        &mut self,
        couple: CoupleId,
        before: Option<Month>,
        limit: u32,
    ) -> Result<Vec<Letter>, StoreError> {
        let mut all: Vec<Letter> = self
            .state
            .letters
            .values()
            .filter(|l| l.couple_id == couple && before.is_none_or(|b| l.month < b))
            .cloned()
            .collect();
        all.sort_by_key(|l| std::cmp::Reverse(l.month));
        all.truncate(limit as usize);
        Ok(all)
    }
}
