//! Couples, invites, the change feed and the Q&A in memory.

use accueil_domain::couples::{
    Answer, Change, ChangeOp, CheckIn, Couple, CoupleId, EntityKind, Goal, GoalAction, Invite,
    Letter, Month, Question,
};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::CouplesRepo;
use chrono::{DateTime, NaiveDate, Utc};
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
        Ok(gone)
    }

    fn insert_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.goals.contains_key(&goal.id) {
            return Err(StoreError::Conflict("goals.id".into()));
        }
        self.state.goals.insert(goal.id, goal.clone());
        Ok(())
    }

    fn update_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.goals.get_mut(&goal.id) {
            Some(g) if g.couple_id == goal.couple_id => {
                *g = goal.clone();
                Ok(())
            }
            _ => Err(StoreError::Internal("no such goal".into())),
        }
    }

    fn delete_goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Vec<Uuid>>, StoreError> {
        self.writable()?;
        if self
            .state
            .goals
            .get(&id)
            .is_none_or(|g| g.couple_id != couple)
        {
            return Ok(None);
        }
        self.state.goals.remove(&id);
        let mut gone: Vec<Uuid> = self
            .state
            .actions
            .values()
            .filter(|a| a.goal_id == id)
            .map(|a| a.id)
            .collect();
        gone.sort();
        self.state.actions.retain(|_, a| a.goal_id != id);
        Ok(Some(gone))
    }

    fn goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Goal>, StoreError> {
        Ok(self
            .state
            .goals
            .get(&id)
            .filter(|g| g.couple_id == couple)
            .cloned())
    }

    fn goals(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Goal>, StoreError> {
        let mut all: Vec<Goal> = self
            .state
            .goals
            .values()
            .filter(|g| g.couple_id == couple && before.is_none_or(|b| g.id < b))
            .cloned()
            .collect();
        all.sort_by_key(|g| std::cmp::Reverse(g.id));
        all.truncate(limit as usize);
        Ok(all)
    }

    fn insert_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        if self
            .state
            .goals
            .get(&action.goal_id)
            .is_none_or(|g| g.couple_id != action.couple_id)
        {
            return Err(StoreError::Internal("action of an unknown goal".into()));
        }
        if self.state.actions.contains_key(&action.id) {
            return Err(StoreError::Conflict("goal_actions.id".into()));
        }
        self.state.actions.insert(action.id, action.clone());
        Ok(())
    }

    fn update_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.actions.get_mut(&action.id) {
            Some(a) if a.couple_id == action.couple_id && a.goal_id == action.goal_id => {
                *a = action.clone();
                Ok(())
            }
            _ => Err(StoreError::Internal("no such action".into())),
        }
    }

    fn delete_action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.actions.get(&id) {
            Some(a) if a.couple_id == couple && a.goal_id == goal => {
                self.state.actions.remove(&id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<Option<GoalAction>, StoreError> {
        Ok(self
            .state
            .actions
            .get(&id)
            .filter(|a| a.couple_id == couple && a.goal_id == goal)
            .cloned())
    }

    fn actions(&mut self, couple: CoupleId, goal: Uuid) -> Result<Vec<GoalAction>, StoreError> {
        let mut all: Vec<GoalAction> = self
            .state
            .actions
            .values()
            .filter(|a| a.couple_id == couple && a.goal_id == goal)
            .cloned()
            .collect();
        all.sort_by_key(|a| a.id);
        Ok(all)
    }

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
                l.updated_at = letter.updated_at;
                Ok(())
            }
            _ => Err(StoreError::Internal("no such letter".into())),
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
