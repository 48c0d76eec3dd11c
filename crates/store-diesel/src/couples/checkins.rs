//! Daily check-ins in SQL.

use crate::one::OneRow;
use accueil_domain::couples::{CheckIn, CoupleId, Note, Score};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::CheckinsRepo;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::checkins;
use crate::tx::{DieselTx, all, naive, store_error, utc, uuid};

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

impl CheckinsRepo for DieselTx<'_> {
    fn upsert_checkin(&mut self, c: &CheckIn) -> Result<CheckIn, StoreError> {
        self.writable()?;
        let existing: Option<CheckInRow> = checkins::table
            .filter(checkins::couple_id.eq(c.couple_id.to_string()))
            .filter(checkins::user_id.eq(c.user_id.to_string()))
            .filter(checkins::day.eq(c.day))
            .select(CheckInRow::as_select())
            .one()
            .get_result(self.conn)
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

    fn update_checkin(&mut self, c: &CheckIn) -> Result<(), StoreError> {
        self.writable()?;
        let n = diesel::update(
            checkins::table
                .find(c.id.to_string())
                .filter(checkins::couple_id.eq(c.couple_id.to_string())),
        )
        .set((
            checkins::mood.eq(i32::from(c.mood.get())),
            checkins::stress.eq(i32::from(c.stress.get())),
            checkins::energy.eq(i32::from(c.energy.get())),
            checkins::note.eq(c.note.as_ref().map(|n| n.as_str().to_owned())),
            checkins::updated_at.eq(naive(c.updated_at)),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such check-in".into()))
        }
    }

    fn checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<CheckIn>, StoreError> {
        checkins::table
            .find(id.to_string())
            .filter(checkins::couple_id.eq(couple.to_string()))
            .select(CheckInRow::as_select())
            .one()
            .get_result(self.conn)
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
}
