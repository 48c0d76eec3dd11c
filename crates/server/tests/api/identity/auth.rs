//! End to end: the whole auth flow against a real server, on SQLite and on PostgreSQL.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestServer, Tokens, problem};

async fn whole_flow(s: &TestServer) {
    // register
    let user = s.register(" Zoe@Example.ORG ", Some("Zoe")).await;
    assert_eq!(user["email"], "Zoe@example.org");
    assert_eq!(user["username"], "zoe");
    assert_eq!(user["roles"], json!(["user"]));
    assert_eq!(user["email_verified"], false);

    // login (by username here), then me on both routes
    let first = s.login("ZOE").await;
    for path in ["/api/v1/auth/me", "/api/v1/users/me"] {
        let res = s.get_auth(path, &first.access).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let me: Value = res.json().await.unwrap();
        assert_eq!(me["id"], user["id"]);
        assert_eq!(me["email"], "Zoe@example.org");
        assert!(me["created_at"].as_str().unwrap().ends_with('Z'));
    }

    // refresh: a new pair; the old refresh token is refused and its family revoked
    let res = s
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second = Tokens::from(res.json::<Value>().await.unwrap());
    assert_ne!(second.refresh, first.refresh);
    let res = s
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first.refresh}),
        )
        .await;
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "refresh_token_reused")
    );
    let res = s
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": second.refresh}),
        )
        .await;
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let res = s.get_auth("/api/v1/users/me", &second.access).await;
    assert_eq!(
        problem(res).await.1,
        "session_revoked",
        "the family's access tokens die too"
    );

    // a new login; logout ends it
    let third = s.login("zoe@example.org").await;
    let res = s.post_auth("/api/v1/auth/logout", &third.access).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": third.refresh}),
        )
        .await;
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let res = s.get_auth("/api/v1/auth/me", &third.access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");

    // logout-all ends every session
    let phone = s.login("zoe").await;
    let laptop = s.login("zoe").await;
    let res = s.post_auth("/api/v1/auth/logout-all", &phone.access).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for t in [&phone, &laptop] {
        let res = s
            .post("/api/v1/auth/refresh", json!({"refresh_token": t.refresh}))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            s.get_auth("/api/v1/users/me", &t.access).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

on_both_backends!(whole_flow => whole_flow_on_sqlite, whole_flow_on_postgres);

#[tokio::test]
async fn unknown_account_and_wrong_password_answer_alike() {
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    let mut answers = Vec::new();
    for (login, password) in [
        ("ann@example.org", "not the password"),
        ("nobody@example.org", PASSWORD),
    ] {
        let res = s
            .post(
                "/api/v1/auth/login",
                json!({"login": login, "password": password}),
            )
            .await;
        let (status, _, mut body) = problem(res).await;
        body.as_object_mut().unwrap().remove("instance");
        answers.push((status, body));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].1["code"], "invalid_credentials");
    s.stop().await;
}

#[tokio::test]
async fn concurrent_refreshes_yield_at_most_one_pair() {
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    let t = s.login("ann@example.org").await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = s.client.clone();
        let url = s.url("/api/v1/auth/refresh");
        let token = t.refresh.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"refresh_token": token}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert!(ok <= 1, "{ok} new pairs from one refresh token");
    s.stop().await;
}

#[tokio::test]
async fn registration_rules() {
    let s = TestServer::start().await;
    s.register("ann@example.org", Some("ann")).await;
    let cases = [
        (
            json!({"email": "b@example.org", "password": PASSWORD, "username": "Ann"}),
            StatusCode::CONFLICT,
            "username_taken",
        ),
        (
            json!({"email": "c@example.org", "password": "password1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"email": "d@example.org", "password": "x".repeat(73)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"email": "e@example.org", "password": PASSWORD, "role": "admin"}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        (
            json!({"email": "f@example.org", "password": PASSWORD, "email_verified": true}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        (
            json!({"email": "g@example.org"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (body, status, code) in cases {
        let res = s.post("/api/v1/auth/register", body.clone()).await;
        let (got_status, got_code, problem_body) = problem(res).await;
        assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{body}: {problem_body}"
        );
    }
    // Each password rule has its own field code.
    let res = s
        .post(
            "/api/v1/auth/register",
            json!({"email": "h@example.org", "password": "x".repeat(73)}),
        )
        .await;
    let (_, _, body) = problem(res).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["code"], "too_long");
    let res = s
        .post(
            "/api/v1/auth/register",
            json!({"email": "h@example.org", "password": "Password1"}),
        )
        .await;
    assert_eq!(problem(res).await.2["errors"][0]["code"], "common_password");
    s.stop().await;
}

#[tokio::test]
async fn logout_with_the_refresh_token_when_the_access_token_is_gone() {
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    let t = s.login("ann@example.org").await;
    let res = s
        .post("/api/v1/auth/logout", json!({"refresh_token": t.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s
        .post("/api/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    assert_eq!(problem(res).await.1, "session_revoked");
    assert_eq!(
        s.get_auth("/api/v1/users/me", &t.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Neither a token nor a body: 401, as before.
    let res = s
        .client
        .post(s.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.1, "unauthorized");
    s.stop().await;
}
