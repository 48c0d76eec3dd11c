//! End to end: an OpenID Connect provider that gives the address only in its UserInfo answer
//! (OpenID Connect Core 1.0 §5.4) signs its users in; a UserInfo answer about another subject
//! is refused with its own code. The provider's picture becomes the new account's avatar, and
//! `/users/me` lists the linked providers.

use accueil_oauth::testing::{IdClaims, MockFacebook, MockOidc, Overrides};
use reqwest::StatusCode;
use serde_json::Value;

use super::oauth::{google, server_on};
use crate::common::{Db, TestServer, json_of, problem};

async fn me(s: &TestServer, token: &str) -> Value {
    json_of(s.get_auth("/api/v1/users/me", token).await, StatusCode::OK).await
}

async fn flow_signs_in(db: Db) {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let Some(s) = server_on(db, &oidc, &fb, &[]).await else {
        return;
    };
    let user = IdClaims {
        picture: Some("https://pics.example/ada.png".into()),
        ..IdClaims::user_info_only("g-ui-1", "ada@idp.test")
    };
    let tokens = json_of(google(&s, &oidc, user).await, StatusCode::OK).await;
    assert_eq!(oidc.user_info_requests().await, 1);
    let who = me(&s, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(who["email"], "ada@idp.test");
    assert_eq!(who["email_verified"], true, "UserInfo's email_verified");
    assert_eq!(who["avatar_url"], "https://pics.example/ada.png");
    assert_eq!(who["providers"], serde_json::json!(["google"]));
    assert_eq!(who["has_password"], false);
    s.stop().await;
}

#[tokio::test]
async fn the_address_from_user_info_signs_in_on_sqlite() {
    flow_signs_in(Db::Sqlite).await;
}

#[tokio::test]
async fn the_address_from_user_info_signs_in_on_postgres() {
    flow_signs_in(Db::Postgres).await;
}

#[tokio::test]
async fn a_user_info_answer_about_another_subject_is_refused() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server_on(Db::Sqlite, &oidc, &fb, &[]).await.unwrap();
    let user = IdClaims {
        overrides: Overrides {
            user_info_sub: Some("someone-else".into()),
            ..Overrides::default()
        },
        ..IdClaims::user_info_only("g-ui-2", "eve@idp.test")
    };
    let (status, code, body) = problem(google(&s, &oidc, user).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "userinfo_subject_mismatch"),
        "{body}"
    );
    // No account was made from it: the same person with a consistent provider is new.
    let tokens = json_of(
        google(
            &s,
            &oidc,
            IdClaims::user_info_only("g-ui-2", "eve@idp.test"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        me(&s, tokens["access_token"].as_str().unwrap()).await["email"],
        "eve@idp.test"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_plain_http_picture_or_one_the_user_set_is_not_taken() {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let s = server_on(Db::Sqlite, &oidc, &fb, &[]).await.unwrap();
    let plain = IdClaims {
        picture: Some("http://pics.example/eve.png".into()),
        ..IdClaims::new("g-pic-1", "eve@idp.test")
    };
    let tokens = json_of(google(&s, &oidc, plain).await, StatusCode::OK).await;
    assert_eq!(
        me(&s, tokens["access_token"].as_str().unwrap()).await["avatar_url"],
        Value::Null
    );

    // Zoé has a password account with her own avatar, then links Google: hers stays.
    s.register("zoe@example.org", None).await;
    let zoe = s.login("zoe@example.org").await;
    json_of(
        s.send_json(
            reqwest::Method::PATCH,
            "/api/v1/users/me",
            &zoe.access,
            serde_json::json!({"avatar_url": "https://mine.example/zoe.png"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let started = super::oauth::start(&s, "google", Some(&zoe.access)).await;
    let cb = oidc.authorize(
        &started.url,
        IdClaims {
            picture: Some("https://pics.example/zoe.png".into()),
            ..IdClaims::new("g-pic-2", "zoe@gmail.test")
        },
    );
    let res =
        super::oauth::callback(&s, "google", &cb.code, &cb.state, Some(&started.cookie)).await;
    assert!(res.status().is_success(), "{}", res.status());
    let who = me(&s, &zoe.access).await;
    assert_eq!(who["avatar_url"], "https://mine.example/zoe.png");
    assert_eq!(who["providers"], serde_json::json!(["google"]));
    assert_eq!(who["has_password"], true);
    s.stop().await;
}
