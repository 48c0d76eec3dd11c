//! Q&A: questions (only their author edits or deletes them) and one answer per partner, with
//! mutual reveal.

use accueil_domain::couples::{
    Answer, AnswerDraft, ChangeOp, EntityKind, NewQuestion, Question, QuestionChanges, Reveal,
    reveal,
};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use uuid::Uuid;

use super::{CouplesService, Page, page_size, paged};
use crate::identity::Caller;
use crate::scope::{CoupleCx, CoupleDenied, InCoupleError, InCoupleLookupError, NotFound};

/// A question the caller's couple does not have.
const NO_QUESTION: NotFound = NotFound("question");

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

/// Why changing or deleting a question failed (only its author may). Asking, listing, reading
/// and answering fail only as their scope can ([`InCoupleError`]), or with a missing question
/// ([`InCoupleLookupError`]).
#[derive(Debug, thiserror::Error)]
pub enum QnaError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// No such question in the caller's couple.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// Only the author may edit or delete a question.
    #[error("only the partner who asked may change or delete a question")]
    NotAuthor,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A question of the couple and its answers, as the caller may see them.
fn seen(cx: &mut CoupleCx<'_>, q: Question) -> Result<QuestionView, StoreError> {
    let answers = cx.tx.qna().answers(cx.couple.id, q.id)?;
    Ok(view_of(q, answers, cx.me.user.id))
}

/// A question of the couple that the caller asked.
fn own_question(cx: &mut CoupleCx<'_>, id: Uuid) -> Result<Question, QnaError> {
    let q = cx.tx.qna().question(cx.couple.id, id)?.ok_or(NO_QUESTION)?;
    if q.author != cx.me.user.id {
        return Err(QnaError::NotAuthor);
    }
    Ok(q)
}

impl CouplesService {
    /// Asks a question in the caller's couple.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn ask(
        &self,
        caller: &Caller,
        new: NewQuestion,
    ) -> Result<QuestionView, InCoupleError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<QuestionView, InCoupleError> {
                let q = Question {
                    id,
                    couple_id: cx.couple.id,
                    author: cx.me.user.id,
                    text: new.text,
                    theme: new.theme,
                    created_at: cx.now,
                    updated_at: cx.now,
                };
                cx.tx.qna().insert_question(&q)?;
                cx.changed(EntityKind::Question, q.id, ChangeOp::Upsert)?;
                Ok(view_of(q, Vec::new(), cx.me.user.id))
            })
            .await
    }

    /// The couple's questions, newest first, a page at a time.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn questions(
        &self,
        caller: &Caller,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<QuestionView>, InCoupleError> {
        let limit = page_size(limit);
        self.ports
            .read_in_couple(
                caller,
                move |cx| -> Result<Page<QuestionView>, InCoupleError> {
                    let (page, next) = paged(
                        cx.tx.qna().questions(cx.couple.id, after, limit + 1)?,
                        limit,
                        |q| q.id,
                    );
                    let items = page
                        .into_iter()
                        .map(|q| seen(cx, q))
                        .collect::<Result<_, _>>()?;
                    Ok(Page { items, next })
                },
            )
            .await
    }

    /// One question of the couple.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn question(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<QuestionView, InCoupleLookupError> {
        self.ports
            .read_in_couple(
                caller,
                move |cx| -> Result<QuestionView, InCoupleLookupError> {
                    let q = cx.tx.qna().question(cx.couple.id, id)?.ok_or(NO_QUESTION)?;
                    Ok(seen(cx, q)?)
                },
            )
            .await
    }

    /// Edits a question (its author only).
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn edit_question(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: QuestionChanges,
    ) -> Result<QuestionView, QnaError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<QuestionView, QnaError> {
                let mut q = own_question(cx, id)?;
                changes.apply_to(&mut q, cx.now);
                cx.tx.qna().update_question(&q)?;
                cx.changed(EntityKind::Question, q.id, ChangeOp::Upsert)?;
                Ok(seen(cx, q)?)
            })
            .await
    }

    /// Deletes a question and its answers (its author only).
    ///
    /// # Errors
    /// See [`QnaError`].
    pub async fn delete_question(&self, caller: &Caller, id: Uuid) -> Result<(), QnaError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<(), QnaError> {
                own_question(cx, id)?;
                for a in cx.tx.qna().answers(cx.couple.id, id)? {
                    cx.changed(EntityKind::Answer, a.id, ChangeOp::Delete)?;
                }
                cx.tx.qna().delete_question(cx.couple.id, id)?;
                cx.changed(EntityKind::Question, id, ChangeOp::Delete)?;
                Ok(())
            })
            .await
    }

    /// Creates or updates the caller's answer to a question.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn answer(
        &self,
        caller: &Caller,
        question: Uuid,
        draft: AnswerDraft,
    ) -> Result<QuestionView, InCoupleLookupError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(
                caller,
                move |cx| -> Result<QuestionView, InCoupleLookupError> {
                    let q = cx
                        .tx
                        .qna()
                        .question(cx.couple.id, question)?
                        .ok_or(NO_QUESTION)?;
                    let stored = cx.tx.qna().upsert_answer(&Answer {
                        id,
                        question_id: q.id,
                        couple_id: cx.couple.id,
                        author: cx.me.user.id,
                        status: draft.status,
                        text: draft.text,
                        created_at: cx.now,
                        updated_at: cx.now,
                    })?;
                    // The feed names the answer, never its words: nothing leaks before the reveal.
                    cx.changed(EntityKind::Answer, stored.id, ChangeOp::Upsert)?;
                    Ok(seen(cx, q)?)
                },
            )
            .await
    }
}
