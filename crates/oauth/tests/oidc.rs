//! The OpenID Connect adapter against a fake provider speaking the real protocol on loopback:
//! every ID-token check must refuse its defect, PKCE and single-use codes must hold, and an
//! unreachable provider must read as unavailable — unless metadata discovered earlier can still
//! serve, and without retrying a failed discovery before the backoff is over.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use accueil_oauth::testing::{IdClaims, MockOidc, Overrides};
use accueil_oauth::{MetadataTimings, OidcConfig, OidcProvider};
use accueil_ports::identity::oauth::{AuthorizationRequest, OAuthError, OAuthProvider};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const REDIRECT: &str = "https://app.example/auth/oidc/callback";
const STATE: &str = "state-123";
const NONCE: &str = "nonce-456";
const VERIFIER: &str = "verifier-0123456789-0123456789-0123456789-0123456789";
const OTHER_VERIFIER: &str = "verifier-9876543210-9876543210-9876543210-9876543210";

fn request() -> AuthorizationRequest<'static> {
    AuthorizationRequest {
        state: STATE,
        nonce: NONCE,
        pkce_verifier: VERIFIER,
    }
}

async fn setup() -> (MockOidc, OidcProvider) {
    let mock = MockOidc::start().await;
    let provider = OidcProvider::new(mock.config(REDIRECT)).unwrap();
    (mock, provider)
}

/// Authorization URL, the user's trip to the provider, then the code exchange.
async fn sign_in(
    mock: &MockOidc,
    provider: &OidcProvider,
    user: IdClaims,
) -> Result<accueil_ports::identity::oauth::ExternalProfile, OAuthError> {
    let url = provider.authorization_url(request()).await.unwrap();
    let callback = mock.authorize(&url, user);
    assert_eq!(callback.state, STATE);
    provider.exchange(&callback.code, VERIFIER, NONCE).await
}

fn with(overrides: Overrides) -> IdClaims {
    IdClaims {
        overrides,
        ..IdClaims::new("user-1", "ada@example.com")
    }
}

fn assert_invalid_id_token(result: Result<impl std::fmt::Debug, OAuthError>, reason: &str) {
    match result {
        Err(OAuthError::InvalidIdToken(got)) => {
            assert!(
                got.contains(reason),
                "reason {got:?} should mention {reason:?}"
            );
        }
        other => panic!("expected InvalidIdToken({reason}), got {other:?}"),
    }
}

#[tokio::test]
async fn happy_path_returns_the_verified_profile() {
    let (mock, provider) = setup().await;
    let user = IdClaims {
        name: Some("Ada Lovelace".into()),
        picture: Some("https://pics.example/ada.png".into()),
        ..IdClaims::new("user-1", "ada@example.com")
    };
    let profile = sign_in(&mock, &provider, user).await.unwrap();
    assert_eq!(profile.subject, "user-1");
    assert_eq!(profile.email.as_deref(), Some("ada@example.com"));
    assert!(profile.email_verified);
    assert_eq!(profile.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://pics.example/ada.png")
    );
}

#[tokio::test]
async fn unverified_or_absent_email_verified_is_false() {
    let (mock, provider) = setup().await;
    let unverified = IdClaims {
        email_verified: Some(false),
        ..IdClaims::new("user-1", "ada@example.com")
    };
    assert!(
        !sign_in(&mock, &provider, unverified)
            .await
            .unwrap()
            .email_verified
    );
    let unsaid = IdClaims {
        email_verified: None,
        ..IdClaims::new("user-2", "bob@example.com")
    };
    let profile = sign_in(&mock, &provider, unsaid).await.unwrap();
    assert!(!profile.email_verified);
    assert_eq!(profile.name, None);
}

#[tokio::test]
async fn authorization_url_carries_the_flow_parameters() {
    let (mock, provider) = setup().await;
    let url = provider.authorization_url(request()).await.unwrap();
    assert!(
        url.starts_with(&format!("{}/authorize?", mock.issuer())),
        "{url}"
    );
    let params: HashMap<String, String> = oauth2::url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], mock.client_id());
    assert_eq!(params["redirect_uri"], REDIRECT);
    assert_eq!(params["state"], STATE);
    assert_eq!(params["nonce"], NONCE);
    assert_eq!(params["code_challenge_method"], "S256");
    // RFC 7636 appendix B's construction: BASE64URL(SHA256(verifier)), no padding.
    use base64::Engine;
    use sha2::Digest;
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    assert_eq!(params["code_challenge"], expected);
    let scopes: Vec<&str> = params["scope"].split(' ').collect();
    assert_eq!(scopes, ["openid", "email", "profile"]);
}

