//! The couples' change feed in SQL.

use accueil_domain::couples::{Change, ChangeOp, CoupleId, EntityKind};
use accueil_ports::StoreError;
use accueil_ports::couples::FeedRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{couple_changes, couples};
use crate::tx::{DieselTx, all, naive, store_error, utc, uuid};

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

impl FeedRepo for DieselTx<'_> {
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
}
