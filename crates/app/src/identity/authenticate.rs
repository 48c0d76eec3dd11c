//! Authentication, split in two so a request pays for one unit of work: what the request
//! presented is checked without I/O at the edge ([`IdentityService::caller_from_bearer`],
//! [`IdentityService::caller_from_api_key`]: the JWT's signature and claims, an API key's
//! shape), giving a [`Caller`]; the caller is then resolved against storage *inside* the use
//! case's own unit of work ([`authenticate_in`]), so logout, logout-all, a revoked key and a
//! disabled account take effect at once without a second transaction.

use accueil_domain::identity::{
    API_KEY_PREFIX, ApiKeyId, ApiKeyScope, Role, SessionId, TokenDigest, User, UserId,
};
use accueil_ports::system::AccessTokenError;
use accueil_ports::{StoreError, Tx};
use chrono::{DateTime, Utc};

use super::IdentityService;

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An access token of a signed-in session.
    Session {
        /// The session.
        id: SessionId,
        /// When it was opened (a sign-in less than ten minutes old confirms sensitive changes
        /// on accounts without a password).
        started_at: DateTime<Utc>,
    },
    /// An API key.
    ApiKey {
        /// Which key.
        id: ApiKeyId,
        /// What it may do.
        scope: ApiKeyScope,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user, as stored now.
    pub user: User,
    /// The session or the API key the request came with.
    pub credential: Credential,
}

/// Managing credentials (password, address, sessions, keys, the account itself) needs a
/// signed-in session: an API key is for data, and a leaked key must not be able to take the
/// account over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this needs a signed-in session, not an API key")]
pub struct SessionRequired;

/// Why a use case that manages credentials failed when nothing but its caller can refuse it:
/// not authenticated, or with an API key instead of a session (logout, logout-all, listing
/// the API keys).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The caller came with an API key.
    #[error(transparent)]
    SessionRequired(#[from] SessionRequired),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Principal {
    /// Whether the caller holds `role` now (not when the token was issued).
    pub fn has_role(&self, role: Role) -> bool {
        self.user.has_role(role)
    }

    /// The caller's session.
    ///
    /// # Errors
    /// [`SessionRequired`] when the caller came with an API key.
    pub fn session_id(&self) -> Result<SessionId, SessionRequired> {
        match self.credential {
            Credential::Session { id, .. } => Ok(id),
            Credential::ApiKey { .. } => Err(SessionRequired),
        }
    }

    /// When the caller's session was opened.
    ///
    /// # Errors
    /// [`SessionRequired`] when the caller came with an API key.
    pub fn session_started_at(&self) -> Result<DateTime<Utc>, SessionRequired> {
        match self.credential {
            Credential::Session { started_at, .. } => Ok(started_at),
            Credential::ApiKey { .. } => Err(SessionRequired),
        }
    }
}

/// Why a bearer token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential was sent.
    #[error("send an access token as Authorization: Bearer <token>, or an API key as X-API-Key")]
    Missing,
    /// Malformed, badly signed or with a wrong claim.
    #[error("the access token is invalid")]
    InvalidToken,
    /// Past its expiry.
    #[error("the access token has expired; refresh it")]
    TokenExpired,
    /// Its session was ended, or its user no longer exists.
    #[error("this session has ended; log in again")]
    SessionRevoked,
    /// Its user is disabled.
    #[error("this account is disabled")]
    AccountDisabled,
    /// An unknown, revoked or expired API key, or one of a deleted account.
    #[error("the API key is unknown, revoked or expired")]
    InvalidApiKey,
    /// A read-only API key on a request that would change data.
    #[error("this API key may only read; use a read_write key to change data")]
    ReadOnlyKey,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a request presented, checked without I/O but not yet against storage. Use cases take
/// a `Caller` and resolve it inside their unit of work (see [`crate::scope`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Caller(Presented);

#[derive(Clone, PartialEq, Eq)]
enum Presented {
    /// A verified access token of this session.
    Session { user: UserId, session: SessionId },
    /// An API key (its digest), on a request that would change data or not.
    ApiKey { digest: TokenDigest, writes: bool },
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Presented::Session { user, session } => f
                .debug_struct("Caller")
                .field("user", user)
                .field("session", session)
                .finish(),
            Presented::ApiKey { writes, .. } => f
                .debug_struct("Caller")
                .field("api_key", &"<redacted>")
                .field("writes", writes)
                .finish(),
        }
    }
}

impl Caller {
    /// The caller of a session already authenticated once (a realtime connection re-checking
    /// itself): it is resolved against storage like any other.
    pub(crate) fn session(user: UserId, session: SessionId) -> Self {
        Self(Presented::Session { user, session })
    }

    /// The user the caller claims to be, when the claim needs no look-up (an access token;
    /// not an API key). Only a resolved [`Principal`] is proof.
    pub fn claimed_user(&self) -> Option<UserId> {
        match &self.0 {
            Presented::Session { user, .. } => Some(*user),
            Presented::ApiKey { .. } => None,
        }
    }
}

/// An API key whose use should be recorded (at most once an hour), when the unit of work
/// that authenticated it could not write.
pub(crate) type KeyToTouch = Option<ApiKeyId>;

