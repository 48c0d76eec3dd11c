//! Users, sessions and refresh tokens in SQL.

use accueil_domain::identity::{
    ApiKey, ApiKeyId, ApiKeyName, ApiKeyScope, AvatarUrl, Bio, DisplayName, Email, EmailToken,
    ExternalIdentity, FlowResponse, IdentityId, Language, NotificationPrefs, OAuthFlow,
    PasswordHash, PendingLink, ProviderName, RefreshToken, Role, Session, SessionId, TimeZone,
    TokenDigest, TokenPurpose, User, UserId, Username,
};
use accueil_ports::StoreError;
use accueil_ports::identity::{IdentityRepo, UserWriteError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use crate::schema::{
    api_keys, email_tokens, external_identities, oauth_flows, oauth_pending_links, refresh_tokens,
    sessions, users,
};
use crate::tx::{DieselTx, constraint, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserRow {
    id: String,
    email: String,
    email_canonical: String,
    username: Option<String>,
    display_name: Option<String>,
    password_hash: Option<String>,
    role: String,
    email_verified: bool,
    is_active: bool,
    language: String,
    time_zone: Option<String>,
    avatar_url: Option<String>,
    bio: Option<String>,
    notify_email: bool,
    notify_push: bool,
    deleted_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            email_canonical: u.email.canonical(),
            username: u.username.as_ref().map(|n| n.as_str().to_owned()),
            display_name: u.display_name.as_ref().map(|n| n.as_str().to_owned()),
            password_hash: u.password_hash.as_ref().map(|h| h.as_str().to_owned()),
            role: u.role.as_str().to_owned(),
            email_verified: u.email_verified,
            is_active: u.is_active,
            language: u.language.as_str().to_owned(),
            time_zone: u.time_zone.as_ref().map(|t| t.as_str().to_owned()),
            avatar_url: u.avatar_url.as_ref().map(|a| a.as_str().to_owned()),
            bio: u.bio.as_ref().map(|b| b.as_str().to_owned()),
            notify_email: u.notifications.email,
            notify_push: u.notifications.push,
            deleted_at: u.deleted_at.map(naive),
            created_at: naive(u.created_at),
            updated_at: naive(u.updated_at),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(uuid(&r.id)?),
            email: Email::from_trusted(r.email),
            username: r.username.map(Username::from_trusted),
            display_name: r.display_name.map(DisplayName::from_trusted),
            password_hash: r.password_hash.map(PasswordHash::new),
            role: Role::parse(&r.role)
                .ok_or_else(|| StoreError::Internal(format!("unknown role {:?}", r.role)))?,
            email_verified: r.email_verified,
            is_active: r.is_active,
            language: Language::parse(&r.language).ok_or_else(|| {
                StoreError::Internal(format!("unknown language {:?}", r.language))
            })?,
            time_zone: r.time_zone.map(TimeZone::from_trusted),
            avatar_url: r.avatar_url.map(AvatarUrl::from_trusted),
            bio: r.bio.map(Bio::from_trusted),
            notifications: NotificationPrefs {
                email: r.notify_email,
                push: r.notify_push,
            },
            deleted_at: r.deleted_at.map(utc),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

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

/// Which unique rule a user write broke.
fn user_write_error(e: DieselError) -> UserWriteError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &e {
        let which = constraint(&**info);
        if which.contains("email") {
            return UserWriteError::EmailTaken;
        }
        if which.contains("username") {
            return UserWriteError::UsernameTaken;
        }
    }
    UserWriteError::Store(store_error(e))
}

fn one_user(rows: Option<UserRow>) -> Result<Option<User>, StoreError> {
    rows.map(User::try_from).transpose()
}

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

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = external_identities)]
struct IdentityRow {
    id: String,
    user_id: String,
    provider: String,
    subject: String,
    email: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    proven: bool,
}

