//! [`OidcProvider`]: sign-in with Google or any OpenID Connect provider, configured by its
//! issuer URL alone.
//!
//! The provider's endpoints and signing keys come from OpenID Connect discovery, fetched on first
//! use (so a provider that is down does not stop the server from starting) and trusted for
//! [`METADATA_TTL`]. Providers rotate their signing keys: an ID token whose key is not in the
//! cached key set triggers one re-discovery before it is refused.
//!
//! A provider's outage should not become ours: when a refresh fails, the old metadata keeps
//! serving (up to [`STALE_LIMIT`] old), and no new attempt is made for [`FAILURE_BACKOFF`].
//! Readers never wait on the network while usable metadata exists: one task refreshes, the others
//! go on with what is cached. See [`MetadataTimings`].
//!
//! In the code flow a provider may put the address only in its UserInfo answer (OpenID Connect
//! Core 1.0 §5.4): when the verified ID token lacks `email` or `email_verified`, the UserInfo
//! endpoint of the discovery document is asked with the access token, its `sub` must be the ID
//! token's (§5.3.4), and it fills in what the token left out (address, verification, name,
//! picture). The token's own claims win where both speak.
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use accueil_ports::identity::oauth::{
    AuthorizationRequest, ExternalProfile, OAuthError, OAuthProvider,
};
use async_trait::async_trait;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreIdTokenClaims,
    CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LocalizedClaim, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, SubjectIdentifier, TokenResponse, UserInfoError,
};

use crate::{
    HttpClient, HttpError, check_pkce_verifier, check_provider_url, error_chain, token_error,
};

/// Google's issuer, for [`OidcConfig::issuer`].
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// The scopes asked for when [`OidcConfig::scopes`] is empty.
pub const DEFAULT_SCOPES: &[&str] = &["openid", "email", "profile"];

/// How long discovered metadata (endpoints and signing keys) is trusted before it is fetched
/// again.
pub const METADATA_TTL: Duration = Duration::from_secs(60 * 60);

/// How old metadata may be and still serve when the provider cannot be reached to refresh it.
pub const STALE_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

/// How long after a failed discovery no new one is tried.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(30);

/// When discovered metadata is refreshed, how long it may outlive a failed refresh, and how
/// long a failure holds off the next attempt. [`Default`] is [`METADATA_TTL`], [`STALE_LIMIT`]
/// and [`FAILURE_BACKOFF`]; tests shorten them with [`OidcProvider::with_timings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataTimings {
    /// Metadata younger than this is used without contacting the provider.
    pub fresh: Duration,
    /// Metadata older than `fresh` is refreshed, but while the refresh fails it still serves
    /// until it is this old; past that the provider reads as unavailable.
    pub stale_limit: Duration,
    /// After a failed discovery, no other is tried for this long: callers get the stale
    /// metadata, or `Unavailable` at once.
    pub backoff: Duration,
}

impl Default for MetadataTimings {
    fn default() -> Self {
        Self {
            fresh: METADATA_TTL,
            stale_limit: STALE_LIMIT,
            backoff: FAILURE_BACKOFF,
        }
    }
}

/// The settings of one OpenID Connect provider.
#[derive(Clone)]
pub struct OidcConfig {
    /// The issuer URL (`https://accounts.google.com`); discovery reads
    /// `{issuer}/.well-known/openid-configuration`. Must be `https`, except on loopback.
    pub issuer: String,
    /// Our client id at the provider.
    pub client_id: String,
    /// Our client secret at the provider.
    pub client_secret: String,
    /// Our callback URL, as registered at the provider.
    pub redirect_url: String,
    /// The scopes to ask for; [`DEFAULT_SCOPES`] when empty. `openid` is always sent.
    pub scopes: Vec<String>,
}

impl OidcConfig {
    /// A configuration with the default scopes.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_url: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_url: redirect_url.into(),
            scopes: Vec::new(),
        }
    }
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The client type `from_provider_metadata` gives: authorization endpoint set, token and
/// user-info endpoints as the metadata says.
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A client built from one successful discovery.
struct Discovered {
    client: DiscoveredClient,
    fetched_at: Instant,
}

/// The last failed discovery, for the backoff and the error of callers that have no metadata.
struct Failure {
    at: Instant,
    reason: String,
}

