//! End to end: sign-in with a Google-like OpenID Connect provider and a Facebook-like Graph
//! API, both served on loopback with ID tokens signed by RSA keys made in the test; state,
//! nonce, PKCE and ID-token checks; linking and unlinking; OAuth-only mode.

use accueil_oauth::testing::{FbUser, IdClaims, MockFacebook, MockOidc, Overrides};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{self, Db, TestServer, json_of, problem};

/// A server with `google` (and `corp`, another OpenID Connect provider) on `oidc` and
/// `facebook` on `fb`.
async fn server(oidc: &MockOidc, fb: &MockFacebook, extra: &[(&str, &str)]) -> TestServer {
    server_on(Db::Sqlite, oidc, fb, extra).await.unwrap()
}

/// [`server`] on this database; `None` when it is PostgreSQL and none answers.
pub(super) async fn server_on(
    db: Db,
    oidc: &MockOidc,
    fb: &MockFacebook,
    extra: &[(&str, &str)],
) -> Option<TestServer> {
    let fbc = fb.config("unused");
    let issuer = oidc.issuer();
    let mut vars = vec![
        ("ACCUEIL_OAUTH_GOOGLE_CLIENT_ID", oidc.client_id()),
        ("ACCUEIL_OAUTH_GOOGLE_CLIENT_SECRET", oidc.client_secret()),
        ("ACCUEIL_OAUTH_GOOGLE_ISSUER", issuer.as_str()),
        ("ACCUEIL_OAUTH_CORP_CLIENT_ID", oidc.client_id()),
        ("ACCUEIL_OAUTH_CORP_CLIENT_SECRET", oidc.client_secret()),
        ("ACCUEIL_OAUTH_CORP_ISSUER", issuer.as_str()),
        ("ACCUEIL_OAUTH_FACEBOOK_CLIENT_ID", fb.client_id()),
        ("ACCUEIL_OAUTH_FACEBOOK_CLIENT_SECRET", fb.client_secret()),
        ("ACCUEIL_OAUTH_FACEBOOK_AUTH_URL", fbc.auth_url.as_str()),
        ("ACCUEIL_OAUTH_FACEBOOK_TOKEN_URL", fbc.token_url.as_str()),
        ("ACCUEIL_OAUTH_FACEBOOK_GRAPH_URL", fbc.graph_url.as_str()),
        ("ACCUEIL_OAUTH_REDIRECT_URL", "https://app.test/signed-in"),
    ];
    vars.extend_from_slice(extra);
    TestServer::start_with(db, &vars).await
}

/// A flow started in JSON mode: the authorization URL and the binding cookie.
pub(super) struct Started {
    pub(super) url: String,
    pub(super) cookie: String,
}

