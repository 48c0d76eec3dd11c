//! One-time tokens of mailed links in SQL.

use crate::one::OneRow;
use accueil_domain::identity::{Email, EmailToken, TokenDigest, TokenPurpose, UserId};
use accueil_ports::StoreError;
use accueil_ports::identity::EmailTokensRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::email_tokens;
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = email_tokens)]
struct EmailTokenRow {
    id: String,
    user_id: String,
    purpose: String,
    digest: String,
    new_email: Option<String>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

impl TryFrom<EmailTokenRow> for EmailToken {
    type Error = StoreError;
    fn try_from(r: EmailTokenRow) -> Result<Self, StoreError> {
        Ok(EmailToken {
            id: uuid(&r.id)?,
            user_id: UserId(uuid(&r.user_id)?),
            purpose: TokenPurpose::parse(&r.purpose).ok_or_else(|| {
                StoreError::Internal(format!("unknown token purpose {:?}", r.purpose))
            })?,
            digest: TokenDigest(r.digest),
            new_email: r.new_email.map(Email::from_trusted),
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
            used_at: r.used_at.map(utc),
        })
    }
}

impl EmailTokensRepo for DieselTx<'_> {
    fn insert_email_token(&mut self, t: &EmailToken) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(email_tokens::table)
            .values(EmailTokenRow {
                id: t.id.to_string(),
                user_id: t.user_id.to_string(),
                purpose: t.purpose.as_str().to_owned(),
                digest: t.digest.0.clone(),
                new_email: t.new_email.as_ref().map(|e| e.as_str().to_owned()),
                created_at: naive(t.created_at),
                expires_at: naive(t.expires_at),
                used_at: t.used_at.map(naive),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn email_token_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<EmailToken>, StoreError> {
        email_tokens::table
            .filter(email_tokens::digest.eq(&digest.0))
            .select(EmailTokenRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(EmailToken::try_from)
            .transpose()
    }

    fn use_email_token(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::update(
            email_tokens::table
                .find(id.to_string())
                .filter(email_tokens::used_at.is_null()),
        )
        .set(email_tokens::used_at.eq(naive(at)))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn supersede_email_tokens(
        &mut self,
        user: UserId,
        purpose: TokenPurpose,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        let n = diesel::update(
            email_tokens::table
                .filter(email_tokens::user_id.eq(user.to_string()))
                .filter(email_tokens::purpose.eq(purpose.as_str()))
                .filter(email_tokens::used_at.is_null()),
        )
        .set(email_tokens::used_at.eq(naive(at)))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n as u64)
    }

    fn purge_email_tokens_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let n =
            diesel::delete(email_tokens::table.filter(email_tokens::expires_at.lt(naive(cutoff))))
                .execute(self.conn)
                .map_err(store_error)?;
        Ok(n as u64)
    }
}
