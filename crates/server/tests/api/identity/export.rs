//! End to end: the personal export (`GET /api/v1/users/me/export`) — the linked sign-in
//! identities, the API keys' metadata (never a secret or its digest), and the couple export
//! while the caller is in a couple or may still export the one they left.

use accueil_domain::couples::SHARED_CONTENT_RETENTION;
use accueil_media::testing::jpeg;
use accueil_oauth::testing::{FbUser, IdClaims, MockFacebook, MockOidc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::oauth::{callback, google, server_on, start};
use crate::common::photos::{photo_form, send_form};
use crate::common::{Db, TestServer, call, dissolved_earlier, json_of, user};

/// An object's keys, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

async fn export_of(s: &TestServer, token: &str) -> Value {
    json_of(
        call(s, Method::GET, "/api/v1/users/me/export", token, None).await,
        StatusCode::OK,
    )
    .await
}

/// A JSON answer without its `exported_at` (two exports differ only there).
fn without_time(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("exported_at");
    v
}

async fn personal_export(db: Db) {
    let (oidc, fb) = (MockOidc::start().await, MockFacebook::start().await);
    let Some(s) = server_on(db, &oidc, &fb, &[]).await else {
        return;
    };
    let s = &s;

    // Ann signs up with Google, then links Facebook from her settings.
    let tokens = json_of(
        google(s, &oidc, IdClaims::new("g-export", "ann@gmail.test")).await,
        StatusCode::OK,
    )
    .await;
    let ann = tokens["access_token"].as_str().unwrap().to_owned();
    let started = start(s, "facebook", Some(&ann)).await;
    let cb = fb.authorize(&started.url, FbUser::new("fb-export", "ann@fb.test", "Ann"));
    json_of(
        callback(s, "facebook", &cb.code, &cb.state, Some(&started.cookie)).await,
        StatusCode::OK,
    )
    .await;

    // Two API keys: one revoked, one used.
    let key = |name: &'static str, scope: &'static str| {
        let ann = ann.clone();
        async move {
            json_of(
                call(
                    s,
                    Method::POST,
                    "/api/v1/users/me/api-keys",
                    &ann,
                    Some(json!({"name": name, "scope": scope})),
                )
                .await,
                StatusCode::CREATED,
            )
            .await
        }
    };
    let reader = key("lecture", "read").await;
    let writer = key("écriture", "read_write").await;
    json_of(
        call(
            s,
            Method::DELETE,
            &format!(
                "/api/v1/users/me/api-keys/{}",
                reader["id"].as_str().unwrap()
            ),
            &ann,
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let used = s
        .client
        .get(s.url("/api/v1/users/me"))
        .header("X-API-Key", writer["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), StatusCode::OK);

    let export = export_of(s, &ann).await;
    assert_eq!(export["user"]["email"], "ann@gmail.test");
    assert!(export["couple"].is_null(), "no couple yet");

    // Identities: both providers, as the settings list them.
    let identities = json_of(
        call(s, Method::GET, "/api/v1/users/me/identities", &ann, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["identities"], identities);
    let mut providers: Vec<&str> = export["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(
                keys(i),
                ["created_at", "email", "id", "last_used_at", "provider"]
            );
            i["provider"].as_str().unwrap()
        })
        .collect();
    providers.sort_unstable();
    assert_eq!(providers, ["facebook", "google"]);

    // API keys: their metadata as the settings list them; no secret, no digest.
    let listed = json_of(
        call(s, Method::GET, "/api/v1/users/me/api-keys", &ann, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["api_keys"], listed);
    let exported_keys = export["api_keys"].as_array().unwrap();
    assert_eq!(exported_keys.len(), 2);
    for k in exported_keys {
        assert_eq!(
            keys(k),
            [
                "created_at",
                "expires_at",
                "hint",
                "id",
                "last_used_at",
                "name",
                "revoked_at",
                "scope",
                "state"
            ]
        );
    }
    let of = |made: &Value| {
        exported_keys
            .iter()
            .find(|k| k["id"] == made["id"])
            .unwrap()
            .clone()
    };
    let (r, w) = (of(&reader), of(&writer));
    assert_eq!(
        (&r["name"], &r["scope"], &r["state"]),
        (&json!("lecture"), &json!("read"), &json!("revoked"))
    );
    assert!(r["revoked_at"].is_string());
    assert_eq!(
        (&w["name"], &w["scope"], &w["state"]),
        (&json!("écriture"), &json!("read_write"), &json!("active"))
    );
    assert!(w["last_used_at"].is_string(), "its use is recorded");
    let text = export.to_string();
    for made in [&reader, &writer] {
        let secret = made["secret"].as_str().unwrap();
        assert!(secret.starts_with(of(made)["hint"].as_str().unwrap()));
        assert!(!text.contains(secret), "an API key's secret is exported");
    }
    assert!(!text.contains("digest"));

    // In a couple: the couple export, exactly as `GET /api/v1/couple/export` gives it.
    let bob = user(s, "bob@example.org").await;
    json_of(
        call(s, Method::POST, "/api/v1/couple", &ann, None).await,
        StatusCode::CREATED,
    )
    .await;
    let invite = json_of(
        call(s, Method::POST, "/api/v1/couple/invite", &ann, None).await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/join",
            &bob,
            Some(json!({"code": invite["code"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let memory = json_of(
        send_form(
            s,
            Method::POST,
            "/api/v1/memories",
            &bob,
            photo_form(jpeg(48, 32), "p.jpg", "image/jpeg").text("title", "Ensemble"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let couple = json_of(
        call(s, Method::GET, "/api/v1/couple/export", &ann, None).await,
        StatusCode::OK,
    )
    .await;
    let export = export_of(s, &ann).await;
    assert_eq!(
        without_time(export["couple"].clone()),
        without_time(couple.clone())
    );
    assert_eq!(
        export["couple"]["memories"][0]["photo"]["thumb"]["url"],
        format!(
            "/api/v1/couple/export/memories/{}/photo?size=thumb",
            memory["id"].as_str().unwrap()
        )
    );
    assert_eq!(
        export_of(s, &bob).await["couple"]["couple"]["id"],
        couple["couple"]["id"],
        "the partner's export has the same couple"
    );

    // After leaving: the dissolved couple for 30 days, then none.
    json_of(
        call(s, Method::POST, "/api/v1/couple/leave", &bob, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let export = export_of(s, &ann).await;
    assert!(export["couple"]["couple"]["dissolved_at"].is_string());
    assert_eq!(export["couple"]["memories"], couple["memories"]);
    let couple_id = couple["couple"]["id"].as_str().unwrap();
    dissolved_earlier(s, couple_id, SHARED_CONTENT_RETENTION).await;
    for who in [&ann, &bob] {
        let export = export_of(s, who).await;
        assert!(export["couple"].is_null(), "{export}");
    }
    assert_eq!(export_of(s, &ann).await["identities"], identities);
    s.stop().await;
}

#[tokio::test]
async fn the_personal_export_on_sqlite() {
    personal_export(Db::Sqlite).await;
}

#[tokio::test]
async fn the_personal_export_on_postgres() {
    personal_export(Db::Postgres).await;
}