/// Starts a flow in JSON mode: a sign-in, or with `bearer` a link from the account settings.
pub(super) async fn start(s: &TestServer, provider: &str, bearer: Option<&str>) -> Started {
    let req = match bearer {
        None => s
            .client
            .get(s.url(&format!("/api/v1/auth/{provider}/start?mode=json"))),
        Some(t) => s
            .client
            .post(s.url(&format!("/api/v1/users/me/identities/{provider}")))
            .bearer_auth(t),
    };
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Secure")
            && cookie.contains("Path=/;"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    Started {
        url: body["authorization_url"].as_str().unwrap().to_owned(),
        cookie,
    }
}

/// The provider sends the browser back with `code` and `state`.
pub(super) async fn callback(
    s: &TestServer,
    provider: &str,
    code: &str,
    state: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = s
        .client
        .get(s.url(&format!("/api/v1/auth/{provider}/callback")));
    req = req.query(&[("code", code), ("state", state)]);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap()
}

/// A whole Google sign-in in JSON mode; the callback's answer.
pub(super) async fn google(s: &TestServer, oidc: &MockOidc, user: IdClaims) -> reqwest::Response {
    let started = start(s, "google", None).await;
    let cb = oidc.authorize(&started.url, user);
    callback(s, "google", &cb.code, &cb.state, Some(&started.cookie)).await
}

async fn me(s: &TestServer, token: &str) -> Value {
    json_of(
        s.client
            .get(s.url("/api/v1/users/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn google_sign_in_creates_the_account_then_reuses_it() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server(&oidc, &fb, &[]).await;
    let first = json_of(
        google(&s, &oidc, IdClaims::new("g-1", "ann@gmail.test")).await,
        StatusCode::OK,
    )
    .await;
    let token = first["access_token"].as_str().unwrap().to_owned();
    let who = me(&s, &token).await;
    assert_eq!(who["email"], "ann@gmail.test");
    assert_eq!(who["email_verified"], true);
    let again = json_of(
        google(&s, &oidc, IdClaims::new("g-1", "ann@gmail.test")).await,
        StatusCode::OK,
    )
    .await;
    let who_again = me(&s, again["access_token"].as_str().unwrap()).await;
    assert_eq!(
        who_again["id"], who["id"],
        "the same (provider, subject), the same account"
    );
    // The refresh token works like a password login's.
    json_of(
        s.post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": again["refresh_token"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let ids = json_of(
        s.client
            .get(s.url("/api/v1/users/me/identities"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids.as_array().unwrap().len(), 1);
    assert_eq!(ids[0]["provider"], "google");
    let (status, code, _) = problem(
        s.client
            .delete(s.url(&format!(
                "/api/v1/users/me/identities/{}",
                ids[0]["id"].as_str().unwrap()
            )))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "last_sign_in_method")
    );

    // A provider configured by issuer alone works the same way (a different provider name,
    // so a different identity).
    let started = start(&s, "corp", None).await;
    let cb = oidc.authorize(&started.url, IdClaims::new("c-1", "bob@corp.test"));
    json_of(
        callback(&s, "corp", &cb.code, &cb.state, Some(&started.cookie)).await,
        StatusCode::OK,
    )
    .await;
    let (status, code, _) = problem(
        s.client
            .get(s.url("/api/v1/auth/nope/start"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "unknown_provider")
    );
    s.stop().await;
}

#[tokio::test]
async fn state_is_required_single_use_and_bound_to_its_browser() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server(&oidc, &fb, &[]).await;
    let expect = |res: reqwest::Response, status: StatusCode, code: &'static str| async move {
        let (got, got_code, body) = problem(res).await;
        assert_eq!((got, got_code.as_str()), (status, code), "{body}");
    };
    let started = start(&s, "google", None).await;
    let cb = oidc.authorize(&started.url, IdClaims::new("g-2", "x@gmail.test"));
    // Missing state, and no cookie (another browser).
    expect(
        callback(&s, "google", &cb.code, "", Some(&started.cookie)).await,
        StatusCode::BAD_REQUEST,
        "invalid_state",
    )
    .await;
    // The right browser, a state from another flow.
    let other = start(&s, "google", None).await;
    let other_cb = oidc.authorize(&other.url, IdClaims::new("g-2", "x@gmail.test"));
    expect(
        callback(
            &s,
            "google",
            &cb.code,
            &other_cb.state,
            Some(&started.cookie),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_state",
    )
    .await;
    expect(
        callback(&s, "google", &cb.code, &cb.state, None).await,
        StatusCode::BAD_REQUEST,
        "invalid_state",
    )
    .await;
    // Each attempt spent its state; a fresh flow works, then its state cannot be replayed.
    let fresh = start(&s, "google", None).await;
    let cb = oidc.authorize(&fresh.url, IdClaims::new("g-2", "x@gmail.test"));
    json_of(
        callback(&s, "google", &cb.code, &cb.state, Some(&fresh.cookie)).await,
        StatusCode::OK,
    )
    .await;
    expect(
        callback(&s, "google", &cb.code, &cb.state, Some(&fresh.cookie)).await,
        StatusCode::BAD_REQUEST,
        "invalid_state",
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn id_tokens_and_pkce_are_checked() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server(&oidc, &fb, &[]).await;
    let with = |overrides: Overrides| IdClaims {
        overrides,
        ..IdClaims::new("g-3", "y@gmail.test")
    };
    for (what, overrides) in [
        (
            "wrong nonce",
            Overrides {
                nonce: Some("other".into()),
                ..Default::default()
            },
        ),
        (
            "wrong audience",
            Overrides {
                aud: Some("someone-else".into()),
                ..Default::default()
            },
        ),
        (
            "wrong issuer",
            Overrides {
                iss: Some("https://evil.test".into()),
                ..Default::default()
            },
        ),
        (
            "expired",
            Overrides {
                expired: true,
                ..Default::default()
            },
        ),
        (
            "bad signature",
            Overrides {
                sign_with_other_key: true,
                ..Default::default()
            },
        ),
    ] {
        let (status, code, body) = problem(google(&s, &oidc, with(overrides)).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_id_token"),
            "{what}: {body}"
        );
    }
    // The provider saw another PKCE challenge than the one for our verifier.
    let started = start(&s, "google", None).await;
    let tampered = started
        .url
        .split('&')
        .map(|p| {
            if p.starts_with("code_challenge=") {
                "code_challenge=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let cb = oidc.authorize(&tampered, IdClaims::new("g-3", "y@gmail.test"));
    let (status, code, _) =
        problem(callback(&s, "google", &cb.code, &cb.state, Some(&started.cookie)).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "code_rejected")
    );
    s.stop().await;
}

#[tokio::test]
async fn browsers_come_back_to_the_app_with_tokens_in_the_fragment() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server(&oidc, &fb, &[]).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = browser
        .get(s.url("/api/v1/auth/google/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let to_provider = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(to_provider.starts_with(&oidc.issuer()));
    let cookie = res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cb = oidc.authorize(&to_provider, IdClaims::new("g-4", "z@gmail.test"));
    let back = browser
        .get(s.url("/api/v1/auth/google/callback"))
        .query(&[("code", cb.code.as_str()), ("state", cb.state.as_str())])
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let location = back.headers()[LOCATION].to_str().unwrap().to_owned();
    let (page, fragment) = location.split_once('#').unwrap();
    assert_eq!(page, "https://app.test/signed-in");
    let access = fragment
        .split('&')
        .find_map(|p| p.strip_prefix("access_token="))
        .unwrap();
    assert!(fragment.contains("refresh_token=") && fragment.contains("new_account=true"));
    assert_eq!(me(&s, access).await["email"], "z@gmail.test");

    // Failures come back the same way, as a code the app can show.
    let res = browser
        .get(s.url("/api/v1/auth/google/start"))
        .send()
        .await
        .unwrap();
    let to_provider = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let cookie = res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cb = oidc.authorize(
        &to_provider,
        IdClaims {
            overrides: Overrides {
                expired: true,
                ..Overrides::default()
            },
            ..IdClaims::new("g-4", "z@gmail.test")
        },
    );
    let back = browser
        .get(s.url("/api/v1/auth/google/callback"))
        .query(&[("code", cb.code.as_str()), ("state", cb.state.as_str())])
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        back.headers()[LOCATION].to_str().unwrap(),
        "https://app.test/signed-in#error=invalid_id_token"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_existing_account_is_linked_only_with_proof() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server(&oidc, &fb, &[]).await;
    s.register("ann@example.org", None).await;
    let ann = s.login("ann@example.org").await;
    let ann_id = me(&s, &ann.access).await["id"].clone();

    // The provider does not vouch for the address: sign in first.
    let unverified = IdClaims {
        email_verified: Some(false),
        ..IdClaims::new("g-5", "ann@example.org")
    };
    let (status, code, _) = problem(google(&s, &oidc, unverified).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "sign_in_to_link")
    );
    // Facebook never vouches.
    let started = start(&s, "facebook", None).await;
    let cb = fb.authorize(&started.url, FbUser::new("fb-1", "ann@example.org", "Ann"));
    let (status, code, _) =
        problem(callback(&s, "facebook", &cb.code, &cb.state, Some(&started.cookie)).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "sign_in_to_link")
    );

    // Verified: a link token, and the account's password proves it.
    let (status, code, body) =
        problem(google(&s, &oidc, IdClaims::new("g-5", "ann@example.org")).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "link_required")
    );
    let link_token = body["link_token"].as_str().unwrap().to_owned();
    let (status, code, _) = problem(
        s.post(
            "/api/v1/auth/link-identity",
            json!({"link_token": link_token, "password": "not it"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "wrong_password")
    );
    let (_, code, body) =
        problem(google(&s, &oidc, IdClaims::new("g-5", "ann@example.org")).await).await;
    assert_eq!(code, "link_required");
    let linked = json_of(
        s.post(
            "/api/v1/auth/link-identity",
            json!({"link_token": body["link_token"], "password": common::PASSWORD}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        me(&s, linked["access_token"].as_str().unwrap()).await["id"],
        ann_id
    );
    let via_google = json_of(
        google(&s, &oidc, IdClaims::new("g-5", "ann@example.org")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        me(&s, via_google["access_token"].as_str().unwrap()).await["id"],
        ann_id
    );

    // Signed in, Ann links Facebook from her settings, then may unlink Google (she has a
    // password and Facebook left).
    let started = start(&s, "facebook", Some(&ann.access)).await;
    let cb = fb.authorize(&started.url, FbUser::new("fb-1", "ann@example.org", "Ann"));
    let identity = json_of(
        callback(&s, "facebook", &cb.code, &cb.state, Some(&started.cookie)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(identity["provider"], "facebook");
    let ids = json_of(
        s.client
            .get(s.url("/api/v1/users/me/identities"))
            .bearer_auth(&ann.access)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids.as_array().unwrap().len(), 2);
    let google_id = ids
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["provider"] == "google")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = s
        .client
        .request(
            Method::DELETE,
            s.url(&format!("/api/v1/users/me/identities/{google_id}")),
        )
        .bearer_auth(&ann.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Facebook now signs Ann in.
    let started = start(&s, "facebook", None).await;
    let cb = fb.authorize(&started.url, FbUser::new("fb-1", "ann@example.org", "Ann"));
    let fb_tokens = json_of(
        callback(&s, "facebook", &cb.code, &cb.state, Some(&started.cookie)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        me(&s, fb_tokens["access_token"].as_str().unwrap()).await["id"],
        ann_id
    );
    s.stop().await;
}

#[tokio::test]
async fn oauth_only_mode_has_no_passwords() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server(&oidc, &fb, &[("ACCUEIL_PASSWORD_AUTH", "false")]).await;
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/forgot-password",
    ] {
        let (status, code, _) = problem(
            s.post(path, json!({"email": "a@b.test", "password": "x"}))
                .await,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "password_auth_disabled"),
            "{path}"
        );
    }
    let doc: Value = s
        .client
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"].get("/api/v1/auth/login").is_none(),
        "the document reflects the mode"
    );
    assert!(doc["paths"].get("/api/v1/auth/{provider}/start").is_some());
    let tokens = json_of(
        google(&s, &oidc, IdClaims::new("g-6", "min@gmail.test")).await,
        StatusCode::OK,
    )
    .await;
    let who = me(&s, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(who["email"], "min@gmail.test");
    assert!(
        who["display_name"].is_null() && who["username"].is_null(),
        "nothing more is stored"
    );
    s.stop().await;
}
