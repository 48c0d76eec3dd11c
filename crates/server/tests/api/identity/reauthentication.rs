//! End to end: deleting an account that has no password (made by a sign-in provider) is
//! confirmed by a recent sign-in. A session signed in longer ago than the window is refused with
//! `reauthentication_required`, even through a freshly refreshed access token (the window
//! counts from the session's sign-in, not its last refresh); signing in again makes it work.
//! Accounts with a password keep the password check.
//!
//! The server runs on the system clock, which a test cannot move: the stale session is written
//! into the store as signed in eleven minutes ago, with a refresh token whose secret the test
//! knows, and the test refreshes it like a client would.

use accueil_crypto::RandomTokens;
use accueil_domain::identity::{RefreshToken, Session, SessionId, UserId};
use accueil_oauth::testing::{IdClaims, MockFacebook, MockOidc};
use accueil_ports::StoreExt;
use accueil_ports::system::OpaqueTokens;
use chrono::{Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::oauth::{google, server_on};
use crate::common::{Db, PASSWORD, TestServer, call, json_of, problem, user_id};

/// Signs in with Google; the new session's access token.
async fn google_sign_in(s: &TestServer, oidc: &MockOidc, sub: &str, email: &str) -> String {
    let tokens = json_of(
        google(s, oidc, IdClaims::new(sub, email)).await,
        StatusCode::OK,
    )
    .await;
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// A session of `user` signed in `ago`, and an access token for it got by refreshing.
async fn session_signed_in(s: &TestServer, user: &str, ago: Duration) -> String {
    let user = UserId(user.parse().unwrap());
    let secret = format!("stale-{}", Uuid::new_v4());
    let digest = RandomTokens.digest(&secret);
    let now = Utc::now().trunc_subsecs(6);
    let session = Session::start(SessionId(Uuid::new_v4()), user, now - ago);
    let token = RefreshToken {
        id: Uuid::new_v4(),
        session_id: session.id,
        user_id: user,
        digest,
        issued_at: now - ago,
        expires_at: now + Duration::days(1),
        used_at: None,
    };
    s.store()
        .write(move |tx| -> Result<(), accueil_ports::StoreError> {
            tx.sessions().insert_session(&session)?;
            tx.sessions().insert_refresh_token(&token)
        })
        .await
        .unwrap();
    let pair = json_of(
        s.post("/api/v1/auth/refresh", json!({ "refresh_token": secret }))
            .await,
        StatusCode::OK,
    )
    .await;
    pair["access_token"].as_str().unwrap().to_owned()
}

async fn delete_me(s: &TestServer, token: &str, body: Value) -> reqwest::Response {
    call(s, Method::DELETE, "/api/v1/users/me", token, Some(body)).await
}

async fn flow(db: Db) {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let Some(s) = server_on(db, &oidc, &fb, &[]).await else {
        return;
    };
    let first = google_sign_in(&s, &oidc, "g-del-1", "solo@idp.test").await;
    let id = user_id(&s, &first).await;

    // Signed in eleven minutes ago, refreshed just now: too old to confirm.
    let stale = session_signed_in(&s, &id, Duration::minutes(11)).await;
    let (status, code, body) = problem(delete_me(&s, &stale, json!({})).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "{body}"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("sign in again with google") && detail.contains("within 10 minutes"),
        "{detail}"
    );
    assert_eq!(user_id(&s, &stale).await, id, "the account is still there");

    // Signed in nine minutes ago: recent enough.
    let recent = session_signed_in(&s, &id, Duration::minutes(9)).await;
    assert_eq!(
        delete_me(&s, &recent, json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    let (status, _, _) = problem(s.get_auth("/api/v1/users/me", &first).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "every session ended");

    // A fresh sign-in makes a new account (the identity went with the old one), which a
    // session just signed in deletes, password or not.
    let again = google_sign_in(&s, &oidc, "g-del-1", "solo@idp.test").await;
    assert_ne!(user_id(&s, &again).await, id);
    assert_eq!(
        delete_me(&s, &again, json!({"password": "anything"}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    // An account with a password is confirmed by its password, however fresh the session.
    s.register("pat@example.org", None).await;
    let pat = s.login("pat@example.org").await.access;
    for body in [json!({}), json!({"password": "not the password"})] {
        let (status, code, _) = problem(delete_me(&s, &pat, body).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "wrong_password")
        );
    }
    assert_eq!(
        delete_me(&s, &pat, json!({ "password": PASSWORD }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    s.stop().await;
}

#[tokio::test]
async fn deleting_a_passwordless_account_needs_a_recent_sign_in_on_sqlite() {
    flow(Db::Sqlite).await;
}

#[tokio::test]
async fn deleting_a_passwordless_account_needs_a_recent_sign_in_on_postgres() {
    flow(Db::Postgres).await;
}
