//! The Facebook adapter against a fake Facebook on loopback: the code exchange with PKCE, then
//! Graph `/me`, which the fake answers only when `appsecret_proof` is right.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use accueil_oauth::testing::{FbUser, MockFacebook};
use accueil_oauth::{FacebookConfig, FacebookProvider};
use accueil_ports::identity::oauth::{AuthorizationRequest, OAuthError, OAuthProvider};

const REDIRECT: &str = "https://app.example/auth/facebook/callback";
const STATE: &str = "state-fb";
const VERIFIER: &str = "verifier-0123456789-0123456789-0123456789-0123456789";
const OTHER_VERIFIER: &str = "verifier-9876543210-9876543210-9876543210-9876543210";

fn request() -> AuthorizationRequest<'static> {
    AuthorizationRequest {
        state: STATE,
        nonce: "ignored-by-facebook",
        pkce_verifier: VERIFIER,
    }
}

#[tokio::test]
async fn happy_path_returns_an_unverified_profile() {
    let mock = MockFacebook::start().await;
    let provider = FacebookProvider::new(mock.config(REDIRECT)).unwrap();
    let url = provider.authorization_url(request()).await.unwrap();

    let params: HashMap<String, String> = oauth2::url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params["client_id"], mock.client_id());
    assert_eq!(params["scope"], "email public_profile");
    assert!(!params.contains_key("nonce"));

    let callback = mock.authorize(&url, FbUser::new("1234567890", "ada@example.com", "Ada"));
    assert_eq!(callback.state, STATE);
    assert_eq!(callback.redirect_uri, REDIRECT);
    // The fake answers /me only with the right appsecret_proof, so this also proves the proof.
    let profile = provider
        .exchange(&callback.code, VERIFIER, "ignored")
        .await
        .unwrap();
    assert_eq!(profile.subject, "1234567890");
    assert_eq!(profile.email.as_deref(), Some("ada@example.com"));
    assert!(
        !profile.email_verified,
        "Facebook never vouches for the address"
    );
    assert_eq!(profile.name.as_deref(), Some("Ada"));
    assert_eq!(
        profile.picture, None,
        "Graph's picture links expire: none is passed on"
    );
}

#[tokio::test]
async fn user_without_email_signs_in_without_one() {
    let mock = MockFacebook::start().await;
    let provider = FacebookProvider::new(mock.config(REDIRECT)).unwrap();
    let url = provider.authorization_url(request()).await.unwrap();
    let user = FbUser {
        email: None,
        ..FbUser::new("42", "unused@example.com", "No Mail")
    };
    let callback = mock.authorize(&url, user);
    let profile = provider
        .exchange(&callback.code, VERIFIER, "")
        .await
        .unwrap();
    assert_eq!(profile.email, None);
    assert!(!profile.email_verified);
}

#[tokio::test]
async fn pkce_verifier_mismatch_is_code_rejected() {
    let mock = MockFacebook::start().await;
    let provider = FacebookProvider::new(mock.config(REDIRECT)).unwrap();
    let url = provider.authorization_url(request()).await.unwrap();
    let callback = mock.authorize(&url, FbUser::new("1", "a@example.com", "A"));
    let result = provider.exchange(&callback.code, OTHER_VERIFIER, "").await;
    assert!(
        matches!(result, Err(OAuthError::CodeRejected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn wrong_app_secret_fails_at_the_token_endpoint() {
    let mock = MockFacebook::start().await;
    let provider = FacebookProvider::new(FacebookConfig {
        client_secret: "not-the-secret".into(),
        ..mock.config(REDIRECT)
    })
    .unwrap();
    let url = provider.authorization_url(request()).await.unwrap();
    let callback = mock.authorize(&url, FbUser::new("1", "a@example.com", "A"));
    let result = provider.exchange(&callback.code, VERIFIER, "").await;
    assert!(matches!(result, Err(OAuthError::Protocol(_))), "{result:?}");
}

#[tokio::test]
async fn wrong_appsecret_proof_is_refused_by_graph() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    // A token endpoint that accepts anything, and a provider whose secret differs from the one
    // Graph checks the proof with: the token passes, /me must refuse the proof.
    let mock = MockFacebook::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "stolen-token", "token_type": "bearer"
        })))
        .with_priority(1)
        .mount(mock.server())
        .await;
    let provider = FacebookProvider::new(FacebookConfig {
        client_secret: "not-the-secret".into(),
        ..mock.config(REDIRECT)
    })
    .unwrap();
    let result = provider.exchange("any-code", VERIFIER, "").await;
    match result {
        Err(OAuthError::Protocol(message)) => {
            assert!(message.contains("appsecret_proof"), "{message}")
        }
        other => panic!("expected the proof to be refused, got {other:?}"),
    }
}

#[test]
fn defaults_point_at_facebook() {
    let config = FacebookConfig::new("app", "secret", REDIRECT);
    assert_eq!(config.auth_url, accueil_oauth::facebook::DEFAULT_AUTH_URL);
    assert_eq!(config.token_url, accueil_oauth::facebook::DEFAULT_TOKEN_URL);
    assert_eq!(config.graph_url, accueil_oauth::facebook::DEFAULT_GRAPH_URL);
    assert_eq!(config.scopes, ["email", "public_profile"]);
    assert!(
        !format!("{config:?}").contains("\"secret\""),
        "the secret is redacted"
    );
}
