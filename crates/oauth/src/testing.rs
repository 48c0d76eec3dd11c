//! Fake OpenID Connect and Facebook providers on loopback (feature `testing`), for this crate's
//! tests and for the end-to-end tests of the crates that wire these adapters.
//!
//! They speak the real protocol over HTTP (wiremock): discovery, JWKS, a token endpoint that
//! checks the code, client authentication and PKCE, RS256 ID tokens, a UserInfo endpoint that
//! checks the access token (Bearer), and Graph `/me` checking `appsecret_proof`. [`MockOidc::authorize`] and [`MockFacebook::authorize`] play the user's
//! browser at the provider: they read the authorization URL the adapter built and hand back the
//! callback the provider would redirect to.
//!
//! RSA key generation is slow in debug builds, so the two signing keys are generated once per
//! process and shared by every mock.

// Test support: a malformed authorization URL is a failed test, best reported by a panic.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use oauth2::url::{Url, form_urlencoded};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::{FacebookConfig, OidcConfig};

/// The client id the mocks expect.
pub const CLIENT_ID: &str = "test-client";
/// The client secret the mocks expect.
pub const CLIENT_SECRET: &str = "test-secret";

/// Where the fake provider sends the browser back: the test calls `redirect_uri` with `code` and
/// `state` as the provider would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The authorization code.
    pub code: String,
    /// The `state` of the authorization URL, echoed.
    pub state: String,
    /// The `redirect_uri` of the authorization URL.
    pub redirect_uri: String,
}

impl Callback {
    /// The full callback URL: `redirect_uri?code=..&state=..`.
    pub fn url(&self) -> String {
        let mut url = Url::parse(&self.redirect_uri).expect("redirect_uri is a URL");
        url.query_pairs_mut()
            .append_pair("code", &self.code)
            .append_pair("state", &self.state);
        url.into()
    }
}

// ---------------------------------------------------------------------------------------------
// Shared: keys, codes, token endpoint checks

/// One RSA signing key with its public JWK.
struct SigningKey {
    kid: &'static str,
    encoding: jsonwebtoken::EncodingKey,
    jwk: Value,
}

impl SigningKey {
    fn generate(kid: &'static str) -> Self {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;

        let private =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
        let pem = private
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .expect("PKCS#1 PEM encoding");
        let encoding =
            jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("jsonwebtoken RSA key");
        let public = private.to_public_key();
        let jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        });
        Self { kid, encoding, jwk }
    }
}

/// The two keys every mock uses: the current one and "the other" (forgeries, rotation).
fn signing_keys() -> &'static [SigningKey; 2] {
    static KEYS: OnceLock<[SigningKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            SigningKey::generate("test-key-1"),
            SigningKey::generate("test-key-2"),
        ]
    })
}

fn random_token(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>())
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn query(url: &str) -> HashMap<String, String> {
    let url = Url::parse(url).unwrap_or_else(|e| panic!("not a URL ({e}): {url}"));
    url.query_pairs().into_owned().collect()
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> &'a str {
    params
        .get(name)
        .unwrap_or_else(|| panic!("the authorization URL has no `{name}`"))
}

/// A code handed out by `authorize`, waiting for the token endpoint.
struct Grant<U> {
    challenge: String,
    redirect_uri: String,
    user: U,
}

/// Codes in flight; each is taken out on its first use, whatever the outcome.
struct Codes<U>(Mutex<HashMap<String, Grant<U>>>);

impl<U> Codes<U> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    /// Checks an authorization URL like a provider would and registers a code for `user`.
    fn authorize(&self, params: &HashMap<String, String>, user: U) -> Callback {
        assert_eq!(param(params, "response_type"), "code", "response_type");
        assert_eq!(param(params, "client_id"), CLIENT_ID, "client_id");
        assert_eq!(
            param(params, "code_challenge_method"),
            "S256",
            "code_challenge_method"
        );
        let code = random_token("code");
        let redirect_uri = param(params, "redirect_uri").to_owned();
        self.0.lock().unwrap().insert(
            code.clone(),
            Grant {
                challenge: param(params, "code_challenge").to_owned(),
                redirect_uri: redirect_uri.clone(),
                user,
            },
        );
        Callback {
            code,
            state: param(params, "state").to_owned(),
            redirect_uri,
        }
    }

    /// Checks a token request; the grant's user, or the error's status and code.
    fn redeem(&self, request: &Request) -> Result<U, (u16, &'static str)> {
        let form: HashMap<String, String> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        if !client_authenticated(request, &form) {
            return Err((401, "invalid_client"));
        }
        if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return Err((400, "unsupported_grant_type"));
        }
        let Some(code) = form.get("code") else {
            return Err((400, "invalid_request"));
        };
        let Some(grant) = self.0.lock().unwrap().remove(code) else {
            return Err((400, "invalid_grant"));
        };
        let challenge = form
            .get("code_verifier")
            .map(|verifier| URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())));
        if challenge.as_deref() != Some(grant.challenge.as_str()) {
            return Err((400, "invalid_grant"));
        }
        // RFC 6749 4.1.3: the redirect_uri of the authorization request must be repeated.
        if form.get("redirect_uri") != Some(&grant.redirect_uri) {
            return Err((400, "invalid_grant"));
        }
        Ok(grant.user)
    }
}