impl TryFrom<IdentityRow> for ExternalIdentity {
    type Error = StoreError;
    fn try_from(r: IdentityRow) -> Result<Self, StoreError> {
        Ok(ExternalIdentity {
            id: IdentityId(uuid(&r.id)?),
            user_id: UserId(uuid(&r.user_id)?),
            provider: ProviderName::from_trusted(r.provider),
            subject: r.subject,
            email: r.email,
            created_at: utc(r.created_at),
            last_used_at: r.last_used_at.map(utc),
            proven: r.proven,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_flows)]
struct FlowRow {
    state_digest: String,
    provider: String,
    nonce: String,
    pkce_verifier: String,
    binding_digest: String,
    response: String,
    link_to: Option<String>,
    link_session: Option<String>,
    expires_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

impl TryFrom<FlowRow> for OAuthFlow {
    type Error = StoreError;
    fn try_from(r: FlowRow) -> Result<Self, StoreError> {
        Ok(OAuthFlow {
            state_digest: TokenDigest(r.state_digest),
            provider: ProviderName::from_trusted(r.provider),
            nonce: r.nonce,
            pkce_verifier: r.pkce_verifier,
            binding_digest: TokenDigest(r.binding_digest),
            response: FlowResponse::parse(&r.response).ok_or_else(|| {
                StoreError::Internal(format!("corrupt response {:?}", r.response))
            })?,
            link_to: r.link_to.as_deref().map(uuid).transpose()?.map(UserId),
            link_session: r
                .link_session
                .as_deref()
                .map(uuid)
                .transpose()?
                .map(SessionId),
            expires_at: utc(r.expires_at),
            created_at: utc(r.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_pending_links)]
struct PendingLinkRow {
    digest: String,
    user_id: String,
    provider: String,
    subject: String,
    email: Option<String>,
    expires_at: NaiveDateTime,
}

impl DieselTx<'_> {
    fn api_key_where(&mut self, id: &str, user: &str) -> Result<Option<ApiKey>, StoreError> {
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::user_id.eq(user))
            .select(ApiKeyRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(ApiKey::try_from)
            .transpose()
    }
}

impl IdentityRepo for DieselTx<'_> {
    fn insert_identity(&mut self, i: &ExternalIdentity) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(external_identities::table)
            .values(IdentityRow {
                id: i.id.0.to_string(),
                user_id: i.user_id.to_string(),
                provider: i.provider.as_str().to_owned(),
                subject: i.subject.clone(),
                email: i.email.clone(),
                created_at: naive(i.created_at),
                last_used_at: i.last_used_at.map(naive),
                proven: i.proven,
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn identity_by_subject(
        &mut self,
        provider: &ProviderName,
        subject: &str,
    ) -> Result<Option<ExternalIdentity>, StoreError> {
        external_identities::table
            .filter(external_identities::provider.eq(provider.as_str()))
            .filter(external_identities::subject.eq(subject))
            .select(IdentityRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(ExternalIdentity::try_from)
            .transpose()
    }

    fn identities_of(&mut self, user: UserId) -> Result<Vec<ExternalIdentity>, StoreError> {
        external_identities::table
            .filter(external_identities::user_id.eq(user.to_string()))
            .order((
                external_identities::created_at.asc(),
                external_identities::id.asc(),
            ))
            .select(IdentityRow::as_select())
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .map(ExternalIdentity::try_from)
            .collect()
    }

    fn touch_identity(&mut self, id: IdentityId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        diesel::update(external_identities::table.find(id.0.to_string()))
            .set(external_identities::last_used_at.eq(naive(at)))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn delete_identity(&mut self, user: UserId, id: IdentityId) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::delete(
            external_identities::table
                .filter(external_identities::id.eq(id.0.to_string()))
                .filter(external_identities::user_id.eq(user.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n > 0)
    }

    fn insert_oauth_flow(&mut self, f: &OAuthFlow) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(oauth_flows::table)
            .values(FlowRow {
                state_digest: f.state_digest.0.clone(),
                provider: f.provider.as_str().to_owned(),
                nonce: f.nonce.clone(),
                pkce_verifier: f.pkce_verifier.clone(),
                binding_digest: f.binding_digest.0.clone(),
                response: f.response.as_str().to_owned(),
                link_to: f.link_to.map(|u| u.to_string()),
                link_session: f.link_session.map(|s| s.0.to_string()),
                expires_at: naive(f.expires_at),
                created_at: naive(f.created_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn take_oauth_flow(
        &mut self,
        state_digest: &TokenDigest,
    ) -> Result<Option<OAuthFlow>, StoreError> {
        self.writable()?;
        // DELETE ... RETURNING: of two concurrent callbacks with one state, one gets the row.
        let rows: Vec<FlowRow> = diesel::delete(oauth_flows::table.find(&state_digest.0))
            .returning((
                oauth_flows::state_digest,
                oauth_flows::provider,
                oauth_flows::nonce,
                oauth_flows::pkce_verifier,
                oauth_flows::binding_digest,
                oauth_flows::response,
                oauth_flows::link_to,
                oauth_flows::link_session,
                oauth_flows::expires_at,
                oauth_flows::created_at,
            ))
            .get_results(self.conn)
            .map_err(store_error)?;
        rows.into_iter().next().map(OAuthFlow::try_from).transpose()
    }

    fn insert_pending_link(&mut self, l: &PendingLink) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(oauth_pending_links::table)
            .values(PendingLinkRow {
                digest: l.digest.0.clone(),
                user_id: l.user_id.to_string(),
                provider: l.provider.as_str().to_owned(),
                subject: l.subject.clone(),
                email: l.email.clone(),
                expires_at: naive(l.expires_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn take_pending_link(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<PendingLink>, StoreError> {
        self.writable()?;
        let rows: Vec<PendingLinkRow> = diesel::delete(oauth_pending_links::table.find(&digest.0))
            .returning((
                oauth_pending_links::digest,
                oauth_pending_links::user_id,
                oauth_pending_links::provider,
                oauth_pending_links::subject,
                oauth_pending_links::email,
                oauth_pending_links::expires_at,
            ))
            .get_results(self.conn)
            .map_err(store_error)?;
        rows.into_iter()
            .next()
            .map(|r| {
                Ok(PendingLink {
                    digest: TokenDigest(r.digest),
                    user_id: UserId(uuid(&r.user_id)?),
                    provider: ProviderName::from_trusted(r.provider),
                    subject: r.subject,
                    email: r.email,
                    expires_at: utc(r.expires_at),
                })
            })
            .transpose()
    }

    fn purge_oauth_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let flows =
            diesel::delete(oauth_flows::table.filter(oauth_flows::expires_at.lt(naive(cutoff))))
                .execute(self.conn)
                .map_err(store_error)?;
        let links = diesel::delete(
            oauth_pending_links::table.filter(oauth_pending_links::expires_at.lt(naive(cutoff))),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok((flows + links) as u64)
    }

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

    fn api_key_by_digest(&mut self, digest: &TokenDigest) -> Result<Option<ApiKey>, StoreError> {
        api_keys::table
            .filter(api_keys::digest.eq(&digest.0))
            .select(ApiKeyRow::as_select())
            .first(self.conn)
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

    fn insert_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        diesel::insert_into(users::table)
            .values(UserRow::from(user))
            .execute(self.conn)
            .map_err(user_write_error)?;
        Ok(())
    }

    fn update_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        let row = UserRow::from(user);
        let n = diesel::update(users::table.find(&row.id))
            .set(&row)
            .execute(self.conn)
            .map_err(user_write_error)?;
        if n == 0 {
            return Err(UserWriteError::NotFound);
        }
        Ok(())
    }

    fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        self.lock_for_update("users", &id.to_string())?;
        let row = users::table
            .find(id.to_string())
            .select(UserRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?;
        one_user(row)
    }

    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        let row = users::table
            .filter(users::email_canonical.eq(email.canonical()))
            .select(UserRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?;
        one_user(row)
    }

    fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        let row = users::table
            .filter(users::username.eq(username.as_str()))
            .select(UserRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?;
        one_user(row)
    }

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

    fn session(&mut self, id: SessionId) -> Result<Option<Session>, StoreError> {
        sessions::table
            .find(id.to_string())
            .select(SessionRow::as_select())
            .first(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Session::try_from)
            .transpose()
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
            .first(self.conn)
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
            .first(self.conn)
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

    fn purge_deleted_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        // Sessions, refresh tokens and e-mail tokens go with their user (ON DELETE CASCADE).
        let n = diesel::delete(
            users::table
                .filter(users::deleted_at.is_not_null())
                .filter(users::deleted_at.lt(naive(cutoff))),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n as u64)
    }
}
