//! End to end: API keys — a `read` key only reads, a `read_write` key writes as its user, no
//! key manages credentials, the list never shows a secret, and revoking stops a key at once.

use accueil_media::testing::jpeg;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::photos::photo_form;
use crate::common::{self, TestServer, call, json_of, paired, problem};

#[tokio::test]
async fn api_keys_act_within_their_scope() {
    let s = TestServer::start().await;
    let (a, _) = paired(&s, "ka@example.org", "kb@example.org").await;
    let make = |scope: &'static str| {
        let (s, a) = (&s, a.clone());
        async move {
            json_of(
                call(
                    s,
                    Method::POST,
                    "/api/v1/users/me/api-keys",
                    &a,
                    Some(json!({"name": format!("{scope} key"), "scope": scope})),
                )
                .await,
                StatusCode::CREATED,
            )
            .await
        }
    };
    let read = make("read").await;
    let write = make("read_write").await;
    let secret = |k: &Value| k["secret"].as_str().unwrap().to_owned();
    let with_key = |method: Method, path: &str, key: &str, body: Option<Value>| {
        let mut req = s
            .client
            .request(method, s.url(path))
            .header("X-API-Key", key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };

    // A read key reads, and cannot write: not JSON, not a photo upload.
    json_of(
        with_key(Method::GET, "/api/v1/memories", &secret(&read), None)
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let (status, code, _) = problem(
        with_key(
            Method::POST,
            "/api/v1/memories",
            &secret(&read),
            Some(json!({"title": "par clé"})),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "api_key_read_only")
    );
    let upload = s
        .client
        .post(s.url("/api/v1/memories"))
        .header("X-API-Key", secret(&read))
        .multipart(photo_form(jpeg(8, 8), "a.jpg", "image/jpeg").text("title", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
    let list = json_of(
        call(&s, Method::GET, "/api/v1/memories", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"], json!([]), "nothing was created");

    // A read-write key writes as its user.
    let made = json_of(
        with_key(
            Method::POST,
            "/api/v1/memories",
            &secret(&write),
            Some(json!({"title": "par clé"})),
        )
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let me = json_of(
        call(&s, Method::GET, "/api/v1/users/me", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(made["created_by"], me["id"]);

    // No key manages credentials.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/users/me/api-keys",
            Some(json!({"name": "n", "scope": "read"})),
        ),
        (Method::GET, "/api/v1/users/me/api-keys", None),
        (Method::POST, "/api/v1/auth/logout-all", None),
        (
            Method::POST,
            "/api/v1/users/me/password",
            Some(
                json!({"current_password": common::PASSWORD, "new_password": "another long passphrase"}),
            ),
        ),
    ] {
        let (status, code, _) =
            problem(with_key(method, path, &secret(&write), body).await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "session_required"),
            "{path}"
        );
    }

    // The list shows no secret; revoking stops the key at once.
    let keys = json_of(
        call(&s, Method::GET, "/api/v1/users/me/api-keys", &a, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert!(keys[0].get("secret").is_none());
    assert!(secret(&read).starts_with(keys[0]["hint"].as_str().unwrap()));
    json_of(
        call(
            &s,
            Method::DELETE,
            &format!(
                "/api/v1/users/me/api-keys/{}",
                write["id"].as_str().unwrap()
            ),
            &a,
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    for key in [secret(&write), "acc_not-a-key".to_owned()] {
        let (status, code, _) = problem(
            with_key(Method::GET, "/api/v1/memories", &key, None)
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_api_key")
        );
    }
    s.stop().await;
}