/// Resolves `caller` inside the current unit of work: the session and its user (an access
/// token), or the key and its user (an API key). In a write unit a key's use is recorded in
/// the same transaction; in a read unit the key to record is returned, for the caller to
/// record after the commit.
///
/// # Errors
/// See [`AuthError`].
pub(crate) fn authenticate_in(
    tx: &mut dyn Tx,
    caller: &Caller,
    now: DateTime<Utc>,
    writable: bool,
) -> Result<(Principal, KeyToTouch), AuthError> {
    match &caller.0 {
        Presented::Session { user, session } => {
            let Some((s, u)) = tx.sessions().signed_in(*session)? else {
                return Err(AuthError::SessionRevoked);
            };
            if s.user_id != *user || !s.is_live() {
                return Err(AuthError::SessionRevoked);
            }
            if !u.is_active {
                return Err(AuthError::AccountDisabled);
            }
            Ok((
                Principal {
                    user: u,
                    credential: Credential::Session {
                        id: *session,
                        started_at: s.created_at,
                    },
                },
                None,
            ))
        }
        Presented::ApiKey { digest, writes } => {
            let Some((key, user)) = tx.api_keys().key_and_user(digest)? else {
                return Err(AuthError::InvalidApiKey);
            };
            if !key.is_live(now) || user.deleted_at.is_some() {
                return Err(AuthError::InvalidApiKey);
            }
            if !user.is_active {
                return Err(AuthError::AccountDisabled);
            }
            if *writes && !key.scope.allows_writes() {
                return Err(AuthError::ReadOnlyKey);
            }
            let mut touch = None;
            if key.use_is_news(now) {
                if writable {
                    tx.api_keys().touch_api_key(key.id, now)?;
                } else {
                    touch = Some(key.id);
                }
            }
            Ok((
                Principal {
                    user,
                    credential: Credential::ApiKey {
                        id: key.id,
                        scope: key.scope,
                    },
                },
                touch,
            ))
        }
    }
}

impl IdentityService {
    /// Checks an access token's signature and claims (no I/O).
    ///
    /// # Errors
    /// [`AuthError::TokenExpired`] or [`AuthError::InvalidToken`].
    pub fn caller_from_bearer(&self, bearer: &str) -> Result<Caller, AuthError> {
        let claims = self
            .ports
            .access_tokens
            .verify(bearer, self.ports.clock.now())
            .map_err(|e| match e {
                AccessTokenError::Expired => AuthError::TokenExpired,
                AccessTokenError::Invalid | AccessTokenError::Signing(_) => AuthError::InvalidToken,
            })?;
        Ok(Caller(Presented::Session {
            user: claims.user_id,
            session: claims.session_id,
        }))
    }

    /// Checks an `X-API-Key`'s shape and digests it (no I/O). `writes` says whether the
    /// request would change data; a read-only key is refused such requests when resolved.
    ///
    /// # Errors
    /// [`AuthError::InvalidApiKey`] when it cannot be one of our keys.
    pub fn caller_from_api_key(&self, presented: &str, writes: bool) -> Result<Caller, AuthError> {
        if !presented.starts_with(API_KEY_PREFIX) {
            return Err(AuthError::InvalidApiKey);
        }
        Ok(Caller(Presented::ApiKey {
            digest: self.ports.opaque_tokens.digest(presented),
            writes,
        }))
    }

    /// The caller, resolved in one read unit of work (what `GET /auth/me` answers).
    ///
    /// # Errors
    /// See [`AuthError`].
    pub async fn me(&self, caller: &Caller) -> Result<Principal, AuthError> {
        self.ports
            .read_as(caller, |cx| -> Result<Principal, AuthError> {
                Ok(cx.me.clone())
            })
            .await
    }

    /// Resolves a bearer token to the caller: [`Self::caller_from_bearer`] then [`Self::me`].
    ///
    /// # Errors
    /// See [`AuthError`].
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AuthError> {
        let caller = self.caller_from_bearer(bearer)?;
        self.me(&caller).await
    }

    /// Resolves an API key to the caller: [`Self::caller_from_api_key`] then [`Self::me`].
    ///
    /// # Errors
    /// See [`AuthError`].
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
        writes: bool,
    ) -> Result<Principal, AuthError> {
        let caller = self.caller_from_api_key(presented, writes)?;
        self.me(&caller).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::Duration;

    use super::*;
    use crate::testing::Harness;

    #[tokio::test]
    async fn a_fresh_token_authenticates_until_it_expires() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        let who = h.signed_in(&pair).await;
        assert_eq!(who.user.id, user.id);
        h.advance(Duration::minutes(15));
        assert!(matches!(
            h.app.authenticate(&pair.access_token).await,
            Err(AuthError::TokenExpired)
        ));
        assert!(matches!(
            h.app.authenticate("garbage").await,
            Err(AuthError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn logout_ends_this_session_only() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let phone = h.login("ann@example.org").await;
        let laptop = h.login("ann@example.org").await;
        let who = h.signed_in(&phone).await;
        h.app.logout(&who).await.unwrap();
        assert!(matches!(
            h.app.authenticate(&phone.access_token).await,
            Err(AuthError::SessionRevoked)
        ));
        assert!(h.app.refresh(&phone.refresh_token).await.is_err());
        h.app.authenticate(&laptop.access_token).await.unwrap();
        h.app.refresh(&laptop.refresh_token).await.unwrap();
    }

    #[tokio::test]
    async fn logout_all_ends_every_session() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let phone = h.login("ann@example.org").await;
        let laptop = h.login("ann@example.org").await;
        let who = h.signed_in(&phone).await;
        assert_eq!(h.app.logout_all(&who).await.unwrap(), 2);
        for pair in [&phone, &laptop] {
            assert!(h.app.authenticate(&pair.access_token).await.is_err());
            assert!(h.app.refresh(&pair.refresh_token).await.is_err());
        }
        assert!(
            h.audit(user.id)
                .await
                .contains(&accueil_domain::admin::AuditAction::AllSessionsRevoked)
        );
    }

    #[tokio::test]
    async fn disabling_takes_effect_at_once() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        h.disable(user.id).await;
        assert!(matches!(
            h.app.authenticate(&pair.access_token).await,
            Err(AuthError::AccountDisabled)
        ));
    }
}