/// client_secret_basic (RFC 6749 2.3.1: id and secret form-urlencoded, then Basic) or
/// client_secret_post.
fn client_authenticated(request: &Request, form: &HashMap<String, String>) -> bool {
    let basic = request
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |s: &str| -> String {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .map(|(_, v)| v.into_owned())
                    .next()
                    .unwrap_or_default()
            };
            Some((decode(id), decode(secret)))
        });
    let (id, secret) = match basic {
        Some(credentials) => credentials,
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => return false,
        },
    };
    id == CLIENT_ID && secret == CLIENT_SECRET
}

fn oauth_error(status: u16, error: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
}

// ---------------------------------------------------------------------------------------------
// OpenID Connect

/// Deliberate defects of one ID token.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// A `nonce` other than the authorization request's.
    pub nonce: Option<String>,
    /// An `aud` other than [`CLIENT_ID`].
    pub aud: Option<String>,
    /// An `iss` other than the mock's issuer.
    pub iss: Option<String>,
    /// `exp` five minutes in the past.
    pub expired: bool,
    /// Signed with a key that is not in the JWKS, under the `kid` of the current one.
    pub sign_with_other_key: bool,
    /// A `sub` other than the ID token's in the UserInfo answer (OpenID Connect Core 1.0
    /// §5.3.4 says the client must refuse it).
    pub user_info_sub: Option<String>,
}

/// The user the fake provider signs in, as its ID token will say.
#[derive(Debug, Clone)]
pub struct IdClaims {
    /// `sub`.
    pub sub: String,
    /// `email` (left out when `None`).
    pub email: Option<String>,
    /// `email_verified` (left out when `None`).
    pub email_verified: Option<bool>,
    /// `name` (left out when `None`).
    pub name: Option<String>,
    /// `picture` (left out when `None`).
    pub picture: Option<String>,
    /// Whether `email`, `email_verified`, `name` and `picture` are left out of the ID token and
    /// given by the UserInfo endpoint only, as OpenID Connect Core 1.0 §5.4 allows in the code
    /// flow. UserInfo always answers them.
    pub profile_in_user_info_only: bool,
    /// Defects to put in the token.
    pub overrides: Overrides,
}

impl IdClaims {
    /// A user with a verified address and no name or picture.
    pub fn new(sub: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            email: Some(email.into()),
            email_verified: Some(true),
            name: None,
            picture: None,
            profile_in_user_info_only: false,
            overrides: Overrides::default(),
        }
    }

    /// A user with a verified address that only the UserInfo endpoint gives.
    pub fn user_info_only(sub: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            profile_in_user_info_only: true,
            ..Self::new(sub, email)
        }
    }

    /// The profile claims (`email`, `email_verified`, `name`, `picture`) that are set.
    fn profile_claims(&self) -> Vec<(&'static str, Value)> {
        [
            ("email", self.email.clone().map(Value::from)),
            ("email_verified", self.email_verified.map(Value::from)),
            ("name", self.name.clone().map(Value::from)),
            ("picture", self.picture.clone().map(Value::from)),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }
}

struct OidcState {
    issuer: String,
    codes: Codes<(IdClaims, String)>,
    /// The users of the access tokens handed out, for UserInfo.
    access_tokens: Mutex<HashMap<String, IdClaims>>,
    /// Index in [`signing_keys`] of the key in the JWKS and used to sign.
    current_key: AtomicUsize,
}

