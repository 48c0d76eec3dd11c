//! Couples, invites, the change feed and the Q&A in SQL.

use accueil_domain::couples::{
    Answer, AnswerStatus, AnswerText, Change, ChangeOp, Couple, CoupleId, EntityKind, Invite,
    Question, QuestionText, Theme,
};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::CouplesRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{couple_changes, couple_invites, couples, qna_answers, qna_questions};
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = couples, treat_none_as_null = true)]
struct CoupleRow {
    id: String,
    partner_a: String,
    partner_b: Option<String>,
    created_at: NaiveDateTime,
    paired_at: Option<NaiveDateTime>,
    dissolved_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

impl From<&Couple> for CoupleRow {
    fn from(c: &Couple) -> Self {
        Self {
            id: c.id.to_string(),
            partner_a: c.partner_a.to_string(),
            partner_b: c.partner_b.map(|b| b.to_string()),
            created_at: naive(c.created_at),
            paired_at: c.paired_at.map(naive),
            dissolved_at: c.dissolved_at.map(naive),
            updated_at: naive(c.updated_at),
        }
    }
}

impl TryFrom<CoupleRow> for Couple {
    type Error = StoreError;
    fn try_from(r: CoupleRow) -> Result<Self, StoreError> {
        Ok(Couple {
            id: CoupleId(uuid(&r.id)?),
            partner_a: UserId(uuid(&r.partner_a)?),
            partner_b: r.partner_b.as_deref().map(uuid).transpose()?.map(UserId),
            created_at: utc(r.created_at),
            paired_at: r.paired_at.map(utc),
            dissolved_at: r.dissolved_at.map(utc),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = couple_invites)]
struct InviteRow {
    id: String,
    couple_id: String,
    code: String,
    created_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<InviteRow> for Invite {
    type Error = StoreError;
    fn try_from(r: InviteRow) -> Result<Self, StoreError> {
        Ok(Invite {
            id: uuid(&r.id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            code: r.code,
            created_by: UserId(uuid(&r.created_by)?),
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
            used_at: r.used_at.map(utc),
            revoked_at: r.revoked_at.map(utc),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = couple_changes)]
struct ChangeRow {
    couple_id: String,
    seq: i64,
    kind: String,
    entity_id: String,
    op: String,
    at: NaiveDateTime,
}

impl TryFrom<ChangeRow> for Change {
    type Error = StoreError;
    fn try_from(r: ChangeRow) -> Result<Self, StoreError> {
        Ok(Change {
            couple_id: CoupleId(uuid(&r.couple_id)?),
            seq: r.seq,
            kind: EntityKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Internal(format!("unknown change kind {:?}", r.kind)))?,
            entity_id: uuid(&r.entity_id)?,
            op: ChangeOp::parse(&r.op)
                .ok_or_else(|| StoreError::Internal(format!("unknown change op {:?}", r.op)))?,
            at: utc(r.at),
        })
    }
}

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

fn all<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

impl DieselTx<'_> {
    fn couples_where_partner(
        &mut self,
        user: UserId,
        active_only: bool,
    ) -> Result<Option<Couple>, StoreError> {
        let u = user.to_string();
        let mut q = couples::table
            .filter(
                couples::partner_a
                    .eq(u.clone())
                    .or(couples::partner_b.eq(u)),
            )
            .order((couples::created_at.desc(), couples::id.desc()))
            .select(CoupleRow::as_select())
            .into_boxed();
        if active_only {
            q = q.filter(couples::dissolved_at.is_null());
        }
        q.first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Couple::try_from)
            .transpose()
    }
}

impl CouplesRepo for DieselTx<'_> {
    fn insert_couple(&mut self, c: &Couple) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(couples::table)
            .values(CoupleRow::from(c))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_couple(&mut self, c: &Couple) -> Result<(), StoreError> {
        self.writable()?;
        let row = CoupleRow::from(c);
        let n = diesel::update(couples::table.find(&row.id))
            .set(&row)
            .execute(self.conn)
            .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such couple".into()))
        }
    }

    fn active_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError> {
        self.couples_where_partner(user, true)
    }

    fn latest_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError> {
        self.couples_where_partner(user, false)
    }

    fn couple(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError> {
        couples::table
            .find(id.to_string())
            .select(CoupleRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Couple::try_from)
            .transpose()
    }

    fn insert_invite(&mut self, i: &Invite) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(couple_invites::table)
            .values(InviteRow {
                id: i.id.to_string(),
                couple_id: i.couple_id.to_string(),
                code: i.code.clone(),
                created_by: i.created_by.to_string(),
                created_at: naive(i.created_at),
                expires_at: naive(i.expires_at),
                used_at: i.used_at.map(naive),
                revoked_at: i.revoked_at.map(naive),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn revoke_invites(
        &mut self,
        couple: CoupleId,
        at: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.writable()?;
        let live = couple_invites::table
            .filter(couple_invites::couple_id.eq(couple.to_string()))
            .filter(couple_invites::used_at.is_null())
            .filter(couple_invites::revoked_at.is_null());
        let ids: Vec<String> = live
            .clone()
            .select(couple_invites::id)
            .order(couple_invites::id.asc())
            .load(self.conn)
            .map_err(store_error)?;
        diesel::update(live)
            .set(couple_invites::revoked_at.eq(Some(naive(at))))
            .execute(self.conn)
            .map_err(store_error)?;
        ids.iter().map(|s| uuid(s)).collect()
    }

    fn invite_by_code(&mut self, code: &str) -> Result<Option<Invite>, StoreError> {
        couple_invites::table
            .filter(couple_invites::code.eq(code))
            .order((couple_invites::created_at.desc(), couple_invites::id.desc()))
            .select(InviteRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Invite::try_from)
            .transpose()
    }

    fn live_code_exists(&mut self, code: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let n: i64 = couple_invites::table
            .filter(couple_invites::code.eq(code))
            .filter(couple_invites::used_at.is_null())
            .filter(couple_invites::revoked_at.is_null())
            .filter(couple_invites::expires_at.gt(naive(now)))
            .count()
            .get_result(self.conn)
            .map_err(store_error)?;
        Ok(n > 0)
    }

    fn use_invite(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::update(
            couple_invites::table
                .find(id.to_string())
                .filter(couple_invites::used_at.is_null())
                .filter(couple_invites::revoked_at.is_null()),
        )
        .set(couple_invites::used_at.eq(Some(naive(at))))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
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
        // The UPDATE takes the couple's row lock until commit: the couple's writers line up,
        // so a reader never sees number n+1 before n.
        let seq: i64 = diesel::update(couples::table.find(couple.to_string()))
            .set(couples::change_seq.eq(couples::change_seq + 1))
            .returning(couples::change_seq)
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .ok_or_else(|| StoreError::Internal("change for an unknown couple".into()))?;
        diesel::insert_into(couple_changes::table)
            .values(ChangeRow {
                couple_id: couple.to_string(),
                seq,
                kind: kind.as_str().to_owned(),
                entity_id: entity.to_string(),
                op: op.as_str().to_owned(),
                at: naive(at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(seq)
    }

    fn changes_after(
        &mut self,
        couple: CoupleId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let rows = couple_changes::table
            .filter(couple_changes::couple_id.eq(couple.to_string()))
            .filter(couple_changes::seq.gt(after))
            .order(couple_changes::seq.asc())
            .limit(i64::from(limit))
            .select(ChangeRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        all(rows)
    }

    fn changes_since(
        &mut self,
        couple: CoupleId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let rows = couple_changes::table
            .filter(couple_changes::couple_id.eq(couple.to_string()))
            .filter(couple_changes::at.gt(naive(since)))
            .order(couple_changes::seq.asc())
            .limit(i64::from(limit))
            .select(ChangeRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        all(rows)
    }

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
            .first(self.conn)
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
            .first(self.conn)
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

    fn purge_dissolved_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        // Invites, changes, questions and answers go with the couple (ON DELETE CASCADE).
        let n = diesel::delete(
            couples::table
                .filter(couples::dissolved_at.is_not_null())
                .filter(couples::dissolved_at.lt(naive(cutoff))),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n as u64)
    }
}
