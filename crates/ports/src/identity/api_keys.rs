//! API keys: named, scoped, optionally expiring credentials stored as digests.

use accueil_domain::identity::{ApiKey, ApiKeyId, TokenDigest, User, UserId};
use chrono::{DateTime, Utc};

use crate::StoreError;

/// API keys, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait ApiKeysRepo: Send {
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

    /// The key with this digest, in any state, and its user, in one read: what
    /// authenticating an `X-API-Key` needs.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn key_and_user(&mut self, digest: &TokenDigest) -> Result<Option<(ApiKey, User)>, StoreError>;

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
}
