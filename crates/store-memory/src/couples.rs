//! Couples, invites, the change feed and the Q&A in memory.

use accueil_domain::couples::{
    Answer, Change, ChangeOp, Couple, CoupleId, EntityKind, Invite, Question,
};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::CouplesRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::MemTx;

impl CouplesRepo for MemTx<'_> {
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

    fn record_change(
        &mut self,
        couple: CoupleId,
        kind: EntityKind,
        entity: Uuid,
        op: ChangeOp,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.writable()?;
        let Some((_, seq)) = self.state.couples.get_mut(&couple) else {
            return Err(StoreError::Internal("change for an unknown couple".into()));
        };
        *seq += 1;
        let seq = *seq;
        self.state.changes.push(Change {
            couple_id: couple,
            seq,
            kind,
            entity_id: entity,
            op,
            at,
        });
        Ok(seq)
    }

    fn changes_after(
        &mut self,
        couple: CoupleId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let mut all: Vec<Change> = self
            .state
            .changes
            .iter()
            .filter(|c| c.couple_id == couple && c.seq > after)
            .cloned()
            .collect();
        all.sort_by_key(|c| c.seq);
        all.truncate(limit as usize);
        Ok(all)
    }

    fn changes_since(
        &mut self,
        couple: CoupleId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let mut all: Vec<Change> = self
            .state
            .changes
            .iter()
            .filter(|c| c.couple_id == couple && c.at > since)
            .cloned()
            .collect();
        all.sort_by_key(|c| c.seq);
        all.truncate(limit as usize);
        Ok(all)
    }

    fn insert_question(&mut self, question: &Question) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.couples.contains_key(&question.couple_id) {
            return Err(StoreError::Internal(
                "question for an unknown couple".into(),
            ));
        }
        if self.state.questions.contains_key(&question.id) {
            return Err(StoreError::Conflict("questions.id".into()));
        }
        self.state.questions.insert(question.id, question.clone());
        Ok(())
    }

    fn update_question(&mut self, question: &Question) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.questions.get_mut(&question.id) {
            Some(q) if q.couple_id == question.couple_id => {
                q.text = question.text.clone();
                q.theme = question.theme.clone();
                q.updated_at = question.updated_at;
                Ok(())
            }
            _ => Err(StoreError::Internal("no such question".into())),
        }
    }

    fn delete_question(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.questions.get(&id) {
            Some(q) if q.couple_id == couple => {
                self.state.questions.remove(&id);
                self.state.answers.retain(|_, a| a.question_id != id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn question(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Question>, StoreError> {
        Ok(self
            .state
            .questions
            .get(&id)
            .filter(|q| q.couple_id == couple)
            .cloned())
    }

    fn questions(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Question>, StoreError> {
        let mut all: Vec<Question> = self
            .state
            .questions
            .values()
            .filter(|q| q.couple_id == couple && before.is_none_or(|b| q.id < b))
            .cloned()
            .collect();
        all.sort_by_key(|q| std::cmp::Reverse(q.id));
        all.truncate(limit as usize);
        Ok(all)
    }

    fn upsert_answer(&mut self, answer: &Answer) -> Result<Answer, StoreError> {
        self.writable()?;
        if self
            .state
            .questions
            .get(&answer.question_id)
            .is_none_or(|q| q.couple_id != answer.couple_id)
        {
            return Err(StoreError::Internal("answer to an unknown question".into()));
        }
        let existing = self
            .state
            .answers
            .values_mut()
            .find(|a| a.question_id == answer.question_id && a.author == answer.author);
        let stored = match existing {
            Some(a) => {
                a.status = answer.status;
                a.text = answer.text.clone();
                a.updated_at = answer.updated_at;
                a.clone()
            }
            None => {
                self.state.answers.insert(answer.id, answer.clone());
                answer.clone()
            }
        };
        Ok(stored)
    }

    fn answers(&mut self, couple: CoupleId, question: Uuid) -> Result<Vec<Answer>, StoreError> {
        let mut all: Vec<Answer> = self
            .state
            .answers
            .values()
            .filter(|a| a.couple_id == couple && a.question_id == question)
            .cloned()
            .collect();
        all.sort_by_key(|a| (a.created_at, a.id));
        Ok(all)
    }

    fn purge_dissolved_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
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
        Ok(gone.len() as u64)
    }
}
