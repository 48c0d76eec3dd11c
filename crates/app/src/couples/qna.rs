//! Q&A: questions (only their author edits or deletes them) and one answer per partner, with
//! mutual reveal.

use accueil_domain::couples::{
    Answer, AnswerStatus, AnswerText, ChangeOp, EntityKind, Question, QuestionText, Reveal, Theme,
    reveal,
};
use accueil_domain::identity::UserId;
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::{StoreError, StoreExt};
use uuid::Uuid;

use super::{CouplesService, NotInCouple, Page, changed, my_couple, paged};
use crate::identity::{Patch, Principal};

/// A question as one partner may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionView {
    /// The question.
    pub question: Question,
    /// The viewer's answer.
    pub mine: Option<Answer>,
    /// The partner's answer: its text only once both have answered.
    pub partners: Option<Answer>,
    /// Where the reveal stands.
    pub reveal: Reveal,
}

/// Applies mutual reveal for `viewer`.
pub(crate) fn view_of(question: Question, answers: Vec<Answer>, viewer: UserId) -> QuestionView {
    let (mut mine, mut partners) = (None, None);
    for a in answers {
        if a.author == viewer {
            mine = Some(a);
        } else {
            partners = Some(a);
        }
    }
    let state = reveal(mine.as_ref(), partners.as_ref());
    if state != Reveal::Revealed
        && let Some(p) = &mut partners
    {
        // The partner's status shows (so "needs time" and "clarify" reach the asker); their
        // words wait until both have answered.
        p.text = None;
    }
    QuestionView {
        question,
        mine,
        partners,
        reveal: state,
    }
}

/// A new question.
#[derive(Debug, Clone)]
pub struct QuestionInput {
    /// Text.
    pub text: String,
    /// Optional theme.
    pub theme: Option<String>,
}

/// Changes to a question.
#[derive(Debug, Clone, Default)]
pub struct QuestionPatch {
    /// New text.
    pub text: Option<String>,
    /// New theme, or clear it.
    pub theme: Patch<String>,
}

/// An answer.
#[derive(Debug, Clone)]
pub struct AnswerInput {
    /// `ANSWERED`, `NEEDS_TIME` or `CLARIFY`.
    pub status: String,
    /// Text (required with `ANSWERED`).
    pub text: Option<String>,
}

/// Why a Q&A request failed.
#[derive(Debug, thiserror::Error)]
pub enum QnaError {
    /// No couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// No such question in the caller's couple.
    #[error("question not found")]
    NotFound,
    /// Only the author may edit or delete a question.
    #[error("not the author")]
    NotAuthor,
    /// Invalid input.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn theme(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<Theme> {
    raw.and_then(|t| Theme::parse(t).map_err(|e| errors.push(e)).ok())
}

impl CouplesService {
    /// Asks a question in the caller's couple.
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn ask(
        &self,
        who: &Principal,
        input: QuestionInput,
    ) -> Result<QuestionView, QnaError> {
        let mut errors = Vec::new();
        let text = QuestionText::parse(&input.text)
            .map_err(|e| errors.push(e))
            .ok();
        let theme = theme(input.theme.as_deref(), &mut errors);
        ValidationErrors::collect(errors)?;
        let Some(text) = text else {
            return Err(QnaError::Store(StoreError::Internal(
                "validated text missing".into(),
            )));
        };
        let now = self.now();
        let (me, id) = (who.user.id, self.ports.ids.new_id());
        self.ports
            .store
            .write(move |tx| -> Result<QuestionView, QnaError> {
                let couple = my_couple(tx, me)??;
                let q = Question {
                    id,
                    couple_id: couple.id,
                    author: me,
                    text,
                    theme,
                    created_at: now,
                    updated_at: now,
                };
                tx.qna().insert_question(&q)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Question,
                    q.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(view_of(q, Vec::new(), me))
            })
            .await
    }

