//! Share links, with the memories a share lists, in SQL.

use accueil_domain::couples::CoupleId;
use accueil_domain::identity::UserId;
use accueil_domain::memories::{MemoryId, Share, ShareId, ShareScope};
use accueil_ports::StoreError;
use accueil_ports::memories::SharesRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::schema::{share_memories, shares};
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = shares)]
struct ShareRow {
    id: String,
    couple_id: String,
    token_digest: String,
    all_memories: bool,
    expires_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    created_by: String,
    created_at: NaiveDateTime,
}

impl ShareRow {
    fn into_share(self, listed: Vec<MemoryId>) -> Result<Share, StoreError> {
        let mut listed = listed;
        listed.sort();
        Ok(Share {
            id: ShareId(uuid(&self.id)?),
            couple_id: CoupleId(uuid(&self.couple_id)?),
            token_digest: self.token_digest,
            scope: if self.all_memories {
                ShareScope::All
            } else {
                ShareScope::Only(listed)
            },
            expires_at: self.expires_at.map(utc),
            revoked_at: self.revoked_at.map(utc),
            created_by: UserId(uuid(&self.created_by)?),
            created_at: utc(self.created_at),
        })
    }
}

impl DieselTx<'_> {
    /// Loads each share's memory list and builds the shares.
    fn complete_shares(&mut self, rows: Vec<ShareRow>) -> Result<Vec<Share>, StoreError> {
        let partial: Vec<String> = rows
            .iter()
            .filter(|r| !r.all_memories)
            .map(|r| r.id.clone())
            .collect();
        let links: Vec<(String, String)> = if partial.is_empty() {
            Vec::new()
        } else {
            share_memories::table
                .filter(share_memories::share_id.eq_any(&partial))
                .select((share_memories::share_id, share_memories::memory_id))
                .load(self.conn)
                .map_err(store_error)?
        };
        rows.into_iter()
            .map(|r| {
                let listed = links
                    .iter()
                    .filter(|(s, _)| *s == r.id)
                    .map(|(_, m)| uuid(m).map(MemoryId))
                    .collect::<Result<Vec<_>, _>>()?;
                r.into_share(listed)
            })
            .collect()
    }

    fn share_where(
        &mut self,
        filter: Box<
            dyn BoxableExpression<
                    shares::table,
                    <crate::connection::AnyConnection as diesel::Connection>::Backend,
                    SqlType = diesel::sql_types::Bool,
                >,
        >,
    ) -> Result<Vec<Share>, StoreError> {
        let rows = shares::table
            .filter(filter)
            .order((shares::created_at.asc(), shares::id.asc()))
            .select(ShareRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        self.complete_shares(rows)
    }
}

impl SharesRepo for DieselTx<'_> {
    fn insert_share(&mut self, share: &Share) -> Result<(), StoreError> {
        self.writable()?;
        let id = share.id.0.to_string();
        diesel::insert_into(shares::table)
            .values(ShareRow {
                id: id.clone(),
                couple_id: share.couple_id.to_string(),
                token_digest: share.token_digest.clone(),
                all_memories: matches!(share.scope, ShareScope::All),
                expires_at: share.expires_at.map(naive),
                revoked_at: share.revoked_at.map(naive),
                created_by: share.created_by.to_string(),
                created_at: naive(share.created_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        if let ShareScope::Only(ids) = &share.scope {
            for memory in ids {
                diesel::insert_into(share_memories::table)
                    .values((
                        share_memories::share_id.eq(&id),
                        share_memories::memory_id.eq(memory.0.to_string()),
                    ))
                    .execute(self.conn)
                    .map_err(store_error)?;
            }
        }
        Ok(())
    }

    fn shares(&mut self, couple: CoupleId) -> Result<Vec<Share>, StoreError> {
        self.share_where(Box::new(shares::couple_id.eq(couple.to_string())))
    }

    fn share_by_digest(&mut self, digest: &str) -> Result<Option<Share>, StoreError> {
        Ok(self
            .share_where(Box::new(shares::token_digest.eq(digest.to_owned())))?
            .pop())
    }

    fn revoke_share(
        &mut self,
        couple: CoupleId,
        id: ShareId,
        at: DateTime<Utc>,
    ) -> Result<Option<Share>, StoreError> {
        self.writable()?;
        let (id, couple) = (id.0.to_string(), couple.to_string());
        diesel::update(
            shares::table
                .filter(shares::id.eq(&id))
                .filter(shares::couple_id.eq(&couple))
                .filter(shares::revoked_at.is_null()),
        )
        .set(shares::revoked_at.eq(naive(at)))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(self
            .share_where(Box::new(
                shares::id.eq(id).and(shares::couple_id.eq(couple)),
            ))?
            .pop())
    }
}
