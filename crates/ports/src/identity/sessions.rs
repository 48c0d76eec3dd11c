//! Sessions (refresh-token families) and their refresh tokens.

use accueil_domain::identity::{RefreshToken, Session, SessionId, TokenDigest, User, UserId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Sessions and refresh tokens, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SessionsRepo: Send {
    /// Stores a new session.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` when the user does not.
    fn insert_session(&mut self, session: &Session) -> Result<(), StoreError>;

    /// The session with this id and its user, in one read: what authenticating an access
    /// token needs.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn signed_in(&mut self, id: SessionId) -> Result<Option<(Session, User)>, StoreError>;

    /// The session with this id.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn session(&mut self, id: SessionId) -> Result<Option<Session>, StoreError>;

    /// Every session of a user, newest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn sessions_of(&mut self, user: UserId) -> Result<Vec<Session>, StoreError>;

    /// Revokes a live session; a revoked one keeps its first revocation time and reason.
    /// Returns whether it was live.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_session(
        &mut self,
        id: SessionId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, StoreError>;

    /// Revokes every live session of a user; returns how many were live.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_user_sessions(
        &mut self,
        user: UserId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64, StoreError>;

    /// Stores a new refresh token.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the digest or id exists; `StoreError::Internal` when the
    /// session does not.
    fn insert_refresh_token(&mut self, token: &RefreshToken) -> Result<(), StoreError>;

    /// The refresh token with this digest.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn refresh_token_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<RefreshToken>, StoreError>;

    /// Marks a token used, only if it is not used yet: the compare-and-set that lets at most one
    /// of several concurrent refreshes with the same token succeed. Returns whether this call
    /// marked it.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn mark_refresh_token_used(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Deletes the sessions revoked before `cutoff` (with their refresh tokens) and the refresh
    /// tokens that expired before `cutoff`. Returns how many rows went. Tokens of live sessions
    /// that are used but unexpired stay: replaying them must still revoke their family.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_sessions_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