impl OidcState {
    fn id_token(&self, user: &IdClaims, nonce: &str) -> String {
        let keys = signing_keys();
        let current = self.current_key.load(Ordering::SeqCst);
        let overrides = &user.overrides;
        let signer = if overrides.sign_with_other_key {
            &keys[1 - current]
        } else {
            &keys[current]
        };
        let now = now();
        let (iat, exp) = if overrides.expired {
            (now - 600, now - 300)
        } else {
            (now, now + 300)
        };
        let mut claims = json!({
            "iss": overrides.iss.as_deref().unwrap_or(&self.issuer),
            "sub": user.sub,
            "aud": overrides.aud.as_deref().unwrap_or(CLIENT_ID),
            "iat": iat,
            "exp": exp,
            "nonce": overrides.nonce.as_deref().unwrap_or(nonce),
        });
        if !user.profile_in_user_info_only {
            for (name, value) in user.profile_claims() {
                claims[name] = value;
            }
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(keys[current].kid.to_owned());
        jsonwebtoken::encode(&header, &claims, &signer.encoding).expect("ID token signing")
    }
}

struct OidcToken(Arc<OidcState>);

impl Respond for OidcToken {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.0.codes.redeem(request) {
            Ok((user, nonce)) => {
                let access_token = random_token("access");
                let id_token = self.0.id_token(&user, &nonce);
                self.0
                    .access_tokens
                    .lock()
                    .unwrap()
                    .insert(access_token.clone(), user);
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "id_token": id_token,
                }))
            }
            Err((status, error)) => oauth_error(status, error),
        }
    }
}

/// The UserInfo endpoint: the claims of the access token's user, every profile claim included.
struct OidcUserInfo(Arc<OidcState>);

impl Respond for OidcUserInfo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let user =
            bearer.and_then(|token| self.0.access_tokens.lock().unwrap().get(token).cloned());
        let Some(user) = user else {
            // RFC 6750 §3.1.
            return ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Bearer error=\"invalid_token\"");
        };
        let sub = user.overrides.user_info_sub.as_deref().unwrap_or(&user.sub);
        let mut claims = json!({ "sub": sub });
        for (name, value) in user.profile_claims() {
            claims[name] = value;
        }
        ResponseTemplate::new(200).set_body_json(claims)
    }
}

struct Jwks(Arc<OidcState>);

impl Respond for Jwks {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let key = &signing_keys()[self.0.current_key.load(Ordering::SeqCst)];
        ResponseTemplate::new(200).set_body_json(json!({ "keys": [key.jwk] }))
    }
}

/// A fake OpenID Connect provider: discovery, JWKS, token endpoint.
pub struct MockOidc {
    server: MockServer,
    state: Arc<OidcState>,
}

impl MockOidc {
    /// Starts the provider on a loopback port (generating the process's RSA keys on first use).
    pub async fn start() -> Self {
        signing_keys();
        let server = MockServer::start().await;
        let issuer = server.uri();
        let state = Arc::new(OidcState {
            issuer: issuer.clone(),
            codes: Codes::new(),
            access_tokens: Mutex::new(HashMap::new()),
            current_key: AtomicUsize::new(0),
        });
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
                "userinfo_endpoint": format!("{issuer}/userinfo"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"],
                "code_challenge_methods_supported": ["S256"],
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(Jwks(Arc::clone(&state)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(OidcToken(Arc::clone(&state)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/userinfo"))
            .respond_with(OidcUserInfo(Arc::clone(&state)))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// The issuer URL (the server's base URL, no trailing slash).
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    /// The client id the provider knows.
    pub fn client_id(&self) -> &str {
        CLIENT_ID
    }

    /// The client secret the provider expects.
    pub fn client_secret(&self) -> &str {
        CLIENT_SECRET
    }

    /// A configuration for [`crate::OidcProvider`] pointing at this provider.
    pub fn config(&self, redirect_url: impl Into<String>) -> OidcConfig {
        OidcConfig::new(self.issuer(), CLIENT_ID, CLIENT_SECRET, redirect_url)
    }

    /// The wiremock server, to mount extra answers (outages...) with a higher priority.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Plays the user's browser: reads `authorization_url` (which must carry `response_type=code`,
    /// our client id, `scope` with `openid`, `state`, `nonce`, an S256 challenge and
    /// `redirect_uri`), and registers a single-use code whose ID token will carry `user` and the
    /// URL's nonce (unless overridden).
    ///
    /// # Panics
    /// When the URL lacks one of those parameters or has a wrong one.
    pub fn authorize(&self, authorization_url: &str, user: IdClaims) -> Callback {
        let params = query(authorization_url);
        assert!(
            param(&params, "scope").split(' ').any(|s| s == "openid"),
            "scope must include openid"
        );
        let nonce = param(&params, "nonce").to_owned();
        self.state.codes.authorize(&params, (user, nonce))
    }

    /// Rotates the signing key: the JWKS now holds only the other key, which signs from now on.
    pub fn rotate_key(&self) {
        self.state.current_key.fetch_xor(1, Ordering::SeqCst);
    }

    /// How many times the discovery document was fetched.
    pub async fn discovery_requests(&self) -> usize {
        self.requests_to("/.well-known/openid-configuration").await
    }

    /// How many times the UserInfo endpoint was asked.
    pub async fn user_info_requests(&self) -> usize {
        self.requests_to("/userinfo").await
    }

    async fn requests_to(&self, endpoint: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == endpoint)
            .count()
    }
}

impl std::fmt::Debug for MockOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOidc")
            .field("issuer", &self.state.issuer)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Facebook

/// The user the fake Facebook signs in, as `/me` will say.
#[derive(Debug, Clone)]
pub struct FbUser {
    /// The app-scoped user id.
    pub id: String,
    /// The address, if the user granted it.
    pub email: Option<String>,
    /// The display name.
    pub name: Option<String>,
}

impl FbUser {
    /// A user with an address and a name.
    pub fn new(id: impl Into<String>, email: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            email: Some(email.into()),
            name: Some(name.into()),
        }
    }
}

struct FacebookState {
    base: String,
    codes: Codes<FbUser>,
    tokens: Mutex<HashMap<String, FbUser>>,
}

struct FacebookToken(Arc<FacebookState>);

impl Respond for FacebookToken {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.0.codes.redeem(request) {
            Ok(user) => {
                let token = random_token("fb-access");
                self.0.tokens.lock().unwrap().insert(token.clone(), user);
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": token,
                    // Facebook writes it in lowercase.
                    "token_type": "bearer",
                    "expires_in": 5_183_944,
                }))
            }
            Err((status, error)) => oauth_error(status, error),
        }
    }
}

