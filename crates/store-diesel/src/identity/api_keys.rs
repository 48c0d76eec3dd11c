//! API keys in SQL.

use crate::one::OneRow;
use accueil_domain::identity::{
    ApiKey, ApiKeyId, ApiKeyName, ApiKeyScope, TokenDigest, User, UserId,
};
use accueil_ports::StoreError;
use accueil_ports::identity::ApiKeysRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::users::UserRow;
use crate::schema::{api_keys, users};
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    id: String,
    user_id: String,
    name: String,
    hint: String,
    digest: String,
    scope: String,
    expires_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl From<&ApiKey> for ApiKeyRow {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id.0.to_string(),
            user_id: k.user_id.to_string(),
            name: k.name.as_str().to_owned(),
            hint: k.hint.clone(),
            digest: k.digest.0.clone(),
            scope: k.scope.as_str().to_owned(),
            expires_at: k.expires_at.map(naive),
            revoked_at: k.revoked_at.map(naive),
            last_used_at: k.last_used_at.map(naive),
            created_at: naive(k.created_at),
        }
    }
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: ApiKeyId(uuid(&r.id)?),
            user_id: UserId(uuid(&r.user_id)?),
            name: ApiKeyName::from_trusted(r.name),
            hint: r.hint,
            digest: TokenDigest(r.digest),
            scope: ApiKeyScope::parse(&r.scope)
                .map_err(|_| StoreError::Internal(format!("corrupt scope {:?}", r.scope)))?,
            expires_at: r.expires_at.map(utc),
            revoked_at: r.revoked_at.map(utc),
            last_used_at: r.last_used_at.map(utc),
            created_at: utc(r.created_at),
        })
    }
}

impl DieselTx<'_> {
    fn api_key_where(&mut self, id: &str, user: &str) -> Result<Option<ApiKey>, StoreError> {
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::user_id.eq(user))
            .select(ApiKeyRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(ApiKey::try_from)
            .transpose()
    }
}

impl ApiKeysRepo for DieselTx<'_> {
    fn insert_api_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(api_keys::table)
            .values(ApiKeyRow::from(key))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn api_keys_of(&mut self, user: UserId) -> Result<Vec<ApiKey>, StoreError> {
        api_keys::table
            .filter(api_keys::user_id.eq(user.to_string()))
            .order((api_keys::created_at.asc(), api_keys::id.asc()))
            .select(ApiKeyRow::as_select())
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .map(ApiKey::try_from)
            .collect()
    }

    fn key_and_user(&mut self, digest: &TokenDigest) -> Result<Option<(ApiKey, User)>, StoreError> {
        api_keys::table
            .inner_join(users::table)
            .filter(api_keys::digest.eq(&digest.0))
            .select((ApiKeyRow::as_select(), UserRow::as_select()))
            .one()
            .get_result::<(ApiKeyRow, UserRow)>(self.conn)
            .optional()
            .map_err(store_error)?
            .map(|(k, u)| Ok((ApiKey::try_from(k)?, User::try_from(u)?)))
            .transpose()
    }

    fn api_key_by_digest(&mut self, digest: &TokenDigest) -> Result<Option<ApiKey>, StoreError> {
        api_keys::table
            .filter(api_keys::digest.eq(&digest.0))
            .select(ApiKeyRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(ApiKey::try_from)
            .transpose()
    }

    fn revoke_api_key(
        &mut self,
        user: UserId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, StoreError> {
        self.writable()?;
        let (id, user) = (id.0.to_string(), user.to_string());
        diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(&id))
                .filter(api_keys::user_id.eq(&user))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(naive(at)))
        .execute(self.conn)
        .map_err(store_error)?;
        self.api_key_where(&id, &user)
    }

    fn revoke_api_keys_of(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let n = diesel::update(
            api_keys::table
                .filter(api_keys::user_id.eq(user.to_string()))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(naive(at)))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n as u64)
    }

    fn touch_api_key(&mut self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        diesel::update(api_keys::table.filter(api_keys::id.eq(id.0.to_string())))
            .set(api_keys::last_used_at.eq(naive(at)))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }
}
