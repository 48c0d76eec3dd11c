//! Monthly letters in SQL.

use crate::one::OneRow;
use accueil_domain::couples::{CoupleId, Letter, LetterContent, Month, TimeLock};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::LettersRepo;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::letters;
use crate::tx::{DieselTx, all, naive, store_error, utc, uuid};

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
    deliver_on: Option<NaiveDate>,
    sealed_by_id: Option<String>,
}

impl LetterRow {
    fn of(l: &Letter) -> Self {
        Self {
            id: l.id.to_string(),
            couple_id: l.couple_id.to_string(),
            month: l.month.to_string(),
            content: l.content.as_str().to_owned(),
            last_author_id: l.last_author.to_string(),
            created_at: naive(l.created_at),
            updated_at: naive(l.updated_at),
            deliver_on: l.lock.map(|k| k.deliver_on),
            sealed_by_id: l.lock.map(|k| k.set_by.to_string()),
        }
    }
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
            lock: match (r.deliver_on, r.sealed_by_id) {
                (Some(deliver_on), Some(by)) => Some(TimeLock {
                    deliver_on,
                    set_by: UserId(uuid(&by)?),
                }),
                (None, None) => None,
                _ => return Err(StoreError::Internal("half a letter time lock".into())),
            },
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

impl LettersRepo for DieselTx<'_> {
    fn letter_of_month(
        &mut self,
        couple: CoupleId,
        month: Month,
    ) -> Result<Option<Letter>, StoreError> {
        letters::table
            .filter(letters::couple_id.eq(couple.to_string()))
            .filter(letters::month.eq(month.to_string()))
            .select(LetterRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Letter::try_from)
            .transpose()
    }

    fn insert_letter(&mut self, l: &Letter) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(letters::table)
            .values(LetterRow::of(l))
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
            letters::deliver_on.eq(l.lock.map(|k| k.deliver_on)),
            letters::sealed_by_id.eq(l.lock.map(|k| k.set_by.to_string())),
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

    fn delete_letter(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::delete(
            letters::table
                .find(id.to_string())
                .filter(letters::couple_id.eq(couple.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn letter(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Letter>, StoreError> {
        letters::table
            .find(id.to_string())
            .filter(letters::couple_id.eq(couple.to_string()))
            .select(LetterRow::as_select())
            .one()
            .get_result(self.conn)
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