/// Which metadata a caller needs from a refresh.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Fresh metadata if it can be had, else the stale one while it is within the stale limit.
    Fresh,
    /// Metadata discovered after the caller's (key rotation): the caller's own is known not to
    /// do, so it is no fallback.
    Newer,
}

/// An OpenID Connect provider (authorization code flow with PKCE, ID token verified locally).
pub struct OidcProvider {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect_url: RedirectUrl,
    scopes: Vec<Scope>,
    http: HttpClient,
    timings: MetadataTimings,
    // A plain lock held only to copy or swap the `Arc`, never across an await: readers are never
    // held up by a fetch.
    discovered: RwLock<Option<Arc<Discovered>>>,
    // Taken by the one task that fetches, so a slow or dead provider costs one request at a time
    // rather than one per sign-in; it also guards the last failure, read for the backoff.
    refresh: tokio::sync::Mutex<Option<Failure>>,
}

impl OidcProvider {
    /// Checks the configuration; the provider is contacted only on first use.
    ///
    /// # Errors
    /// `OAuthError::Protocol` when the issuer or redirect URL is not a valid URL, or the issuer
    /// is plain `http` on a host other than loopback; `OAuthError::Unavailable` when the HTTP
    /// client cannot be built.
    pub fn new(config: OidcConfig) -> Result<Self, OAuthError> {
        let issuer = IssuerUrl::new(config.issuer)
            .map_err(|e| OAuthError::Protocol(format!("invalid issuer URL: {e}")))?;
        check_provider_url("issuer", issuer.url())?;
        let redirect_url = RedirectUrl::new(config.redirect_url)
            .map_err(|e| OAuthError::Protocol(format!("invalid redirect URL: {e}")))?;
        let scopes = if config.scopes.is_empty() {
            DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect()
        } else {
            config.scopes
        };
        Ok(Self {
            issuer,
            client_id: ClientId::new(config.client_id),
            client_secret: ClientSecret::new(config.client_secret),
            redirect_url,
            scopes: scopes
                .into_iter()
                // openidconnect always adds `openid`; a second one would be sent twice.
                .filter(|s| s != "openid")
                .map(Scope::new)
                .collect(),
            http: HttpClient::new()?,
            timings: MetadataTimings::default(),
            discovered: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(None),
        })
    }

    /// The same provider with other [`MetadataTimings`] (tests shorten them).
    #[must_use]
    pub fn with_timings(mut self, timings: MetadataTimings) -> Self {
        self.timings = timings;
        self
    }

    /// The cached client, refreshed first if it is older than `timings.fresh` (and served
    /// stale if the refresh cannot be done).
    async fn client(&self) -> Result<Arc<Discovered>, OAuthError> {
        let current = self.cached();
        if let Some(discovered) = &current
            && discovered.fetched_at.elapsed() < self.timings.fresh
        {
            return Ok(Arc::clone(discovered));
        }
        self.refresh(current, Need::Fresh).await
    }

    /// A client discovered after `stale`, whose keys did not verify an ID token: the current one
    /// if another call already refreshed, otherwise a new discovery (unless one failed within
    /// the backoff).
    async fn rediscover(&self, stale: Arc<Discovered>) -> Result<Arc<Discovered>, OAuthError> {
        self.refresh(Some(stale), Need::Newer).await
    }