struct FacebookMe(Arc<FacebookState>);

impl Respond for FacebookMe {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let params: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let graph_error = |code: u16, message: &str| {
            ResponseTemplate::new(400).set_body_json(json!({
                "error": { "message": message, "type": "OAuthException", "code": code }
            }))
        };
        let Some(token) = params.get("access_token") else {
            return graph_error(2500, "An active access token must be used");
        };
        // The proof first, so a test can prove a wrong one is refused without a valid token.
        let mut mac =
            Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("HMAC takes any key");
        mac.update(token.as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if params.get("appsecret_proof") != Some(&expected) {
            return graph_error(100, "Invalid appsecret_proof provided in the API argument");
        }
        let Some(user) = self.0.tokens.lock().unwrap().get(token).cloned() else {
            return graph_error(190, "Invalid OAuth access token");
        };
        let mut me = json!({
            "id": user.id,
            "picture": { "data": {
                "url": format!("{}/picture/{}.jpg", self.0.base, user.id),
                "is_silhouette": false,
            }},
        });
        if let Some(email) = user.email {
            me["email"] = email.into();
        }
        if let Some(name) = user.name {
            me["name"] = name.into();
        }
        ResponseTemplate::new(200).set_body_json(me)
    }
}

/// A fake Facebook: token endpoint and Graph `/me`.
pub struct MockFacebook {
    server: MockServer,
    state: Arc<FacebookState>,
}

impl MockFacebook {
    /// Starts the fake Facebook on a loopback port.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(FacebookState {
            base: server.uri(),
            codes: Codes::new(),
            tokens: Mutex::new(HashMap::new()),
        });
        Mock::given(method("POST"))
            .and(path("/oauth/access_token"))
            .respond_with(FacebookToken(Arc::clone(&state)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .respond_with(FacebookMe(Arc::clone(&state)))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// A configuration for [`crate::FacebookProvider`] with every URL on this server.
    pub fn config(&self, redirect_url: impl Into<String>) -> FacebookConfig {
        let base = &self.state.base;
        FacebookConfig {
            auth_url: format!("{base}/dialog/oauth"),
            token_url: format!("{base}/oauth/access_token"),
            graph_url: base.clone(),
            ..FacebookConfig::new(CLIENT_ID, CLIENT_SECRET, redirect_url)
        }
    }

    /// The app id the fake knows.
    pub fn client_id(&self) -> &str {
        CLIENT_ID
    }

    /// The app secret the fake expects.
    pub fn client_secret(&self) -> &str {
        CLIENT_SECRET
    }

    /// The wiremock server, to mount extra answers with a higher priority.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Plays the user's browser at the login dialog: reads `authorization_url` (our app id,
    /// `state`, an S256 challenge, `redirect_uri`) and registers a single-use code for `user`.
    ///
    /// # Panics
    /// When the URL lacks one of those parameters or has a wrong one.
    pub fn authorize(&self, authorization_url: &str, user: FbUser) -> Callback {
        let url = Url::parse(authorization_url).expect("authorization URL");
        assert_eq!(url.path(), "/dialog/oauth", "login dialog path");
        self.state.codes.authorize(&query(authorization_url), user)
    }
}

impl std::fmt::Debug for MockFacebook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockFacebook")
            .field("base", &self.state.base)
            .finish_non_exhaustive()
    }
}
