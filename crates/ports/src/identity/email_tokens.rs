//! One-time tokens of mailed links (verify, reset, change address).

use accueil_domain::identity::{EmailToken, TokenDigest, TokenPurpose, UserId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// E-mail tokens, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait EmailTokensRepo: Send {
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

    /// Removes the tokens that expired before `cutoff`, used or not (a link that old answers
    /// as unknown rather than expired). Returns how many.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_email_tokens_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