#[tokio::test]
async fn configured_scopes_replace_the_defaults_and_openid_is_sent_once() {
    let mock = MockOidc::start().await;
    let provider = OidcProvider::new(OidcConfig {
        scopes: vec!["openid".into(), "email".into()],
        ..mock.config(REDIRECT)
    })
    .unwrap();
    let url = provider.authorization_url(request()).await.unwrap();
    let params: HashMap<String, String> = oauth2::url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params["scope"], "openid email");
}

#[tokio::test]
async fn wrong_nonce_is_refused() {
    let (mock, provider) = setup().await;
    let result = sign_in(
        &mock,
        &provider,
        with(Overrides {
            nonce: Some("someone-elses-nonce".into()),
            ..Overrides::default()
        }),
    )
    .await;
    assert_invalid_id_token(result, "nonce");
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let (mock, provider) = setup().await;
    let result = sign_in(
        &mock,
        &provider,
        with(Overrides {
            aud: Some("another-client".into()),
            ..Overrides::default()
        }),
    )
    .await;
    assert_invalid_id_token(result, "client");
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let (mock, provider) = setup().await;
    let result = sign_in(
        &mock,
        &provider,
        with(Overrides {
            iss: Some("https://evil.example".into()),
            ..Overrides::default()
        }),
    )
    .await;
    assert_invalid_id_token(result, "issuer");
}

#[tokio::test]
async fn expired_token_is_refused() {
    let (mock, provider) = setup().await;
    let result = sign_in(
        &mock,
        &provider,
        with(Overrides {
            expired: true,
            ..Overrides::default()
        }),
    )
    .await;
    assert_invalid_id_token(result, "expired");
}

#[tokio::test]
async fn token_signed_with_another_key_is_refused() {
    let (mock, provider) = setup().await;
    let result = sign_in(
        &mock,
        &provider,
        with(Overrides {
            sign_with_other_key: true,
            ..Overrides::default()
        }),
    )
    .await;
    assert_invalid_id_token(result, "signature");
}

