//! Couples (with their change sequence) and invites in memory, and the purge of dissolved
//! couples with everything they own.

use accueil_domain::couples::{Couple, CoupleId, Invite};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::PairingRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::MemTx;

impl PairingRepo for MemTx<'_> {
    fn insert_couple(&mut self, couple: &Couple) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.couples.contains_key(&couple.id) {
            return Err(StoreError::Conflict("couples.id".into()));
        }
        self.state.couples.insert(couple.id, (couple.clone(), 0));
        Ok(())
    }

    fn update_couple(&mut self, couple: &Couple) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.couples.get_mut(&couple.id) {
            Some((c, _)) => {
                *c = couple.clone();
                Ok(())
            }
            None => Err(StoreError::Internal("no such couple".into())),
        }
    }

    fn active_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError> {
        Ok(self
            .state
            .couples
            .values()
            .map(|(c, _)| c)
            .find(|c| c.is_active() && c.side_of(user).is_some())
            .cloned())
    }

    // One mutex serializes every unit of work: reading is locking.
    fn active_couple_of_for_update(&mut self, user: UserId) -> Result<Option<Couple>, StoreError> {
        self.active_couple_of(user)
    }

    fn latest_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError> {
        Ok(self
            .state
            .couples
            .values()
            .map(|(c, _)| c)
            .filter(|c| c.side_of(user).is_some())
            .max_by_key(|c| (c.created_at, c.id))
            .cloned())
    }

    fn couple(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError> {
        Ok(self.state.couples.get(&id).map(|(c, _)| c.clone()))
    }

    fn couple_for_update(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError> {
        self.couple(id)
    }

    fn purge_dissolved_before(
        &mut self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<CoupleId>, StoreError> {
        self.writable()?;
        let gone: Vec<CoupleId> = self
            .state
            .couples
            .values()
            .filter(|(c, _)| c.dissolved_at.is_some_and(|d| d < cutoff))
            .map(|(c, _)| c.id)
            .collect();
        let state = &mut *self.state;
        for id in &gone {
            state.couples.remove(id);
        }
        state.invites.retain(|_, i| !gone.contains(&i.couple_id));
        state.changes.retain(|c| !gone.contains(&c.couple_id));
        state.questions.retain(|_, q| !gone.contains(&q.couple_id));
        state.answers.retain(|_, a| !gone.contains(&a.couple_id));
        state.goals.retain(|_, g| !gone.contains(&g.couple_id));
        state.actions.retain(|_, a| !gone.contains(&a.couple_id));
        state.checkins.retain(|_, c| !gone.contains(&c.couple_id));
        state.letters.retain(|_, l| !gone.contains(&l.couple_id));
        state.perspectives.retain(|(c, _), _| !gone.contains(c));
        state.memories.retain(|_, m| !gone.contains(&m.couple_id));
        state.shares.retain(|_, s| !gone.contains(&s.couple_id));
        state
            .photo_link_generations
            .retain(|c, _| !gone.contains(c));
        Ok(gone)
    }

    fn insert_invite(&mut self, invite: &Invite) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.invites.contains_key(&invite.id) {
            return Err(StoreError::Conflict("invites.id".into()));
        }
        self.state.invites.insert(invite.id, invite.clone());
        Ok(())
    }

    fn revoke_invites(
        &mut self,
        couple: CoupleId,
        at: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.writable()?;
        let mut ids = Vec::new();
        for i in self.state.invites.values_mut() {
            if i.couple_id == couple && i.used_at.is_none() && i.revoked_at.is_none() {
                i.revoked_at = Some(at);
                ids.push(i.id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn invite_by_code(&mut self, code: &str) -> Result<Option<Invite>, StoreError> {
        Ok(self
            .state
            .invites
            .values()
            .filter(|i| i.code == code)
            .max_by_key(|i| (i.created_at, i.id))
            .cloned())
    }

    fn live_code_exists(&mut self, code: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .state
            .invites
            .values()
            .any(|i| i.code == code && i.is_live(now)))
    }

    fn use_invite(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.invites.get_mut(&id) {
            Some(i) if i.used_at.is_none() && i.revoked_at.is_none() => {
                i.used_at = Some(at);
                true
            }
            _ => false,
        })
    }
}
