//! [`FacebookProvider`]: sign-in with Facebook, which speaks OAuth 2.0 but not OpenID Connect
//! for web logins, so the profile comes from the Graph API's `/me`.
//!
//! Graph calls carry `appsecret_proof` (HMAC-SHA256 of the access token keyed with the app
//! secret), so a leaked access token alone cannot be used against the app's API settings that
//! require it. Facebook does not say whether the address is verified: profiles come back with
//! `email_verified: false`, and the application must not link accounts by that address.
//!
//! The profile has no picture: Graph's picture URLs are signed CDN links that expire, so one
//! kept as an avatar would break after a while.

use accueil_ports::identity::oauth::{
    AuthorizationRequest, ExternalProfile, OAuthError, OAuthProvider,
};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use oauth2::basic::BasicClient;
use oauth2::url::Url;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use sha2::Sha256;

use crate::{
    HttpClient, check_pkce_verifier, check_provider_url, error_chain, graph_error, token_error,
};

/// Facebook's login dialog.
pub const DEFAULT_AUTH_URL: &str = "https://www.facebook.com/v19.0/dialog/oauth";
/// Facebook's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://graph.facebook.com/v19.0/oauth/access_token";
/// The Graph API base (`/me` is read below it).
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v19.0";
/// The permissions asked for by [`FacebookConfig::new`].
pub const DEFAULT_SCOPES: &[&str] = &["email", "public_profile"];

/// The settings of the Facebook app.
#[derive(Clone)]
pub struct FacebookConfig {
    /// The app id.
    pub client_id: String,
    /// The app secret (also the key of `appsecret_proof`).
    pub client_secret: String,
    /// Our callback URL, as registered in the app settings.
    pub redirect_url: String,
    /// The login dialog URL.
    pub auth_url: String,
    /// The token endpoint URL.
    pub token_url: String,
    /// The Graph API base URL, without `/me`.
    pub graph_url: String,
    /// The permissions to ask for.
    pub scopes: Vec<String>,
}

impl FacebookConfig {
    /// A configuration for the real Facebook, with the default URLs and scopes.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_url: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_url: redirect_url.into(),
            auth_url: DEFAULT_AUTH_URL.to_owned(),
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            graph_url: DEFAULT_GRAPH_URL.to_owned(),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl std::fmt::Debug for FacebookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacebookConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .field("auth_url", &self.auth_url)
            .field("token_url", &self.token_url)
            .field("graph_url", &self.graph_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

type FacebookClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Facebook Login (authorization code flow with PKCE, then Graph `/me`).
pub struct FacebookProvider {
    client: FacebookClient,
    // Keyed once with the app secret; cloned per call.
    proof_key: Hmac<Sha256>,
    me_url: Url,
    scopes: Vec<Scope>,
    http: HttpClient,
}

impl FacebookProvider {
    /// Checks the configuration; nothing is fetched.
    ///
    /// # Errors
    /// `OAuthError::Protocol` when a URL is invalid, or a Facebook URL is plain `http` on a host
    /// other than loopback; `OAuthError::Unavailable` when the HTTP client cannot be built.
    pub fn new(config: FacebookConfig) -> Result<Self, OAuthError> {
        let auth_url = AuthUrl::new(config.auth_url)
            .map_err(|e| OAuthError::Protocol(format!("invalid auth URL: {e}")))?;
        check_provider_url("auth", auth_url.url())?;
        let token_url = TokenUrl::new(config.token_url)
            .map_err(|e| OAuthError::Protocol(format!("invalid token URL: {e}")))?;
        check_provider_url("token", token_url.url())?;
        let me_url = Url::parse(&format!("{}/me", config.graph_url.trim_end_matches('/')))
            .map_err(|e| OAuthError::Protocol(format!("invalid Graph URL: {e}")))?;
        check_provider_url("Graph", &me_url)?;
        let redirect_url = RedirectUrl::new(config.redirect_url)
            .map_err(|e| OAuthError::Protocol(format!("invalid redirect URL: {e}")))?;
        let proof_key = Hmac::<Sha256>::new_from_slice(config.client_secret.as_bytes())
            .map_err(|e| OAuthError::Protocol(format!("unusable app secret: {e}")))?;
        let client = BasicClient::new(ClientId::new(config.client_id))
            .set_client_secret(ClientSecret::new(config.client_secret))
            .set_auth_uri(auth_url)
            .set_token_uri(token_url)
            .set_redirect_uri(redirect_url)
            // Facebook documents the secret as a request parameter, not HTTP Basic.
            .set_auth_type(AuthType::RequestBody);
        Ok(Self {
            client,
            proof_key,
            me_url,
            scopes: config.scopes.into_iter().map(Scope::new).collect(),
            http: HttpClient::new()?,
        })
    }

    /// `appsecret_proof`: lowercase hex of HMAC-SHA256(key = app secret, message = token).
    fn appsecret_proof(&self, access_token: &str) -> String {
        let mut mac = self.proof_key.clone();
        mac.update(access_token.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for FacebookProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacebookProvider")
            .field("client_id", &self.client.client_id().as_str())
            .finish_non_exhaustive()
    }
}

/// The fields of `/me` we ask for.
#[derive(Deserialize)]
struct Me {
    id: String,
    email: Option<String>,
    name: Option<String>,
}

#[async_trait]
impl OAuthProvider for FacebookProvider {
    async fn authorization_url(
        &self,
        request: AuthorizationRequest<'_>,
    ) -> Result<String, OAuthError> {
        check_pkce_verifier(request.pkce_verifier)?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            request.pkce_verifier.to_owned(),
        ));
        let state = CsrfToken::new(request.state.to_owned());
        let (url, _) = self
            .client
            .authorize_url(move || state)
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.into())
    }

    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: &str,
        _nonce: &str,
    ) -> Result<ExternalProfile, OAuthError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let access_token = token.access_token().secret();

        let mut url = self.me_url.clone();
        url.query_pairs_mut()
            .append_pair("fields", "id,email,name")
            .append_pair("access_token", access_token)
            .append_pair("appsecret_proof", &self.appsecret_proof(access_token));
        // reqwest's errors name the URL, which here carries the token: strip it.
        let unavailable = |e: reqwest::Error| {
            OAuthError::Unavailable(format!("Graph API: {}", error_chain(&e.without_url())))
        };
        let response = self
            .http
            .inner()
            .get(url)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(OAuthError::Unavailable(format!("Graph API: HTTP {status}")));
        }
        let body = response.bytes().await.map_err(unavailable)?;
        if !status.is_success() {
            let message = graph_error(&body).unwrap_or_default();
            return Err(OAuthError::Protocol(format!(
                "Graph API: HTTP {status}: {message}"
            )));
        }
        let me: Me = serde_json::from_slice(&body)
            .map_err(|e| OAuthError::Protocol(format!("Graph API answer: {e}")))?;
        Ok(ExternalProfile {
            subject: me.id,
            email: me.email,
            email_verified: false,
            name: me.name,
            picture: None,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn appsecret_proof_is_hex_hmac_sha256_keyed_with_the_secret() {
        let provider = FacebookProvider::new(FacebookConfig::new(
            "app",
            "key",
            "https://example.test/callback",
        ))
        .unwrap();
        // The well-known "quick brown fox" HMAC-SHA256 example value.
        assert_eq!(
            provider.appsecret_proof("The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
