//! Identity ports: users, sessions and refresh tokens, e-mailed tokens, API keys, external
//! identities and OAuth flows; [`oauth`] holds the provider port.

pub mod oauth;

use accueil_domain::identity::{
    ApiKey, ApiKeyId, Email, EmailToken, ExternalIdentity, IdentityId, OAuthFlow, PendingLink,
    ProviderName, RefreshToken, Session, SessionId, TokenDigest, TokenPurpose, User, UserId,
    Username,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Why a user row could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserWriteError {
    /// Another user has this e-mail address (compared case-insensitively).
    #[error("e-mail address already registered")]
    EmailTaken,
    /// Another user has this username.
    #[error("username already taken")]
    UsernameTaken,
    /// No user has this id (updates only).
    #[error("no such user")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Users, sessions and refresh tokens, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdentityRepo: Send {
    /// Inserts a new user.
    ///
    /// # Errors
    /// `UserWriteError::EmailTaken` when another user's e-mail equals this one ignoring case;
    /// `UserWriteError::UsernameTaken` when the username is taken; `UserWriteError::Store`
    /// otherwise. Nothing is written on error.
    fn insert_user(&mut self, user: &User) -> Result<(), UserWriteError>;

    /// Replaces every stored field of an existing user (matched by id).
    ///
    /// # Errors
    /// `UserWriteError::NotFound` when no user has this id; `EmailTaken` / `UsernameTaken` as
    /// for [`IdentityRepo::insert_user`]; `UserWriteError::Store` otherwise.
    fn update_user(&mut self, user: &User) -> Result<(), UserWriteError>;

    /// The user with this id.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back into a valid user.
    fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The user whose e-mail equals `email` ignoring case.
    ///
    /// # Errors
    /// `StoreError::Internal` as for [`IdentityRepo::user_by_id`].
    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError>;

    /// The user with this username.
    ///
    /// # Errors
    /// `StoreError::Internal` as for [`IdentityRepo::user_by_id`].
    fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError>;

    /// Stores a new session.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` when the user does not.
    fn insert_session(&mut self, session: &Session) -> Result<(), StoreError>;

    /// The session with this id.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn session(&mut self, id: SessionId) -> Result<Option<Session>, StoreError>;

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

    /// Every session of a user, newest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn sessions_of(&mut self, user: UserId) -> Result<Vec<Session>, StoreError>;

    /// Stores a one-time e-mail token.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the digest or id exists; `StoreError::Internal` when the
    /// user does not.
    fn insert_email_token(&mut self, token: &EmailToken) -> Result<(), StoreError>;

    /// The e-mail token with this digest.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn email_token_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<EmailToken>, StoreError>;

    /// Marks a token used, only if it is not used yet (compare-and-set). Returns whether this
    /// call marked it.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn use_email_token(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Marks every unused token of `user` for `purpose` used (superseded), so only a newer
    /// link works. Returns how many.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn supersede_email_tokens(
        &mut self,
        user: UserId,
        purpose: TokenPurpose,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Deletes the accounts soft-deleted before `cutoff`, with their sessions and tokens (the
    /// audit log keeps their ids). Returns how many.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_deleted_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Deletes the sessions revoked before `cutoff` (with their refresh tokens) and the refresh
    /// tokens that expired before `cutoff`. Returns how many rows went. Tokens of live sessions
    /// that are used but unexpired stay: replaying them must still revoke their family.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_sessions_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Stores a new API key.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id or digest exists; `StoreError::Internal` when the
    /// user does not exist or on failure.
    fn insert_api_key(&mut self, key: &ApiKey) -> Result<(), StoreError>;

    /// A user's API keys in every state, oldest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn api_keys_of(&mut self, user: UserId) -> Result<Vec<ApiKey>, StoreError>;

    /// The key with this digest, in any state.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn api_key_by_digest(&mut self, digest: &TokenDigest) -> Result<Option<ApiKey>, StoreError>;

    /// Marks one of the user's keys revoked at `at`, unless it already is (the first time
    /// stays). Returns the key as stored, `None` when the user has no such key.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_api_key(
        &mut self,
        user: UserId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, StoreError>;

    /// Revokes every live key of a user (account deleted or disabled); returns how many.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_api_keys_of(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Records that a key was used at `at`.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn touch_api_key(&mut self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Links an external identity.
    ///
    /// # Errors
    /// `StoreError::Conflict` when (provider, subject) or the id is already linked;
    /// `StoreError::Internal` when the user does not exist or on failure.
    fn insert_identity(&mut self, identity: &ExternalIdentity) -> Result<(), StoreError>;

    /// The identity with this provider and subject.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn identity_by_subject(
        &mut self,
        provider: &ProviderName,
        subject: &str,
    ) -> Result<Option<ExternalIdentity>, StoreError>;

    /// A user's identities, oldest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn identities_of(&mut self, user: UserId) -> Result<Vec<ExternalIdentity>, StoreError>;

    /// Records a sign-in with an identity.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn touch_identity(&mut self, id: IdentityId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Unlinks one of the user's identities; returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_identity(&mut self, user: UserId, id: IdentityId) -> Result<bool, StoreError>;

    /// Stores a flow in progress.
    ///
    /// # Errors
    /// `StoreError::Conflict` when its state digest exists; `StoreError::Internal` otherwise.
    fn insert_oauth_flow(&mut self, flow: &OAuthFlow) -> Result<(), StoreError>;

    /// Takes (returns and deletes) the flow with this state digest, so that it works once.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn take_oauth_flow(
        &mut self,
        state_digest: &TokenDigest,
    ) -> Result<Option<OAuthFlow>, StoreError>;

    /// Stores a pending link.
    ///
    /// # Errors
    /// `StoreError::Conflict` when its digest exists; `StoreError::Internal` otherwise.
    fn insert_pending_link(&mut self, link: &PendingLink) -> Result<(), StoreError>;

    /// Takes (returns and deletes) the pending link with this digest.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn take_pending_link(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<PendingLink>, StoreError>;

    /// Deletes the flows and pending links that expired before `cutoff`; returns how many.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_oauth_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