    fn cached(&self) -> Option<Arc<Discovered>> {
        // Poisoning cannot leave a half-written `Option<Arc>`, so the value is good either way.
        self.discovered
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `discovered` if it may still serve while the provider cannot be reached.
    fn usable(&self, discovered: Option<Arc<Discovered>>) -> Option<Arc<Discovered>> {
        discovered.filter(|d| d.fetched_at.elapsed() < self.timings.stale_limit)
    }

    /// Replaces `seen`, the metadata the caller found lacking, by a new discovery; one task at a
    /// time fetches.
    async fn refresh(
        &self,
        seen: Option<Arc<Discovered>>,
        need: Need,
    ) -> Result<Arc<Discovered>, OAuthError> {
        let mut last_failure = match self.refresh.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Another task is fetching. Rather than queue behind a provider that may take
                // the whole timeout, go on with the stale metadata while it is good enough.
                if need == Need::Fresh
                    && let Some(stale) = self.usable(seen.clone())
                {
                    return Ok(stale);
                }
                // Nothing to serve meanwhile: that fetch's outcome is the answer.
                self.refresh.lock().await
            }
        };
        // Whoever held the guard before us may have refreshed already.
        let current = self.cached();
        if let Some(current) = &current
            && !seen.as_ref().is_some_and(|seen| Arc::ptr_eq(current, seen))
        {
            return Ok(Arc::clone(current));
        }
        let fallback = match need {
            Need::Fresh => self.usable(current),
            Need::Newer => None,
        };
        if let Some(failure) = last_failure.as_ref()
            && failure.at.elapsed() < self.timings.backoff
        {
            // A failure this recent would most likely repeat; do not hammer the provider.
            return fallback.ok_or_else(|| {
                OAuthError::Unavailable(format!(
                    "OpenID Connect discovery failed {}s ago, not retried yet: {}",
                    failure.at.elapsed().as_secs(),
                    failure.reason
                ))
            });
        }
        match self.discover().await {
            Ok(discovered) => {
                let discovered = Arc::new(discovered);
                *self
                    .discovered
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&discovered));
                *last_failure = None;
                Ok(discovered)
            }
            Err(reason) => {
                *last_failure = Some(Failure {
                    at: Instant::now(),
                    reason: reason.clone(),
                });
                match fallback {
                    Some(stale) => {
                        tracing::warn!(
                            issuer = %self.issuer.as_str(),
                            age_secs = stale.fetched_at.elapsed().as_secs(),
                            "OpenID Connect metadata could not be refreshed; serving the previous one"
                        );
                        Ok(stale)
                    }
                    None => Err(OAuthError::Unavailable(format!(
                        "OpenID Connect discovery: {reason}"
                    ))),
                }
            }
        }
    }

    /// Fetches the discovery document and the key set; the error is the failure's reason.
    async fn discover(&self) -> Result<Discovered, String> {
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                let reason = error_chain(&e);
                tracing::warn!(issuer = %self.issuer.as_str(), error = %reason, "OpenID Connect discovery failed");
                reason
            })?;
        tracing::debug!(issuer = %self.issuer.as_str(), "OpenID Connect metadata discovered");
        // client_secret_basic is the default of the specification; use the form body only for
        // providers that say they accept nothing else.
        let auth_type = match metadata.token_endpoint_auth_methods_supported() {
            Some(methods)
                if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                    && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
            {
                AuthType::RequestBody
            }
            _ => AuthType::BasicAuth,
        };
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_url.clone())
        .set_auth_type(auth_type);
        Ok(Discovered {
            client,
            fetched_at: Instant::now(),
        })
    }
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("timings", &self.timings)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl OAuthProvider for OidcProvider {
    async fn authorization_url(
        &self,
        request: AuthorizationRequest<'_>,
    ) -> Result<String, OAuthError> {
        check_pkce_verifier(request.pkce_verifier)?;
        let discovered = self.client().await?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            request.pkce_verifier.to_owned(),
        ));
        let state = CsrfToken::new(request.state.to_owned());
        let nonce = Nonce::new(request.nonce.to_owned());
        let (url, _, _) = discovered
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || state,
                move || nonce,
            )
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.into())
    }

    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ExternalProfile, OAuthError> {
        let discovered = self.client().await?;
        let response = discovered
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OAuthError::Protocol(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let id_token = response.id_token().ok_or_else(|| {
            OAuthError::Protocol("the token response carries no ID token".to_owned())
        })?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&discovered.client.id_token_verifier(), &nonce) {
            Ok(claims) => claims,
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // Signed with a key we have not seen: the provider may have rotated its keys
                // since our discovery. One fresh look, then the verdict stands.
                tracing::info!(issuer = %self.issuer.as_str(), "ID token key unknown; refreshing the provider's keys");
                let fresh = self.rediscover(Arc::clone(&discovered)).await?;
                id_token
                    .claims(&fresh.client.id_token_verifier(), &nonce)
                    .map_err(invalid_id_token)?
            }
            Err(err) => return Err(invalid_id_token(err)),
        };
        let mut profile = profile(claims);
        if claims.email().is_none() || claims.email_verified().is_none() {
            let user_info = self
                .user_info(&discovered, response.access_token(), claims.subject())
                .await?;
            if let Some(user_info) = user_info {
                complete(&mut profile, claims, &user_info);
            }
        }
        Ok(profile)
    }
}