#[tokio::test]
async fn pkce_verifier_mismatch_is_code_rejected() {
    let (mock, provider) = setup().await;
    let url = provider.authorization_url(request()).await.unwrap();
    let callback = mock.authorize(&url, IdClaims::new("user-1", "ada@example.com"));
    let result = provider
        .exchange(&callback.code, OTHER_VERIFIER, NONCE)
        .await;
    assert!(
        matches!(result, Err(OAuthError::CodeRejected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn replayed_code_is_code_rejected() {
    let (mock, provider) = setup().await;
    let url = provider.authorization_url(request()).await.unwrap();
    let callback = mock.authorize(&url, IdClaims::new("user-1", "ada@example.com"));
    provider
        .exchange(&callback.code, VERIFIER, NONCE)
        .await
        .unwrap();
    let replay = provider.exchange(&callback.code, VERIFIER, NONCE).await;
    assert!(
        matches!(replay, Err(OAuthError::CodeRejected(_))),
        "{replay:?}"
    );
}

#[tokio::test]
async fn unreachable_provider_is_unavailable() {
    // A port that was just free and is now closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider = OidcProvider::new(OidcConfig::new(
        format!("http://127.0.0.1:{port}"),
        "client",
        "secret",
        REDIRECT,
    ))
    .unwrap();
    let result = provider.authorization_url(request()).await;
    assert!(
        matches!(result, Err(OAuthError::Unavailable(_))),
        "{result:?}"
    );
    let result = provider.exchange("code", VERIFIER, NONCE).await;
    assert!(
        matches!(result, Err(OAuthError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn token_endpoint_outage_is_unavailable() {
    let (mock, provider) = setup().await;
    let url = provider.authorization_url(request()).await.unwrap();
    let callback = mock.authorize(&url, IdClaims::new("user-1", "ada@example.com"));
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
        .with_priority(1)
        .mount(mock.server())
        .await;
    let result = provider.exchange(&callback.code, VERIFIER, NONCE).await;
    assert!(
        matches!(result, Err(OAuthError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn metadata_is_cached_and_refreshed_when_the_signing_key_rotates() {
    let (mock, provider) = setup().await;
    let user = || IdClaims::new("user-1", "ada@example.com");
    sign_in(&mock, &provider, user()).await.unwrap();
    sign_in(&mock, &provider, user()).await.unwrap();
    assert_eq!(mock.discovery_requests().await, 1, "discovery is cached");

    mock.rotate_key();
    let profile = sign_in(&mock, &provider, user()).await.unwrap();
    assert_eq!(profile.subject, "user-1");
    assert_eq!(
        mock.discovery_requests().await,
        2,
        "an unknown key triggers one re-discovery"
    );
}

#[tokio::test]
async fn bad_configuration_is_refused_at_construction() {
    let config = |issuer: &str| OidcConfig::new(issuer, "client", "secret", REDIRECT);
    assert!(OidcProvider::new(config("not a url")).is_err());
    assert!(OidcProvider::new(config("http://accounts.example")).is_err());
    assert!(OidcProvider::new(config("https://accounts.google.com")).is_ok());
    assert!(
        OidcProvider::new(OidcConfig {
            redirect_url: "nowhere".into(),
            ..config("https://accounts.google.com")
        })
        .is_err()
    );
}

#[tokio::test]
async fn short_pkce_verifier_is_refused_without_panicking() {
    let (_mock, provider) = setup().await;
    let result = provider
        .authorization_url(AuthorizationRequest {
            pkce_verifier: "short",
            ..request()
        })
        .await;
    assert!(matches!(result, Err(OAuthError::Protocol(_))), "{result:?}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // A "provider" whose discovery document redirects to a real one: following it would let a
    // provider (or whoever controls its URL) steer our server's requests elsewhere.
    let mock = MockOidc::start().await;
    let redirector = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/.well-known/openid-configuration", mock.issuer()),
        ))
        .mount(&redirector)
        .await;
    let provider = OidcProvider::new(OidcConfig::new(
        redirector.uri(),
        "client",
        "secret",
        REDIRECT,
    ))
    .unwrap();
    let result = provider.authorization_url(request()).await;
    assert!(
        matches!(result, Err(OAuthError::Unavailable(_))),
        "{result:?}"
    );
    assert_eq!(mock.discovery_requests().await, 0);
}

/// A provider whose metadata goes stale after `fresh`.
async fn setup_with(timings: MetadataTimings) -> (MockOidc, OidcProvider) {
    let mock = MockOidc::start().await;
    let provider = OidcProvider::new(mock.config(REDIRECT))
        .unwrap()
        .with_timings(timings);
    (mock, provider)
}

/// Discovery answers 500 from now on (or for the next `times` requests).
async fn discovery_outage(mock: &MockOidc, times: Option<u64>) {
    let outage = Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1);
    match times {
        Some(n) => outage.up_to_n_times(n),
        None => outage,
    }
    .mount(mock.server())
    .await;
}

fn assert_unavailable(result: Result<impl std::fmt::Debug, OAuthError>) {
    assert!(
        matches!(result, Err(OAuthError::Unavailable(_))),
        "{result:?}"
    );
}

const SHORT: Duration = Duration::from_millis(100);

#[tokio::test]
async fn stale_metadata_serves_through_a_discovery_outage_and_failures_back_off() {
    let (mock, provider) = setup_with(MetadataTimings {
        fresh: SHORT,
        ..MetadataTimings::default()
    })
    .await;
    let user = || IdClaims::new("user-1", "ada@example.com");
    sign_in(&mock, &provider, user()).await.unwrap();
    assert_eq!(mock.discovery_requests().await, 1);

    discovery_outage(&mock, None).await;
    tokio::time::sleep(SHORT * 2).await;
    let profile = sign_in(&mock, &provider, user()).await.unwrap();
    assert_eq!(profile.subject, "user-1");
    assert_eq!(mock.discovery_requests().await, 2, "one failed refresh");

    // Still stale, but the failure is recent: no new attempt.
    sign_in(&mock, &provider, user()).await.unwrap();
    sign_in(&mock, &provider, user()).await.unwrap();
    assert_eq!(
        mock.discovery_requests().await,
        2,
        "no retry within the backoff"
    );
}

#[tokio::test]
async fn without_metadata_an_outage_is_unavailable_and_retried_only_after_the_backoff() {
    let (mock, provider) = setup_with(MetadataTimings {
        backoff: SHORT * 3,
        ..MetadataTimings::default()
    })
    .await;
    discovery_outage(&mock, Some(1)).await;
    assert_unavailable(provider.authorization_url(request()).await);
    assert_eq!(mock.discovery_requests().await, 1);

    // The provider is back, but the backoff is not over: answered at once, without a request.
    assert_unavailable(provider.authorization_url(request()).await);
    assert_unavailable(provider.exchange("code", VERIFIER, NONCE).await);
    assert_eq!(
        mock.discovery_requests().await,
        1,
        "no retry within the backoff"
    );

    tokio::time::sleep(SHORT * 4).await;
    let profile = sign_in(&mock, &provider, IdClaims::new("user-1", "ada@example.com"))
        .await
        .unwrap();
    assert_eq!(profile.subject, "user-1");
    assert_eq!(mock.discovery_requests().await, 2);
}

#[tokio::test]
async fn metadata_past_the_stale_limit_is_not_served() {
    let (mock, provider) = setup_with(MetadataTimings {
        fresh: SHORT,
        stale_limit: SHORT * 2,
        backoff: Duration::ZERO,
    })
    .await;
    provider.authorization_url(request()).await.unwrap();
    discovery_outage(&mock, None).await;
    tokio::time::sleep(SHORT * 3).await;
    assert_unavailable(provider.authorization_url(request()).await);
}

#[tokio::test]
async fn the_key_rotation_refresh_respects_the_backoff() {
    let (mock, provider) = setup().await;
    let user = || IdClaims::new("user-1", "ada@example.com");
    sign_in(&mock, &provider, user()).await.unwrap();

    discovery_outage(&mock, None).await;
    mock.rotate_key();
    // The cached keys cannot tell whether the token is good: unavailable, not refused.
    assert_unavailable(sign_in(&mock, &provider, user()).await);
    assert_eq!(mock.discovery_requests().await, 2);
    assert_unavailable(sign_in(&mock, &provider, user()).await);
    assert_eq!(
        mock.discovery_requests().await,
        2,
        "no retry within the backoff"
    );
}

#[tokio::test]
async fn readers_do_not_wait_for_a_slow_refresh() {
    let (mock, provider) = setup_with(MetadataTimings {
        fresh: SHORT,
        ..MetadataTimings::default()
    })
    .await;
    provider.authorization_url(request()).await.unwrap();
    // From now on discovery takes a second (the real document, late). Reading it is the second
    // discovery request the mock counts.
    let document = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        mock.issuer()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(document, "application/json")
                .set_delay(Duration::from_secs(1)),
        )
        .with_priority(1)
        .mount(mock.server())
        .await;
    tokio::time::sleep(SHORT * 2).await;

    let refreshing = provider.authorization_url(request());
    tokio::pin!(refreshing);
    tokio::select! {
        result = &mut refreshing => panic!("the refresh should be slow: {result:?}"),
        () = tokio::time::sleep(SHORT) => {}
    }
    // The refresh is under way: another sign-in goes on with the stale metadata.
    tokio::time::timeout(SHORT * 3, provider.authorization_url(request()))
        .await
        .expect("not queued behind the refresh")
        .unwrap();
    refreshing.await.unwrap();
    assert_eq!(mock.discovery_requests().await, 3, "one refresh");
}

#[tokio::test]
async fn requests_waiting_on_a_failed_first_discovery_do_not_retry_it() {
    let (mock, provider) = setup().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(500).set_delay(SHORT * 3))
        .with_priority(1)
        .mount(mock.server())
        .await;
    let (first, second, third) = tokio::join!(
        provider.authorization_url(request()),
        provider.authorization_url(request()),
        provider.exchange("code", VERIFIER, NONCE),
    );
    assert_unavailable(first);
    assert_unavailable(second);
    assert_unavailable(third);
    assert_eq!(mock.discovery_requests().await, 1, "one attempt for all");
}

#[tokio::test]
async fn an_address_given_only_by_user_info_is_fetched_with_the_access_token() {
    let (mock, provider) = setup().await;
    let user = IdClaims {
        name: Some("Ada Lovelace".into()),
        picture: Some("https://pics.example/ada.png".into()),
        ..IdClaims::user_info_only("user-1", "ada@example.com")
    };
    let profile = sign_in(&mock, &provider, user).await.unwrap();
    assert_eq!(profile.subject, "user-1");
    assert_eq!(profile.email.as_deref(), Some("ada@example.com"));
    assert!(profile.email_verified, "UserInfo's email_verified counts");
    assert_eq!(profile.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        profile.picture.as_deref(),
        Some("https://pics.example/ada.png")
    );
    assert_eq!(mock.user_info_requests().await, 1);
}

#[tokio::test]
async fn user_info_is_not_asked_when_the_id_token_has_the_address() {
    let (mock, provider) = setup().await;
    sign_in(&mock, &provider, IdClaims::new("user-1", "ada@example.com"))
        .await
        .unwrap();
    assert_eq!(mock.user_info_requests().await, 0);
}

#[tokio::test]
async fn a_user_info_answer_about_another_subject_is_refused() {
    let (mock, provider) = setup().await;
    let user = IdClaims {
        overrides: Overrides {
            user_info_sub: Some("someone-else".into()),
            ..Overrides::default()
        },
        ..IdClaims::user_info_only("user-1", "ada@example.com")
    };
    assert_eq!(
        sign_in(&mock, &provider, user).await,
        Err(OAuthError::UserInfoSubjectMismatch)
    );
    assert_eq!(mock.user_info_requests().await, 1);
}

#[tokio::test]
async fn a_refused_access_token_at_user_info_is_a_provider_failure() {
    let (mock, provider) = setup().await;
    Mock::given(method("GET"))
        .and(path("/userinfo"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(1)
        .mount(mock.server())
        .await;
    let result = sign_in(
        &mock,
        &provider,
        IdClaims::user_info_only("user-1", "ada@example.com"),
    )
    .await;
    assert!(
        matches!(&result, Err(OAuthError::Protocol(reason)) if reason.contains("401")),
        "{result:?}"
    );
}
