//! Sessions (refresh-token families) and their refresh tokens in SQL.

use crate::one::OneRow;
use accueil_domain::identity::{RefreshToken, Session, SessionId, TokenDigest, User, UserId};
use accueil_ports::StoreError;
use accueil_ports::identity::SessionsRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::users::UserRow;
use crate::schema::{refresh_tokens, sessions, users};
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    revoke_reason: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId(uuid(&r.id)?),
            user_id: UserId(uuid(&r.user_id)?),
            created_at: utc(r.created_at),
            revoked_at: r.revoked_at.map(utc),
            revoke_reason: r.revoke_reason,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshTokenRow {
    id: String,
    session_id: String,
    user_id: String,
    digest: String,
    issued_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = StoreError;
    fn try_from(r: RefreshTokenRow) -> Result<Self, StoreError> {
        Ok(RefreshToken {
            id: uuid(&r.id)?,
            session_id: SessionId(uuid(&r.session_id)?),
            user_id: UserId(uuid(&r.user_id)?),
            digest: TokenDigest(r.digest),
            issued_at: utc(r.issued_at),
            expires_at: utc(r.expires_at),
            used_at: r.used_at.map(utc),
        })
    }
}

impl SessionsRepo for DieselTx<'_> {
    fn insert_session(&mut self, session: &Session) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(sessions::table)
            .values(SessionRow {
                id: session.id.to_string(),
                user_id: session.user_id.to_string(),
                created_at: naive(session.created_at),
                revoked_at: session.revoked_at.map(naive),
                revoke_reason: session.revoke_reason.clone(),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn signed_in(&mut self, id: SessionId) -> Result<Option<(Session, User)>, StoreError> {
        sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(id.to_string()))
            .select((SessionRow::as_select(), UserRow::as_select()))
            .one()
            .get_result::<(SessionRow, UserRow)>(self.conn)
            .optional()
            .map_err(store_error)?
            .map(|(s, u)| Ok((Session::try_from(s)?, User::try_from(u)?)))
            .transpose()
    }

    fn session(&mut self, id: SessionId) -> Result<Option<Session>, StoreError> {
        sessions::table
            .find(id.to_string())
            .select(SessionRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Session::try_from)
            .transpose()
    }

    fn sessions_of(&mut self, user: UserId) -> Result<Vec<Session>, StoreError> {
        sessions::table
            .filter(sessions::user_id.eq(user.to_string()))
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .select(SessionRow::as_select())
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .map(Session::try_from)
            .collect()
    }

    fn revoke_session(
        &mut self,
        id: SessionId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::update(
            sessions::table
                .find(id.to_string())
                .filter(sessions::revoked_at.is_null()),
        )
        .set((
            sessions::revoked_at.eq(naive(at)),
            sessions::revoke_reason.eq(reason),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn revoke_user_sessions(
        &mut self,
        user: UserId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        let n = diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user.to_string()))
                .filter(sessions::revoked_at.is_null()),
        )
        .set((
            sessions::revoked_at.eq(naive(at)),
            sessions::revoke_reason.eq(reason),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n as u64)
    }

    fn insert_refresh_token(&mut self, token: &RefreshToken) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(refresh_tokens::table)
            .values(RefreshTokenRow {
                id: token.id.to_string(),
                session_id: token.session_id.to_string(),
                user_id: token.user_id.to_string(),
                digest: token.digest.0.clone(),
                issued_at: naive(token.issued_at),
                expires_at: naive(token.expires_at),
                used_at: token.used_at.map(naive),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn refresh_token_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<RefreshToken>, StoreError> {
        refresh_tokens::table
            .filter(refresh_tokens::digest.eq(&digest.0))
            .select(RefreshTokenRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(RefreshToken::try_from)
            .transpose()
    }

    fn mark_refresh_token_used(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        // Compare-and-set: on PostgreSQL a concurrent transaction that updated the row first
        // makes this one re-check `used_at IS NULL` after it commits, and match nothing.
        let n = diesel::update(
            refresh_tokens::table
                .find(id.to_string())
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(naive(at)))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn purge_sessions_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let tokens = diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::expires_at.lt(naive(cutoff))),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        let old = sessions::table
            .filter(sessions::revoked_at.is_not_null())
            .filter(sessions::revoked_at.lt(naive(cutoff)))
            .select(sessions::id);
        let family =
            diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(old)))
                .execute(self.conn)
                .map_err(store_error)?;
        let gone = diesel::delete(
            sessions::table
                .filter(sessions::revoked_at.is_not_null())
                .filter(sessions::revoked_at.lt(naive(cutoff))),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok((tokens + family + gone) as u64)
    }
}
