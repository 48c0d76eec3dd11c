//! OAuth adapters: [`OidcProvider`] (Google and any OpenID Connect provider, found by discovery)
//! and [`FacebookProvider`] (plain OAuth 2.0 plus the Graph API), both implementing the
//! application's `OAuthProvider` port.
//!
//! The application owns the flow (state, nonce and PKCE verifier); these adapters own the
//! protocol. They share one HTTP client policy: no redirects (a redirect could point a
//! server-side request anywhere, see the openidconnect crate's SSRF note), a 10 s timeout, and
//! 5xx answers reported as "unavailable" rather than as a refused code.
//!
//! With the `testing` feature, [`testing`] offers fake providers on loopback for end-to-end
//! tests.

pub mod facebook;
pub mod oidc;
#[cfg(feature = "testing")]
pub mod testing;

pub use facebook::{FacebookConfig, FacebookProvider};
pub use oidc::{MetadataTimings, OidcConfig, OidcProvider};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use accueil_ports::identity::oauth::OAuthError;
use oauth2::basic::{BasicErrorResponse, BasicErrorResponseType};
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse, RequestTokenError};

/// How long one request to a provider may take, connection included.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request to a provider failed before a usable answer came back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// Connection, TLS, timeout or body errors (the URL is stripped: it may carry a token).
    #[error("{0}")]
    Transport(#[source] reqwest::Error),
    /// The provider answered 5xx.
    #[error("HTTP {0}")]
    Server(u16),
    /// The answer could not be turned into an `http::Response`.
    #[error("malformed response: {0}")]
    Malformed(String),
}

impl From<reqwest::Error> for HttpError {
    fn from(err: reqwest::Error) -> Self {
        Self::Transport(err.without_url())
    }
}

/// The one HTTP client policy of this crate, usable by both oauth2 and openidconnect.
///
/// A 5xx answer becomes an error of the client itself, so the libraries report it as a request
/// failure (`Unavailable`) instead of trying to parse it as an OAuth error body.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient(reqwest::Client);

impl HttpClient {
    pub(crate) fn new() -> Result<Self, OAuthError> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map(Self)
            .map_err(|e| OAuthError::Unavailable(format!("cannot build the HTTP client: {e}")))
    }

    pub(crate) fn inner(&self) -> &reqwest::Client {
        &self.0
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    // Send, unlike the trait's minimum, so the adapters' futures stay Send for async-trait.
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = self.0.execute(request).await?;
            let status = response.status();
            if status.is_server_error() {
                return Err(HttpError::Server(status.as_u16()));
            }
            let mut builder = oauth2::http::Response::builder().status(status);
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await?;
            builder
                .body(body.to_vec())
                .map_err(|e| HttpError::Malformed(e.to_string()))
        })
    }
}

/// Maps a failed code exchange to the port's error.
pub(crate) fn token_error(err: RequestTokenError<HttpError, BasicErrorResponse>) -> OAuthError {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let code = response.error();
            let reason = match response.error_description() {
                Some(description) => format!("{}: {description}", code.as_ref()),
                None => code.as_ref().to_owned(),
            };
            match code {
                // Our own credentials or request shape are wrong: no code would ever pass, so
                // this is a configuration problem, not the user's.
                BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient
                | BasicErrorResponseType::UnsupportedGrantType
                | BasicErrorResponseType::InvalidScope => {
                    tracing::error!(error = %reason, "token endpoint refused the client; check the provider settings");
                    OAuthError::Protocol(format!("token endpoint refused the client: {reason}"))
                }
                _ => OAuthError::CodeRejected(reason),
            }
        }
        RequestTokenError::Request(err) => {
            OAuthError::Unavailable(format!("token endpoint: {}", error_chain(&err)))
        }
        RequestTokenError::Parse(err, body) => match graph_error(&body) {
            // Facebook answers 4xx with its own error shape ({"error": {"message": ...}}),
            // which is not RFC 6749's: a refused code all the same.
            Some(message) => OAuthError::CodeRejected(message),
            None => OAuthError::Protocol(format!("token response: {err}")),
        },
        RequestTokenError::Other(message) => {
            OAuthError::Protocol(format!("token endpoint: {message}"))
        }
    }
}

/// The message of a Facebook Graph error body, if `body` is one.
pub(crate) fn graph_error(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?.as_object()?;
    Some(
        error
            .get("message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unspecified error")
            .to_owned(),
    )
}

/// Refuses PKCE verifiers that RFC 7636 forbids; the oauth2 crate would panic on them.
pub(crate) fn check_pkce_verifier(verifier: &str) -> Result<(), OAuthError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    if (43..=128).contains(&verifier.len()) && verifier.chars().all(allowed) {
        Ok(())
    } else {
        Err(OAuthError::Protocol(
            "the PKCE verifier must be 43 to 128 unreserved characters (RFC 7636)".to_owned(),
        ))
    }
}

/// Refuses provider URLs that would send secrets in clear text: `https` only, except on
/// loopback (local development and the test providers).
pub(crate) fn check_provider_url(what: &str, url: &oauth2::url::Url) -> Result<(), OAuthError> {
    let loopback = match url.host() {
        Some(oauth2::url::Host::Domain(domain)) => domain == "localhost",
        Some(oauth2::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(oauth2::url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(OAuthError::Protocol(format!(
            "the {what} URL must use https (http only on loopback): {url}"
        ))),
    }
}

/// An error and its sources, `: `-separated (the libraries put the useful part in the sources).
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
