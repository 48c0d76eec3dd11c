//! The partners' perspectives in SQL.

use crate::one::OneRow;
use accueil_domain::couples::{CoupleId, Side};
use accueil_domain::identity::UserId;
use accueil_domain::memories::{Perspective, PerspectiveText};
use accueil_ports::StoreError;
use accueil_ports::memories::PerspectivesRepo;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::perspectives;
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = perspectives)]
struct PerspectiveRow {
    couple_id: String,
    side: String,
    author_id: String,
    content: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::A => "A",
        Side::B => "B",
    }
}

impl TryFrom<PerspectiveRow> for Perspective {
    type Error = StoreError;
    fn try_from(r: PerspectiveRow) -> Result<Self, StoreError> {
        Ok(Perspective {
            couple_id: CoupleId(uuid(&r.couple_id)?),
            side: match r.side.as_str() {
                "A" => Side::A,
                "B" => Side::B,
                other => return Err(StoreError::Internal(format!("corrupt side {other:?}"))),
            },
            author: UserId(uuid(&r.author_id)?),
            content: PerspectiveText::from_trusted(r.content),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

impl PerspectivesRepo for DieselTx<'_> {
    fn perspectives(&mut self, couple: CoupleId) -> Result<Vec<Perspective>, StoreError> {
        perspectives::table
            .filter(perspectives::couple_id.eq(couple.to_string()))
            .order(perspectives::side.asc())
            .select(PerspectiveRow::as_select())
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .map(Perspective::try_from)
            .collect()
    }

    fn put_perspective(&mut self, p: &Perspective) -> Result<Perspective, StoreError> {
        self.writable()?;
        let existing = self.perspective(p.couple_id, p.side)?;
        match existing {
            Some(old) => {
                diesel::update(
                    perspectives::table
                        .filter(perspectives::couple_id.eq(p.couple_id.to_string()))
                        .filter(perspectives::side.eq(side_name(p.side))),
                )
                .set((
                    perspectives::author_id.eq(p.author.to_string()),
                    perspectives::content.eq(p.content.as_str()),
                    perspectives::updated_at.eq(naive(p.updated_at)),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
                Ok(Perspective {
                    created_at: old.created_at,
                    ..p.clone()
                })
            }
            None => {
                diesel::insert_into(perspectives::table)
                    .values(PerspectiveRow {
                        couple_id: p.couple_id.to_string(),
                        side: side_name(p.side).to_owned(),
                        author_id: p.author.to_string(),
                        content: p.content.as_str().to_owned(),
                        created_at: naive(p.created_at),
                        updated_at: naive(p.updated_at),
                    })
                    .execute(self.conn)
                    .map_err(store_error)?;
                Ok(p.clone())
            }
        }
    }

    fn perspective(
        &mut self,
        couple: CoupleId,
        side: Side,
    ) -> Result<Option<Perspective>, StoreError> {
        perspectives::table
            .filter(perspectives::couple_id.eq(couple.to_string()))
            .filter(perspectives::side.eq(side_name(side)))
            .select(PerspectiveRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Perspective::try_from)
            .transpose()
    }
}