impl OidcProvider {
    /// The UserInfo answer for `subject`, or `None` when the provider has no UserInfo endpoint.
    async fn user_info(
        &self,
        discovered: &Discovered,
        access_token: &AccessToken,
        subject: &SubjectIdentifier,
    ) -> Result<Option<CoreUserInfoClaims>, OAuthError> {
        let Ok(request) = discovered
            .client
            .user_info(access_token.clone(), Some(subject.clone()))
        else {
            tracing::debug!(issuer = %self.issuer.as_str(), "the ID token lacks the address and the provider has no UserInfo endpoint");
            return Ok(None);
        };
        tracing::debug!(issuer = %self.issuer.as_str(), "the ID token lacks the address; asking UserInfo");
        request
            .request_async(&self.http)
            .await
            .map(Some)
            .map_err(|err| self.user_info_error(err))
    }

    fn user_info_error(&self, err: UserInfoError<HttpError>) -> OAuthError {
        match err {
            UserInfoError::ClaimsVerification(ClaimsVerificationError::InvalidSubject(_)) => {
                // Neither subject is logged: the mismatch is the news.
                tracing::warn!(issuer = %self.issuer.as_str(), "UserInfo answered for another subject than the ID token's; refused");
                OAuthError::UserInfoSubjectMismatch
            }
            UserInfoError::Request(err) => {
                OAuthError::Unavailable(format!("UserInfo endpoint: {}", error_chain(&err)))
            }
            UserInfoError::Response(status, _, _) => {
                OAuthError::Protocol(format!("UserInfo endpoint answered HTTP {status}"))
            }
            other => OAuthError::Protocol(format!("UserInfo answer: {}", error_chain(&other))),
        }
    }
}

/// Fills in what the ID token left out from the UserInfo answer (same `sub`, checked).
/// Whether the address is verified is taken only along with the address it is about.
fn complete(profile: &mut ExternalProfile, token: &CoreIdTokenClaims, info: &CoreUserInfoClaims) {
    let info_email = info.email().map(|e| e.as_str().to_owned());
    let info_verified = info_email.is_some() && info.email_verified() == Some(true);
    match (&profile.email, info_email) {
        (None, Some(email)) => {
            profile.email = Some(email);
            profile.email_verified = info_verified;
        }
        (Some(ours), Some(theirs)) if token.email_verified().is_none() && *ours == theirs => {
            profile.email_verified = info_verified;
        }
        _ => {}
    }
    if profile.name.is_none() {
        profile.name = info
            .name()
            .and_then(unlocalized)
            .map(|n| n.as_str().to_owned());
    }
    if profile.picture.is_none() {
        profile.picture = info
            .picture()
            .and_then(unlocalized)
            .map(|p| p.as_str().to_owned());
    }
}

fn invalid_id_token(err: ClaimsVerificationError) -> OAuthError {
    tracing::debug!(error = %error_chain(&err), "ID token refused");
    let reason = match &err {
        ClaimsVerificationError::Expired(_) => "expired".to_owned(),
        ClaimsVerificationError::InvalidAudience(_) => "not issued for this client".to_owned(),
        ClaimsVerificationError::InvalidIssuer(_) => "wrong issuer".to_owned(),
        ClaimsVerificationError::InvalidNonce(_) => "nonce mismatch".to_owned(),
        ClaimsVerificationError::SignatureVerification(e) => format!("bad signature ({e})"),
        other => other.to_string(),
    };
    OAuthError::InvalidIdToken(reason)
}

fn profile(claims: &CoreIdTokenClaims) -> ExternalProfile {
    let email = claims.email().map(|e| e.as_str().to_owned());
    ExternalProfile {
        subject: claims.subject().as_str().to_owned(),
        email_verified: email.is_some() && claims.email_verified() == Some(true),
        email,
        name: claims
            .name()
            .and_then(unlocalized)
            .map(|n| n.as_str().to_owned()),
        picture: claims
            .picture()
            .and_then(unlocalized)
            .map(|p| p.as_str().to_owned()),
    }
}

/// The claim without a language tag if there is one, else any.
fn unlocalized<T>(claim: &LocalizedClaim<T>) -> Option<&T> {
    claim
        .get(None)
        .or_else(|| claim.iter().next().map(|(_, value)| value))
}
