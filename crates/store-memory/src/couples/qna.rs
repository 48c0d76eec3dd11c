//! Questions and answers in memory.

use accueil_domain::couples::{Answer, CoupleId, Question};
use accueil_ports::StoreError;
use accueil_ports::couples::QnaRepo;
use uuid::Uuid;

use crate::MemTx;

impl QnaRepo for MemTx<'_> {
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
}
