//! Couples, invites, the change feed and the Q&A in SQL.

use accueil_domain::couples::{
    ActionOwner, Answer, AnswerStatus, AnswerText, Change, ChangeOp, CheckIn, Couple, CoupleId,
    CoupleProfile, Description, EntityKind, Goal, GoalAction, GoalStatus, HomeMessage, IntroText,
    Invite, Letter, LetterContent, Month, Note, Question, QuestionText, Score, Theme, Title,
};
use accueil_domain::identity::{TimeZone, UserId};
use accueil_ports::StoreError;
use accueil_ports::couples::CouplesRepo;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{
    checkins, couple_changes, couple_invites, couples, goal_actions, goals, letters, qna_answers,
    qna_questions,
};
use crate::tx::{DieselTx, all, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = couples, treat_none_as_null = true)]
struct CoupleRow {
    id: String,
    partner_a: String,
    partner_b: Option<String>,
    created_at: NaiveDateTime,
    paired_at: Option<NaiveDateTime>,
    dissolved_at: Option<NaiveDateTime>,
    start_date: Option<NaiveDate>,
    home_message: Option<String>,
    intro_text: Option<String>,
    time_zone: Option<String>,
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
            start_date: c.profile.start_date,
            home_message: c
                .profile
                .home_message
                .as_ref()
                .map(|m| m.as_str().to_owned()),
            intro_text: c.profile.intro_text.as_ref().map(|t| t.as_str().to_owned()),
            time_zone: c.profile.time_zone.as_ref().map(|z| z.as_str().to_owned()),
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
            profile: CoupleProfile {
                start_date: r.start_date,
                home_message: r.home_message.map(HomeMessage::from_trusted),
                intro_text: r.intro_text.map(IntroText::from_trusted),
                time_zone: r.time_zone.map(TimeZone::from_trusted),
            },
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

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = goals, treat_none_as_null = true)]
struct GoalRow {
    id: String,
    couple_id: String,
    author_id: String,
    title: String,
    description: Option<String>,
    target_date: Option<NaiveDate>,
    status: String,
    completed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Goal> for GoalRow {
    fn from(g: &Goal) -> Self {
        Self {
            id: g.id.to_string(),
            couple_id: g.couple_id.to_string(),
            author_id: g.author.to_string(),
            title: g.title.as_str().to_owned(),
            description: g.description.as_ref().map(|d| d.as_str().to_owned()),
            target_date: g.target_date,
            status: g.status.as_str().to_owned(),
            completed_at: g.completed_at.map(naive),
            created_at: naive(g.created_at),
            updated_at: naive(g.updated_at),
        }
    }
}

impl TryFrom<GoalRow> for Goal {
    type Error = StoreError;
    fn try_from(r: GoalRow) -> Result<Self, StoreError> {
        Ok(Goal {
            id: uuid(&r.id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            author: UserId(uuid(&r.author_id)?),
            title: Title::from_trusted(r.title),
            description: r.description.map(Description::from_trusted),
            target_date: r.target_date,
            status: GoalStatus::parse(&r.status).ok_or_else(|| {
                StoreError::Internal(format!("unknown goal status {:?}", r.status))
            })?,
            completed_at: r.completed_at.map(utc),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = goal_actions, treat_none_as_null = true)]
struct ActionRow {
    id: String,
    goal_id: String,
    couple_id: String,
    title: String,
    owner: String,
    due_date: Option<NaiveDate>,
    done: bool,
    completed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&GoalAction> for ActionRow {
    fn from(a: &GoalAction) -> Self {
        Self {
            id: a.id.to_string(),
            goal_id: a.goal_id.to_string(),
            couple_id: a.couple_id.to_string(),
            title: a.title.as_str().to_owned(),
            owner: a.owner.as_str().to_owned(),
            due_date: a.due_date,
            done: a.done,
            completed_at: a.completed_at.map(naive),
            created_at: naive(a.created_at),
            updated_at: naive(a.updated_at),
        }
    }
}

impl TryFrom<ActionRow> for GoalAction {
    type Error = StoreError;
    fn try_from(r: ActionRow) -> Result<Self, StoreError> {
        Ok(GoalAction {
            id: uuid(&r.id)?,
            goal_id: uuid(&r.goal_id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            title: Title::from_trusted(r.title),
            owner: ActionOwner::parse(&r.owner).ok_or_else(|| {
                StoreError::Internal(format!("unknown action owner {:?}", r.owner))
            })?,
            due_date: r.due_date,
            done: r.done,
            completed_at: r.completed_at.map(utc),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = checkins)]
struct CheckInRow {
    id: String,
    couple_id: String,
    user_id: String,
    day: NaiveDate,
    mood: i32,
    stress: i32,
    energy: i32,
    note: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn score(v: i32) -> Result<Score, StoreError> {
    u8::try_from(v)
        .ok()
        .filter(|v| (1..=10).contains(v))
        .map(Score::from_trusted)
        .ok_or_else(|| StoreError::Internal(format!("corrupt score {v}")))
}

impl TryFrom<CheckInRow> for CheckIn {
    type Error = StoreError;
    fn try_from(r: CheckInRow) -> Result<Self, StoreError> {
        Ok(CheckIn {
            id: uuid(&r.id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            user_id: UserId(uuid(&r.user_id)?),
            day: r.day,
            mood: score(r.mood)?,
            stress: score(r.stress)?,
            energy: score(r.energy)?,
            note: r.note.map(Note::from_trusted),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = letters)]
struct LetterRow {
    id: String,
    couple_id: String,
    month: String,
    content: String,
    last_author_id: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<LetterRow> for Letter {
    type Error = StoreError;
    fn try_from(r: LetterRow) -> Result<Self, StoreError> {
        Ok(Letter {
            id: uuid(&r.id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            month: Month::parse("month", &r.month)
                .map_err(|_| StoreError::Internal(format!("corrupt month {:?}", r.month)))?,
            content: LetterContent::from_trusted(r.content),
            last_author: UserId(uuid(&r.last_author_id)?),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
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
        let found = q
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Couple::try_from)
            .transpose()?;
        match found {
            // In a write unit, lock the couple and read it again: the caller will change it.
            Some(c) if !self.read_only => self.couple(c.id),
            other => Ok(other),
        }
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
        self.lock_for_update("couples", &id.to_string())?;
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
        self.lock_for_update("qna_questions", &id.to_string())?;
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

    fn purge_dissolved_before(
        &mut self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<CoupleId>, StoreError> {
        self.writable()?;
        // Everything of a couple goes with it (ON DELETE CASCADE).
        let ids: Vec<String> = diesel::delete(
            couples::table
                .filter(couples::dissolved_at.is_not_null())
                .filter(couples::dissolved_at.lt(naive(cutoff))),
        )
        .returning(couples::id)
        .get_results(self.conn)
        .map_err(store_error)?;
        ids.iter().map(|id| uuid(id).map(CoupleId)).collect()
    }

    fn insert_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(goals::table)
            .values(GoalRow::from(goal))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        let row = GoalRow::from(goal);
        let n = diesel::update(
            goals::table
                .find(&row.id)
                .filter(goals::couple_id.eq(&row.couple_id)),
        )
        .set(&row)
        .execute(self.conn)
        .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such goal".into()))
        }
    }

    fn delete_goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Vec<Uuid>>, StoreError> {
        self.writable()?;
        if self.goal(couple, id)?.is_none() {
            return Ok(None);
        }
        let ids: Vec<String> = goal_actions::table
            .filter(goal_actions::goal_id.eq(id.to_string()))
            .order(goal_actions::id.asc())
            .select(goal_actions::id)
            .load(self.conn)
            .map_err(store_error)?;
        diesel::delete(goal_actions::table.filter(goal_actions::goal_id.eq(id.to_string())))
            .execute(self.conn)
            .map_err(store_error)?;
        diesel::delete(goals::table.find(id.to_string()))
            .execute(self.conn)
            .map_err(store_error)?;
        ids.iter()
            .map(|s| uuid(s))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Goal>, StoreError> {
        self.lock_for_update("goals", &id.to_string())?;
        goals::table
            .find(id.to_string())
            .filter(goals::couple_id.eq(couple.to_string()))
            .select(GoalRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Goal::try_from)
            .transpose()
    }

    fn goals(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Goal>, StoreError> {
        let mut q = goals::table
            .filter(goals::couple_id.eq(couple.to_string()))
            .order(goals::id.desc())
            .limit(i64::from(limit))
            .select(GoalRow::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(goals::id.lt(b.to_string()));
        }
        all(q.load(self.conn).map_err(store_error)?)
    }

    fn insert_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(goal_actions::table)
            .values(ActionRow::from(action))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        let row = ActionRow::from(action);
        let n = diesel::update(
            goal_actions::table
                .find(&row.id)
                .filter(goal_actions::couple_id.eq(&row.couple_id))
                .filter(goal_actions::goal_id.eq(&row.goal_id)),
        )
        .set(&row)
        .execute(self.conn)
        .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such action".into()))
        }
    }

    fn delete_action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::delete(
            goal_actions::table
                .find(id.to_string())
                .filter(goal_actions::couple_id.eq(couple.to_string()))
                .filter(goal_actions::goal_id.eq(goal.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<Option<GoalAction>, StoreError> {
        self.lock_for_update("goal_actions", &id.to_string())?;
        goal_actions::table
            .find(id.to_string())
            .filter(goal_actions::couple_id.eq(couple.to_string()))
            .filter(goal_actions::goal_id.eq(goal.to_string()))
            .select(ActionRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(GoalAction::try_from)
            .transpose()
    }

    fn actions(&mut self, couple: CoupleId, goal: Uuid) -> Result<Vec<GoalAction>, StoreError> {
        let rows = goal_actions::table
            .filter(goal_actions::couple_id.eq(couple.to_string()))
            .filter(goal_actions::goal_id.eq(goal.to_string()))
            .order(goal_actions::id.asc())
            .select(ActionRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        all(rows)
    }

    fn upsert_checkin(&mut self, c: &CheckIn) -> Result<CheckIn, StoreError> {
        self.writable()?;
        let existing: Option<CheckInRow> = checkins::table
            .filter(checkins::couple_id.eq(c.couple_id.to_string()))
            .filter(checkins::user_id.eq(c.user_id.to_string()))
            .filter(checkins::day.eq(c.day))
            .select(CheckInRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?;
        let note = c.note.as_ref().map(|n| n.as_str().to_owned());
        match existing {
            Some(row) => {
                diesel::update(checkins::table.find(&row.id))
                    .set((
                        checkins::mood.eq(i32::from(c.mood.get())),
                        checkins::stress.eq(i32::from(c.stress.get())),
                        checkins::energy.eq(i32::from(c.energy.get())),
                        checkins::note.eq(note),
                        checkins::updated_at.eq(naive(c.updated_at)),
                    ))
                    .execute(self.conn)
                    .map_err(store_error)?;
                let mut stored = CheckIn::try_from(row)?;
                stored.mood = c.mood;
                stored.stress = c.stress;
                stored.energy = c.energy;
                stored.note = c.note.clone();
                stored.updated_at = c.updated_at;
                Ok(stored)
            }
            None => {
                diesel::insert_into(checkins::table)
                    .values(CheckInRow {
                        id: c.id.to_string(),
                        couple_id: c.couple_id.to_string(),
                        user_id: c.user_id.to_string(),
                        day: c.day,
                        mood: i32::from(c.mood.get()),
                        stress: i32::from(c.stress.get()),
                        energy: i32::from(c.energy.get()),
                        note,
                        created_at: naive(c.created_at),
                        updated_at: naive(c.updated_at),
                    })
                    .execute(self.conn)
                    .map_err(store_error)?;
                Ok(c.clone())
            }
        }
    }

    fn checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<CheckIn>, StoreError> {
        checkins::table
            .find(id.to_string())
            .filter(checkins::couple_id.eq(couple.to_string()))
            .select(CheckInRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(CheckIn::try_from)
            .transpose()
    }

    fn delete_checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::delete(
            checkins::table
                .find(id.to_string())
                .filter(checkins::couple_id.eq(couple.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn checkins(
        &mut self,
        couple: CoupleId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        before: Option<(NaiveDate, Uuid)>,
        limit: u32,
    ) -> Result<Vec<CheckIn>, StoreError> {
        let mut q = checkins::table
            .filter(checkins::couple_id.eq(couple.to_string()))
            .order((checkins::day.desc(), checkins::id.desc()))
            .limit(i64::from(limit))
            .select(CheckInRow::as_select())
            .into_boxed();
        if let Some(f) = from {
            q = q.filter(checkins::day.ge(f));
        }
        if let Some(t) = to {
            q = q.filter(checkins::day.le(t));
        }
        if let Some((day, id)) = before {
            q = q.filter(
                checkins::day
                    .lt(day)
                    .or(checkins::day.eq(day).and(checkins::id.lt(id.to_string()))),
            );
        }
        all(q.load(self.conn).map_err(store_error)?)
    }

    fn letter_of_month(
        &mut self,
        couple: CoupleId,
        month: Month,
    ) -> Result<Option<Letter>, StoreError> {
        letters::table
            .filter(letters::couple_id.eq(couple.to_string()))
            .filter(letters::month.eq(month.to_string()))
            .select(LetterRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Letter::try_from)
            .transpose()
    }

    fn insert_letter(&mut self, l: &Letter) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(letters::table)
            .values(LetterRow {
                id: l.id.to_string(),
                couple_id: l.couple_id.to_string(),
                month: l.month.to_string(),
                content: l.content.as_str().to_owned(),
                last_author_id: l.last_author.to_string(),
                created_at: naive(l.created_at),
                updated_at: naive(l.updated_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_letter(&mut self, l: &Letter) -> Result<(), StoreError> {
        self.writable()?;
        let n = diesel::update(
            letters::table
                .find(l.id.to_string())
                .filter(letters::couple_id.eq(l.couple_id.to_string())),
        )
        .set((
            letters::content.eq(l.content.as_str()),
            letters::last_author_id.eq(l.last_author.to_string()),
            letters::updated_at.eq(naive(l.updated_at)),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such letter".into()))
        }
    }

    fn letter(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Letter>, StoreError> {
        letters::table
            .find(id.to_string())
            .filter(letters::couple_id.eq(couple.to_string()))
            .select(LetterRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Letter::try_from)
            .transpose()
    }

    fn letters(
        &mut self,
        couple: CoupleId,
        before: Option<Month>,
        limit: u32,
    ) -> Result<Vec<Letter>, StoreError> {
        let mut q = letters::table
            .filter(letters::couple_id.eq(couple.to_string()))
            .order(letters::month.desc())
            .limit(i64::from(limit))
            .select(LetterRow::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(letters::month.lt(b.to_string()));
        }
        all(q.load(self.conn).map_err(store_error)?)
    }
}
