//! Authentication of access tokens.
//!
//! The JWT's signature and claims are checked first (no I/O); then one read transaction loads
//! the user and the session, so that logout, logout-all and disabling an account take effect
//! at once instead of when the 15-minute token expires.

use accueil_domain::identity::{ApiKeyId, ApiKeyScope, Role, SessionId, User};
use accueil_ports::system::AccessTokenError;
use accueil_ports::{StoreError, StoreExt};

use super::IdentityService;

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An access token of a signed-in session.
    Session(SessionId),
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
            Credential::Session(id) => Ok(id),
            Credential::ApiKey { .. } => Err(SessionRequired),
        }
    }
}

/// Why a bearer token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Malformed, badly signed or with a wrong claim.
    #[error("invalid access token")]
    InvalidToken,
    /// Past its expiry.
    #[error("access token expired")]
    TokenExpired,
    /// Its session was ended, or its user no longer exists.
    #[error("session revoked")]
    SessionRevoked,
    /// Its user is disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// An unknown, revoked or expired API key, or one of a deleted account.
    #[error("invalid API key")]
    InvalidApiKey,
    /// A read-only API key on a request that would change data.
    #[error("read-only API key")]
    ReadOnlyKey,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IdentityService {
    /// Resolves a bearer token to the caller.
    ///
    /// # Errors
    /// See [`AuthError`].
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AuthError> {
        let now = self.ports.clock.now();
        let claims = self
            .ports
            .access_tokens
            .verify(bearer, now)
            .map_err(|e| match e {
                AccessTokenError::Expired => AuthError::TokenExpired,
                AccessTokenError::Invalid | AccessTokenError::Signing(_) => AuthError::InvalidToken,
            })?;
        let (uid, sid) = (claims.user_id, claims.session_id);
        let (user, session) = self
            .ports
            .store
            .read(move |tx| -> Result<_, StoreError> {
                Ok((tx.users().user_by_id(uid)?, tx.sessions().session(sid)?))
            })
            .await?;
        let (Some(user), Some(session)) = (user, session) else {
            return Err(AuthError::SessionRevoked);
        };
        if session.user_id != user.id || !session.is_live() {
            return Err(AuthError::SessionRevoked);
        }
        if !user.is_active {
            return Err(AuthError::AccountDisabled);
        }
        Ok(Principal {
            user,
            credential: Credential::Session(sid),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::Duration;

    use super::*;
    use crate::identity::testing::Harness;

    #[tokio::test]
    async fn a_fresh_token_authenticates_until_it_expires() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        let who = h.app.authenticate(&pair.access_token).await.unwrap();
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
        let who = h.app.authenticate(&phone.access_token).await.unwrap();
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
        let who = h.app.authenticate(&phone.access_token).await.unwrap();
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
