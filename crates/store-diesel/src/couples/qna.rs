//! Questions and answers in SQL.

use crate::one::OneRow;
use accueil_domain::couples::{
    Answer, AnswerStatus, AnswerText, CoupleId, Question, QuestionText, Theme,
};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::QnaRepo;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{qna_answers, qna_questions};
use crate::tx::{DieselTx, all, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = qna_questions)]
struct QuestionRow {
    id: String,
    couple_id: String,
    author_id: String,
    text: String,
    theme: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<QuestionRow> for Question {
    type Error = StoreError;
    fn try_from(r: QuestionRow) -> Result<Self, StoreError> {
        Ok(Question {
            id: uuid(&r.id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            author: UserId(uuid(&r.author_id)?),
            text: QuestionText::from_trusted(r.text),
            theme: r.theme.map(Theme::from_trusted),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = qna_answers)]
struct AnswerRow {
    id: String,
    question_id: String,
    couple_id: String,
    author_id: String,
    status: String,
    text: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<AnswerRow> for Answer {
    type Error = StoreError;
    fn try_from(r: AnswerRow) -> Result<Self, StoreError> {
        Ok(Answer {
            id: uuid(&r.id)?,
            question_id: uuid(&r.question_id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            author: UserId(uuid(&r.author_id)?),
            status: AnswerStatus::parse(&r.status).ok_or_else(|| {
                StoreError::Internal(format!("unknown answer status {:?}", r.status))
            })?,
            text: r.text.map(AnswerText::from_trusted),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

impl QnaRepo for DieselTx<'_> {
    fn insert_question(&mut self, q: &Question) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(qna_questions::table)
            .values(QuestionRow {
                id: q.id.to_string(),
                couple_id: q.couple_id.to_string(),
                author_id: q.author.to_string(),
                text: q.text.as_str().to_owned(),
                theme: q.theme.as_ref().map(|t| t.as_str().to_owned()),
                created_at: naive(q.created_at),
                updated_at: naive(q.updated_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_question(&mut self, q: &Question) -> Result<(), StoreError> {
        self.writable()?;
        let n = diesel::update(
            qna_questions::table
                .find(q.id.to_string())
                .filter(qna_questions::couple_id.eq(q.couple_id.to_string())),
        )
        .set((
            qna_questions::text.eq(q.text.as_str()),
            qna_questions::theme.eq(q.theme.as_ref().map(|t| t.as_str())),
            qna_questions::updated_at.eq(naive(q.updated_at)),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such question".into()))
        }
    }

    fn delete_question(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        diesel::delete(
            qna_answers::table
                .filter(qna_answers::question_id.eq(id.to_string()))
                .filter(qna_answers::couple_id.eq(couple.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        let n = diesel::delete(
            qna_questions::table
                .find(id.to_string())
                .filter(qna_questions::couple_id.eq(couple.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn question(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Question>, StoreError> {
        qna_questions::table
            .find(id.to_string())
            .filter(qna_questions::couple_id.eq(couple.to_string()))
            .select(QuestionRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Question::try_from)
            .transpose()
    }

    fn questions(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Question>, StoreError> {
        let mut q = qna_questions::table
            .filter(qna_questions::couple_id.eq(couple.to_string()))
            .order(qna_questions::id.desc())
            .limit(i64::from(limit))
            .select(QuestionRow::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(qna_questions::id.lt(b.to_string()));
        }
        all(q.load(self.conn).map_err(store_error)?)
    }

    fn upsert_answer(&mut self, a: &Answer) -> Result<Answer, StoreError> {
        self.writable()?;
        let existing: Option<AnswerRow> = qna_answers::table
            .filter(qna_answers::question_id.eq(a.question_id.to_string()))
            .filter(qna_answers::author_id.eq(a.author.to_string()))
            .filter(qna_answers::couple_id.eq(a.couple_id.to_string()))
            .select(AnswerRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        let text = a.text.as_ref().map(|t| t.as_str().to_owned());
        match existing {
            Some(row) => {
                diesel::update(qna_answers::table.find(&row.id))
                    .set((
                        qna_answers::status.eq(a.status.as_str()),
                        qna_answers::text.eq(text.clone()),
                        qna_answers::updated_at.eq(naive(a.updated_at)),
                    ))
                    .execute(self.conn)
                    .map_err(store_error)?;
                let mut stored = Answer::try_from(row)?;
                stored.status = a.status;
                stored.text = a.text.clone();
                stored.updated_at = a.updated_at;
                Ok(stored)
            }
            None => {
                diesel::insert_into(qna_answers::table)
                    .values(AnswerRow {
                        id: a.id.to_string(),
                        question_id: a.question_id.to_string(),
                        couple_id: a.couple_id.to_string(),
                        author_id: a.author.to_string(),
                        status: a.status.as_str().to_owned(),
                        text,
                        created_at: naive(a.created_at),
                        updated_at: naive(a.updated_at),
                    })
                    .execute(self.conn)
                    .map_err(store_error)?;
                Ok(a.clone())
            }
        }
    }

    fn answers(&mut self, couple: CoupleId, question: Uuid) -> Result<Vec<Answer>, StoreError> {
        let rows = qna_answers::table
            .filter(qna_answers::couple_id.eq(couple.to_string()))
            .filter(qna_answers::question_id.eq(question.to_string()))
            .order((qna_answers::created_at.asc(), qna_answers::id.asc()))
            .select(AnswerRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        all(rows)
    }
}
