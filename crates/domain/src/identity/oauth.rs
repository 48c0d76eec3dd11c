//! Sign-in through external providers (OAuth 2.0 / OpenID Connect): the identities a user has
//! linked, the short-lived state of a flow in progress, and the rules that decide what a
//! callback may do with an account.
//!
//! An identity is keyed by (provider, subject), never by e-mail: addresses change hands and a
//! provider's address is only as good as the provider's word on it.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{SessionId, TokenDigest, UserId};
use crate::validation::FieldError;

/// How long a flow may take from start to callback.
pub const FLOW_TTL: Duration = Duration::minutes(10);

/// How long a pending link (an account to prove before linking) waits.
pub const PENDING_LINK_TTL: Duration = Duration::minutes(10);

/// A provider's name: the path segment (`google`, `facebook`, `okta`...): 1 to 32 lower-case
/// ASCII letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderName(String);

impl ProviderName {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `provider`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "provider",
                "invalid_provider",
                "1 to 32 lower-case letters, digits, - or _",
            ))
        }
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A linked identity's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityId(pub Uuid);

/// An external identity linked to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// Its id.
    pub id: IdentityId,
    /// Whose.
    pub user_id: UserId,
    /// Which provider.
    pub provider: ProviderName,
    /// The provider's stable id for the user.
    pub subject: String,
    /// The address the provider gave when it was linked (for the user's information only).
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// When it was last used to sign in.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether the account's address was proven when it was linked: by the provider's word on
    /// its own address, by the account's password, or by a signed-in user. An identity that
    /// made an account from an address nobody vouched for is not: when the address's owner
    /// resets the password, such identities are removed, so whoever claimed the address first
    /// loses the way in.
    pub proven: bool,
}

/// How the callback of a flow answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowResponse {
    /// A redirect to the app's URL, the result in the fragment (browsers).
    Redirect,
    /// JSON (API clients).
    Json,
}

impl FlowResponse {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redirect => "redirect",
            Self::Json => "json",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "redirect" => Some(Self::Redirect),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// A flow between its start and its callback. Stored under the digest of its `state`; taken
/// (deleted) by the first callback that presents it, so it works once.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthFlow {
    /// Digest of the `state` parameter.
    pub state_digest: TokenDigest,
    /// Which provider.
    pub provider: ProviderName,
    /// The OpenID Connect nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
    /// Digest of the secret in the browser cookie set at the start: the callback must come
    /// from the browser that started the flow (no login CSRF).
    pub binding_digest: TokenDigest,
    /// How the callback answers.
    pub response: FlowResponse,
    /// Set when a signed-in user started the flow to link an identity to their account.
    pub link_to: Option<UserId>,
    /// The session that started a link flow: the link completes only while it is live (a
    /// stolen token stops working for linking once its owner logs out everywhere).
    pub link_session: Option<SessionId>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it started.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for OAuthFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthFlow")
            .field("provider", &self.provider)
            .field("response", &self.response)
            .field("link_to", &self.link_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A provider identity waiting to be linked to the existing account with the same verified
/// address, once the user proves that account (its password). Taken by the first attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLink {
    /// Digest of the link token given to the client.
    pub digest: TokenDigest,
    /// The existing account.
    pub user_id: UserId,
    /// Which provider.
    pub provider: ProviderName,
    /// The provider's id for the user.
    pub subject: String,
    /// The provider's (verified) address.
    pub email: Option<String>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What a callback's verified profile may do when no identity matches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    /// No account has the address: create one.
    Create,
    /// An account has the address and the provider vouches for it: link once the user proves
    /// the account.
    LinkWithProof(UserId),
    /// An account has the address but the provider does not vouch for it: only a signed-in
    /// user may link it (from their settings).
    SignInToLink,
}

/// The rule for a profile that matches no identity: addresses are compared only when the
/// provider says its address is verified, and even then linking needs proof.
pub fn unmatched(existing_with_email: Option<UserId>, email_verified: bool) -> Unmatched {
    match existing_with_email {
        None => Unmatched::Create,
        Some(user) if email_verified => Unmatched::LinkWithProof(user),
        Some(_) => Unmatched::SignInToLink,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_path_segments() {
        assert!(ProviderName::parse("google").is_ok());
        assert!(ProviderName::parse("my-idp_2").is_ok());
        for bad in ["", "Google", "a/b", "..", "é", &"x".repeat(33)] {
            assert!(ProviderName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_link_only_when_verified_and_proven() {
        let u = UserId(Uuid::nil());
        assert_eq!(unmatched(None, false), Unmatched::Create);
        assert_eq!(unmatched(Some(u), true), Unmatched::LinkWithProof(u));
        assert_eq!(unmatched(Some(u), false), Unmatched::SignInToLink);
    }

    #[test]
    fn flow_debug_hides_its_secrets() {
        let flow = OAuthFlow {
            state_digest: TokenDigest("s".into()),
            provider: ProviderName::parse("google").unwrap(),
            nonce: "n0nce-secret".into(),
            pkce_verifier: "verifier-secret".into(),
            binding_digest: TokenDigest("b".into()),
            response: FlowResponse::Json,
            link_to: None,
            link_session: None,
            expires_at: Utc::now(),
            created_at: Utc::now(),
        };
        let shown = format!("{flow:?}");
        assert!(!shown.contains("secret"));
        assert_eq!(
            FlowResponse::parse(FlowResponse::Json.as_str()),
            Some(FlowResponse::Json)
        );
    }
}