    /// The couple's questions, newest first, a page at a time.
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn questions(
        &self,
        who: &Principal,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<QuestionView>, QnaError> {
        let me = who.user.id;
        let limit = limit.clamp(1, 200);
        self.ports
            .store
            .read(move |tx| -> Result<Page<QuestionView>, QnaError> {
                let couple = my_couple(tx, me)??;
                let (page, next) = paged(
                    tx.qna().questions(couple.id, after, limit + 1)?,
                    limit,
                    |q| q.id,
                );
                let mut items = Vec::with_capacity(page.len());
                for q in page {
                    let answers = tx.qna().answers(couple.id, q.id)?;
                    items.push(view_of(q, answers, me));
                }
                Ok(Page { items, next })
            })
            .await
    }

    /// One question of the couple.
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn question(&self, who: &Principal, id: Uuid) -> Result<QuestionView, QnaError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<QuestionView, QnaError> {
                let couple = my_couple(tx, me)??;
                let q = tx
                    .qna()
                    .question(couple.id, id)?
                    .ok_or(QnaError::NotFound)?;
                let answers = tx.qna().answers(couple.id, id)?;
                Ok(view_of(q, answers, me))
            })
            .await
    }

    /// Edits a question (its author only).
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn edit_question(
        &self,
        who: &Principal,
        id: Uuid,
        patch: QuestionPatch,
    ) -> Result<QuestionView, QnaError> {
        let mut errors = Vec::new();
        let text = patch
            .text
            .as_deref()
            .and_then(|t| QuestionText::parse(t).map_err(|e| errors.push(e)).ok());
        let theme_patch = patch.theme.parse(|t| Theme::parse(t), &mut errors);
        ValidationErrors::collect(errors)?;
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<QuestionView, QnaError> {
                let couple = my_couple(tx, me)??;
                let mut q = tx
                    .qna()
                    .question(couple.id, id)?
                    .ok_or(QnaError::NotFound)?;
                if q.author != me {
                    return Err(QnaError::NotAuthor);
                }
                if let Some(t) = text {
                    q.text = t;
                }
                theme_patch.apply_to(&mut q.theme);
                q.updated_at = now;
                tx.qna().update_question(&q)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Question,
                    q.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                let answers = tx.qna().answers(couple.id, id)?;
                Ok(view_of(q, answers, me))
            })
            .await
    }

    /// Deletes a question and its answers (its author only).
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn delete_question(&self, who: &Principal, id: Uuid) -> Result<(), QnaError> {
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<(), QnaError> {
                let couple = my_couple(tx, me)??;
                let q = tx
                    .qna()
                    .question(couple.id, id)?
                    .ok_or(QnaError::NotFound)?;
                if q.author != me {
                    return Err(QnaError::NotAuthor);
                }
                for a in tx.qna().answers(couple.id, id)? {
                    changed(
                        tx,
                        couple.id,
                        EntityKind::Answer,
                        a.id,
                        ChangeOp::Delete,
                        now,
                    )?;
                }
                tx.qna().delete_question(couple.id, id)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Question,
                    id,
                    ChangeOp::Delete,
                    now,
                )?;
                Ok(())
            })
            .await
    }

    /// Creates or updates the caller's answer to a question.
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn answer(
        &self,
        who: &Principal,
        question: Uuid,
        input: AnswerInput,
    ) -> Result<QuestionView, QnaError> {
        let mut errors = Vec::new();
        let status = AnswerStatus::parse(&input.status);
        if status.is_none() {
            errors.push(FieldError::new(
                "status",
                "invalid_status",
                "ANSWERED, NEEDS_TIME or CLARIFY",
            ));
        }
        let text = input
            .text
            .as_deref()
            .and_then(|t| AnswerText::parse(t).map_err(|e| errors.push(e)).ok());
        if status == Some(AnswerStatus::Answered) && text.is_none() && input.text.is_none() {
            errors.push(FieldError::new(
                "text",
                "required",
                "an answer needs its text",
            ));
        }
        ValidationErrors::collect(errors)?;
        let Some(status) = status else {
            return Err(QnaError::Store(StoreError::Internal(
                "validated status missing".into(),
            )));
        };
        let now = self.now();
        let (me, id) = (who.user.id, self.ports.ids.new_id());
        self.ports
            .store
            .write(move |tx| -> Result<QuestionView, QnaError> {
                let couple = my_couple(tx, me)??;
                let q = tx
                    .qna()
                    .question(couple.id, question)?
                    .ok_or(QnaError::NotFound)?;
                let stored = tx.qna().upsert_answer(&Answer {
                    id,
                    question_id: q.id,
                    couple_id: couple.id,
                    author: me,
                    status,
                    text,
                    created_at: now,
                    updated_at: now,
                })?;
                // The feed names the answer, never its words: nothing leaks before the reveal.
                changed(
                    tx,
                    couple.id,
                    EntityKind::Answer,
                    stored.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                let answers = tx.qna().answers(couple.id, q.id)?;
                Ok(view_of(q, answers, me))
            })
            .await
    }
}
