//! Couples (with their profile) and invites in SQL, and the purge of dissolved couples.

use crate::one::OneRow;
use accueil_domain::couples::{Couple, CoupleId, CoupleProfile, HomeMessage, IntroText, Invite};
use accueil_domain::identity::{TimeZone, UserId};
use accueil_ports::StoreError;
use accueil_ports::couples::PairingRepo;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{couple_invites, couples};
use crate::tx::{DieselTx, first_for_update, naive, store_error, utc, uuid};

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

/// The couples `$user` is a partner of, latest first; with `active`, only undissolved ones.
macro_rules! couples_of {
    ($user:expr) => {
        couples::table
            .filter(
                couples::partner_a
                    .eq($user.to_string())
                    .or(couples::partner_b.eq($user.to_string())),
            )
            .order((couples::created_at.desc(), couples::id.desc()))
            .select(CoupleRow::as_select())
    };
    ($user:expr, active) => {
        couples_of!($user).filter(couples::dissolved_at.is_null())
    };
}

fn one_couple(row: Option<CoupleRow>) -> Result<Option<Couple>, StoreError> {
    row.map(Couple::try_from).transpose()
}

impl PairingRepo for DieselTx<'_> {
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
        one_couple(
            couples_of!(user, active)
                .one()
                .get_result(self.conn)
                .optional()
                .map_err(store_error)?,
        )
    }

    fn active_couple_of_for_update(&mut self, user: UserId) -> Result<Option<Couple>, StoreError> {
        one_couple(first_for_update!(self, couples_of!(user, active)).map_err(store_error)?)
    }

    fn latest_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError> {
        one_couple(
            couples_of!(user)
                .one()
                .get_result(self.conn)
                .optional()
                .map_err(store_error)?,
        )
    }

    fn couple(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError> {
        couples::table
            .find(id.to_string())
            .select(CoupleRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Couple::try_from)
            .transpose()
    }

    fn couple_for_update(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError> {
        first_for_update!(
            self,
            couples::table
                .find(id.to_string())
                .select(CoupleRow::as_select())
        )
        .map_err(store_error)?
        .map(Couple::try_from)
        .transpose()
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
            .one()
            .get_result(self.conn)
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
}
