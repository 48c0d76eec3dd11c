//! Sign-in with external providers. [`OAuthRepo`] stores the external identities linked to
//! accounts, the flows in progress and the pending links; [`OAuthProvider`] is the provider
//! port (OAuth 2.0 / OpenID Connect): building the authorization URL and turning a callback's
//! code into a verified profile. The application owns the flow (state, nonce and PKCE verifier
//! are made, stored and checked by it); a provider adapter owns the protocol (discovery, token
//! exchange, ID-token verification, user-info calls).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::StoreError;
use accueil_domain::identity::{
    ExternalIdentity, IdentityId, OAuthFlow, PendingLink, ProviderName, TokenDigest, UserId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The secrets of one authorization request, made and kept by the application.
#[derive(Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// The `state` parameter (single use, checked by the application at the callback).
    pub state: &'a str,
    /// The OpenID Connect `nonce` the ID token must carry (ignored by plain OAuth providers).
    pub nonce: &'a str,
    /// The PKCE code verifier; the adapter sends its S256 challenge.
    pub pkce_verifier: &'a str,
}

impl std::fmt::Debug for AuthorizationRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthorizationRequest { <redacted> }")
    }
}

/// Who the provider says the user is, after every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalProfile {
    /// The provider's stable id for the user (`sub`, or Facebook's `id`).
    pub subject: String,
    /// The address the provider gives, if any.
    pub email: Option<String>,
    /// Whether the provider vouches that the user controls that address (OpenID Connect's
    /// `email_verified`; providers that say nothing count as `false`).
    pub email_verified: bool,
    /// A display name, if given.
    pub name: Option<String>,
    /// A picture URL that stays valid, if given (it may become the account's avatar; an
    /// adapter leaves out links that expire, such as Facebook's).
    pub picture: Option<String>,
}

/// Why a provider step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The token endpoint refused the code (unknown, used, expired, or PKCE verifier mismatch).
    #[error("the provider refused the authorization code: {0}")]
    CodeRejected(String),
    /// The ID token failed a check: signature, issuer, audience, expiry or nonce.
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
    /// The UserInfo answer is about another user than the ID token (its `sub` differs; OpenID
    /// Connect Core 1.0 §5.3.4): none of it may be used.
    #[error("the provider's UserInfo answer is not about the signed-in user")]
    UserInfoSubjectMismatch,
    /// The provider could not be reached or answered with a server error.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider answered something this adapter does not understand.
    #[error("unexpected answer from the provider: {0}")]
    Protocol(String),
}

/// One configured provider.
#[async_trait]
pub trait OAuthProvider: Send + Sync {
    /// The URL to send the user's browser to, carrying the client id, the callback URL, the
    /// scopes, `state`, `nonce` (OpenID Connect) and the S256 PKCE challenge.
    ///
    /// # Errors
    /// `OAuthError::Unavailable` when the provider's metadata (OpenID Connect discovery) cannot
    /// be fetched.
    async fn authorization_url(
        &self,
        request: AuthorizationRequest<'_>,
    ) -> Result<String, OAuthError>;

    /// Exchanges a callback's `code` (with the PKCE verifier of its flow) and returns the
    /// verified profile. For OpenID Connect the ID token is verified: signature against the
    /// provider's keys, `iss`, `aud` equal to our client id, `exp`, and `nonce` equal to
    /// `nonce`; when it lacks the address (or whether it is verified), the UserInfo endpoint
    /// completes the profile, and must name the same `sub`.
    ///
    /// # Errors
    /// See [`OAuthError`].
    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ExternalProfile, OAuthError>;
}

/// The configured providers by name (the path segment: `google`, `facebook`, ...).
#[derive(Clone, Default)]
pub struct OAuthProviders(BTreeMap<String, Arc<dyn OAuthProvider>>);

impl OAuthProviders {
    /// No providers.
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds or replaces a provider.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, provider: Arc<dyn OAuthProvider>) -> Self {
        self.0.insert(name.into(), provider);
        self
    }

    /// The provider of this name.
    pub fn get(&self, name: &str) -> Option<Arc<dyn OAuthProvider>> {
        self.0.get(name).cloned()
    }

    /// Every configured name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

impl std::fmt::Debug for OAuthProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// External identities, flows and pending links, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OAuthRepo: Send {
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
