//! Time, randomness and cryptography, as ports: rules about expiry are tested without sleeping,
//! and every secret is produced by one audited adapter.

use accueil_domain::identity::{Password, PasswordHash, Role, SessionId, TokenDigest, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The current time.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// New ids.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new UUIDv7: unique, and sorting by creation time.
    fn new_id(&self) -> Uuid;
}

/// An opaque secret token and the digest under which it is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueToken {
    /// What the client receives, once.
    pub secret: String,
    /// What storage keeps.
    pub digest: TokenDigest,
}

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpaqueToken")
            .field("secret", &"<redacted>")
            .field("digest", &self.digest)
            .finish()
    }
}

/// Opaque random tokens (refresh tokens, later verification and reset tokens).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OpaqueTokens: Send + Sync {
    /// A new token with at least 256 bits from a CSPRNG.
    fn generate(&self) -> OpaqueToken;
    /// The digest of a presented token, to look it up. Deterministic.
    fn digest(&self, secret: &str) -> TokenDigest;
    /// A code of `digits` decimal digits (leading zeros kept), uniformly from a CSPRNG.
    fn numeric_code(&self, digits: u32) -> String;
}

/// Signatures the server makes for itself (links that carry their own authorisation, such as
/// signed photo URLs): a MAC keyed with a key derived from the server secret for each
/// `purpose`, so a tag made for one purpose is worthless for another.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait LinkSigner: Send + Sync {
    /// The tag of `message` for `purpose`, in base64url without padding. Deterministic.
    fn sign(&self, purpose: &str, message: &[u8]) -> String;
    /// Whether `tag` is the tag of `message` for `purpose`; the tags are compared in constant
    /// time, and anything that is not base64url is no tag.
    fn verify(&self, purpose: &str, message: &[u8], tag: &str) -> bool;
}

/// Failures of the password hasher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The stored hash is not in a format the hasher reads.
    #[error("stored password hash is malformed")]
    Malformed,
    /// The hasher could not run (its thread pool is gone, a bug in the library).
    #[error("password hasher failed: {0}")]
    Internal(String),
}

/// Slow, salted password hashing. Implementations run off the async workers and bound how many
/// hashes run at once, because each one occupies a core for a noticeable time.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a password for storage.
    ///
    /// # Errors
    /// `HashError::Internal` when hashing could not run.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;

    /// Whether a stored hash was made with other settings (another bcrypt cost) and should be
    /// replaced at the next successful login, so every account costs the same to check.
    fn needs_rehash(&self, hash: &PasswordHash) -> bool;

    /// Checks a password against a stored hash. With `None` (no such account, or an account
    /// without a password) it does the same work against a dummy hash and answers `false`, so
    /// that the time taken does not tell whether an account exists.
    ///
    /// # Errors
    /// `HashError::Malformed` when the stored hash cannot be read; `HashError::Internal` when
    /// hashing could not run.
    async fn verify<'a>(
        &self,
        password: &Password,
        hash: Option<&'a PasswordHash>,
    ) -> Result<bool, HashError>;
}

/// What an access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// Subject.
    pub user_id: UserId,
    /// The session (refresh family) that issued it, so logout can end it.
    pub session_id: SessionId,
    /// Roles held when it was issued.
    pub roles: Vec<Role>,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
}

/// A signed access token.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedAccessToken {
    /// The compact JWT.
    pub token: String,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for SignedAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedAccessToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why an access token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessTokenError {
    /// Past `exp`.
    #[error("access token expired")]
    Expired,
    /// Bad signature, algorithm, issuer, audience, type or shape.
    #[error("access token invalid")]
    Invalid,
    /// Signing failed (a key problem).
    #[error("could not sign access token: {0}")]
    Signing(String),
}

/// Issues and checks short-lived access tokens.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AccessTokens: Send + Sync {
    /// Signs a token for `user_id` in `session_id`, valid from `now` for the configured time.
    ///
    /// # Errors
    /// `AccessTokenError::Signing` when the key cannot sign.
    fn issue(
        &self,
        user_id: UserId,
        session_id: SessionId,
        roles: &[Role],
        now: DateTime<Utc>,
    ) -> Result<SignedAccessToken, AccessTokenError>;

    /// Verifies a presented token at `now`: signature with the pinned algorithm, issuer,
    /// audience, token type, subject, issue time and expiry.
    ///
    /// # Errors
    /// `AccessTokenError::Expired` past its expiry; `AccessTokenError::Invalid` for anything
    /// else wrong with it.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AccessTokenError>;
}

/// Counts requests per key against a [`Rate`](accueil_domain::limits::Rate).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait RateLimiter: Send + Sync {
    /// Counts one request for `key` in `bucket` (an operation and a scope, like `login:ip`)
    /// at `now`.
    ///
    /// # Errors
    /// How long to wait, when the request is over the rate (it is then not counted).
    fn hit(
        &self,
        bucket: &str,
        key: &str,
        rate: accueil_domain::limits::Rate,
        now: DateTime<Utc>,
    ) -> Result<(), chrono::Duration>;
}
