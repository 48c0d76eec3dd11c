//! End to end: rate limits on login, registration and mail-sending requests, per client and
//! per account, with `Retry-After`; `X-Forwarded-For` believed only from trusted proxies.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Db, PASSWORD, TestServer, problem};

async fn login_from(s: &TestServer, login: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut req = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"login": login, "password": "not the password"}));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn login_is_limited_per_account_known_or_not_with_retry_after() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_RATE_LOGIN_ACCOUNT", "3/1m")])
        .await
        .unwrap();
    s.register("ann@example.org", None).await;
    for login in ["ann@example.org", "ghost@example.org"] {
        for _ in 0..3 {
            assert_eq!(
                login_from(&s, login, None).await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let res = login_from(&s, login, None).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{login}");
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=20).contains(&retry), "{retry}");
        assert_eq!(problem(res).await.1, "rate_limited");
    }
    // Even the right password waits: the limit is on attempts.
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "ann@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    s.stop().await;
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    // Not trusted: every request is 127.0.0.1, whatever the header says.
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_RATE_LOGIN_IP", "2/1m")])
        .await
        .unwrap();
    for (n, xff) in ["198.51.100.1", "198.51.100.2"].iter().enumerate() {
        let res = login_from(&s, &format!("user{n}"), Some(xff)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&s, "user9", Some("198.51.100.3")).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header does not escape the limit"
    );
    s.stop().await;

    // Trusted: each forwarded client has its own allowance.
    let s = TestServer::start_with(
        Db::Sqlite,
        &[
            ("ACCUEIL_RATE_LOGIN_IP", "2/1m"),
            ("ACCUEIL_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await
    .unwrap();
    for client in ["198.51.100.1", "198.51.100.2"] {
        for n in 0..2 {
            let res = login_from(&s, &format!("{client}-{n}"), Some(client)).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{client}");
        }
        let res = login_from(&s, &format!("{client}-x"), Some(client)).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{client}");
    }
    s.stop().await;
}

#[tokio::test]
async fn mail_sending_requests_are_limited_per_address() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_RATE_MAIL_ACCOUNT", "2/1h")])
        .await
        .unwrap();
    for email in ["ann@example.org", "nobody@example.org"] {
        for _ in 0..2 {
            let res = s
                .post("/api/v1/auth/forgot-password", json!({"email": email}))
                .await;
            assert_eq!(res.status(), StatusCode::ACCEPTED);
        }
        let res = s
            .post(
                "/api/v1/auth/forgot-password",
                json!({"email": email.to_uppercase()}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        let res = s
            .post("/api/v1/auth/resend-verification", json!({"email": email}))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "one budget for every mail to an address"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn registration_is_limited_per_client() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_RATE_REGISTER_IP", "2/1h")])
        .await
        .unwrap();
    s.register("a@example.org", None).await;
    s.register("b@example.org", None).await;
    let res = s
        .post(
            "/api/v1/auth/register",
            json!({"email": "c@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(problem(res).await.1, "rate_limited");
    s.stop().await;
}
