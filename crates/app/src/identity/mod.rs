//! Identity use cases: registration, login, token refresh with reuse detection, logout,
//! authentication of access tokens, and administrator creation.

mod admin;
mod authenticate;
mod login;
mod logout;
mod refresh;
mod register;

use accueil_domain::admin::{AuditAction, AuditEvent};
use accueil_domain::identity::{RefreshToken, Session, SessionId, User, UserId};
use accueil_ports::StoreError;
use accueil_ports::Tx;
use chrono::{DateTime, Duration, Utc};

use crate::Ports;

pub use admin::{AdminOutcome, CreateAdminError, CreateAdminInput};
pub use authenticate::{AuthError, Principal};
pub use login::{LoginError, LoginInput};
pub use logout::LogoutError;
pub use refresh::RefreshError;
pub use register::{RegisterError, RegisterInput};

/// Identity settings.
#[derive(Debug, Clone, Copy)]
pub struct IdentitySettings {
    /// Lifetime of each refresh token (renewed on every rotation).
    pub refresh_ttl: Duration,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            refresh_ttl: Duration::days(30),
        }
    }
}

/// A new access and refresh token pair.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// The opaque refresh token, shown once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The user signed in.
    pub user_id: UserId,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// The identity use cases.
#[derive(Clone)]
pub struct IdentityService {
    ports: Ports,
    settings: IdentitySettings,
}

impl IdentityService {
    /// A service over these ports.
    pub fn new(ports: Ports, settings: IdentitySettings) -> Self {
        Self { ports, settings }
    }

    pub(crate) fn ports(&self) -> &Ports {
        &self.ports
    }

    /// A fresh refresh token for `session`, to be inserted in the caller's unit of work.
    fn new_refresh_token(&self, session: &Session, now: DateTime<Utc>) -> (String, RefreshToken) {
        let opaque = self.ports.opaque_tokens.generate();
        let token = RefreshToken {
            id: self.ports.ids.new_id(),
            session_id: session.id,
            user_id: session.user_id,
            digest: opaque.digest,
            issued_at: now,
            expires_at: now + self.settings.refresh_ttl,
            used_at: None,
        };
        (opaque.secret, token)
    }

    /// Signs the access token that goes with a refresh token.
    fn pair(
        &self,
        user: &User,
        session_id: SessionId,
        refresh_secret: String,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, accueil_ports::system::AccessTokenError> {
        let access = self
            .ports
            .access_tokens
            .issue(user.id, session_id, &user.roles(), now)?;
        Ok(TokenPair {
            access_token: access.token,
            refresh_token: refresh_secret,
            expires_in: (access.expires_at - now).num_seconds(),
            user_id: user.id,
        })
    }

    fn audit_event(
        &self,
        at: DateTime<Utc>,
        action: AuditAction,
        actor: Option<UserId>,
        subject: UserId,
        detail: impl Into<String>,
    ) -> AuditEvent {
        AuditEvent {
            id: self.ports.ids.new_id(),
            at,
            actor,
            action,
            subject: Some(subject),
            detail: detail.into(),
        }
    }
}

/// Revokes a session family and records why, inside the caller's unit of work.
fn revoke_family(
    tx: &mut dyn Tx,
    event: AuditEvent,
    session: SessionId,
    reason: &str,
) -> Result<(), StoreError> {
    if tx.identity().revoke_session(session, event.at, reason)? {
        tx.audit().record(&event)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing;
