//! End to end: what every route shares — problems, limits, request ids, trailing slashes,
//! CORS, probes, and the OpenAPI document kept in step with the routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Db, TestServer, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn probes() {
    let s = TestServer::start().await;
    for path in ["/health", "/ready", "/health/"] {
        let res = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
    }
    s.stop().await;
}

#[tokio::test]
async fn bodies_are_checked() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_JSON_LIMIT", "1024")])
        .await
        .unwrap();
    let url = s.url("/api/v1/auth/login");
    let res = s
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"login\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.1, "invalid_json");
    let big = json!({"login": "x".repeat(4096), "password": "y"});
    let res = s.client.post(&url).json(&big).send().await.unwrap();
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let res = s
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("login=x")
        .send()
        .await
        .unwrap();
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    s.stop().await;
}

#[tokio::test]
async fn trailing_slash_means_the_same_resource() {
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    let res = s
        .post(
            "/api/v1/auth/login/",
            json!({"login": "ann@example.org", "password": common::PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let s = TestServer::start().await;
    let res = s
        .client
        .get(s.url("/health"))
        .header("x-request-id", "lb-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-1234");
    let res = s
        .client
        .get(s.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let made = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(made, "bad id with spaces");
    assert_eq!(made.len(), 36);
    let res = s
        .client
        .get(s.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    s.stop().await;
}

#[tokio::test]
async fn bearer_tokens_are_checked() {
    let s = TestServer::start().await;
    let me = s.url("/api/v1/users/me");
    let res = s.client.get(&me).send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_eq!(problem(res).await.1, "unauthorized");
    let res = s
        .client
        .get(&me)
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.1, "unauthorized");
    let res = s
        .client
        .get(&me)
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.1, "invalid_token");
    // A token signed with another key.
    let other = TestServer::start_with(
        Db::Sqlite,
        &[("ACCUEIL_JWT_SECRET", "another-Z9y8X7w6V5u4T3s2R1q0P9o8N7m6")],
    )
    .await
    .unwrap();
    other.register("ann@example.org", None).await;
    let foreign = other.login("ann@example.org").await;
    let res = s
        .client
        .get(&me)
        .bearer_auth(&foreign.access)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.1, "invalid_token");
    other.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let s = TestServer::start_with(
        Db::Sqlite,
        &[("ACCUEIL_CORS_ORIGINS", "https://app.example")],
    )
    .await
    .unwrap();
    let preflight = |origin: &'static str| {
        s.client
            .request(reqwest::Method::OPTIONS, s.url("/api/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let res = preflight("https://app.example").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let res = preflight("https://evil.example").await.unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    s.stop().await;

    // Without configured origins no CORS header is ever sent.
    let s = TestServer::start().await;
    let res = s
        .client
        .get(s.url("/health"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    s.stop().await;
}

/// Every operation the issue and the conventions require, as (method, path).
const REQUIRED: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/logout-all"),
    ("get", "/api/v1/auth/me"),
    ("get", "/api/v1/users/me"),
    ("patch", "/api/v1/users/me"),
    ("delete", "/api/v1/users/me"),
    ("post", "/api/v1/users/me/password"),
    ("post", "/api/v1/users/me/email"),
    ("get", "/api/v1/users/me/export"),
    ("post", "/api/v1/auth/verify-email"),
    ("post", "/api/v1/auth/resend-verification"),
    ("post", "/api/v1/auth/forgot-password"),
    ("post", "/api/v1/auth/reset-password"),
    ("post", "/api/v1/couple"),
    ("get", "/api/v1/couple"),
    ("get", "/api/v1/couple/profile"),
    ("patch", "/api/v1/couple/profile"),
    ("get", "/api/v1/couple/together"),
    ("post", "/api/v1/couple/invite"),
    ("post", "/api/v1/couple/join"),
    ("post", "/api/v1/couple/leave"),
    ("get", "/api/v1/couple/export"),
    ("get", "/api/v1/qna/questions"),
    ("post", "/api/v1/qna/questions"),
    ("get", "/api/v1/qna/questions/{id}"),
    ("patch", "/api/v1/qna/questions/{id}"),
    ("delete", "/api/v1/qna/questions/{id}"),
    ("post", "/api/v1/qna/questions/{id}/answers"),
    ("get", "/api/v1/sync/changes"),
    ("get", "/api/v1/goals"),
    ("post", "/api/v1/goals"),
    ("get", "/api/v1/goals/{id}"),
    ("patch", "/api/v1/goals/{id}"),
    ("delete", "/api/v1/goals/{id}"),
    ("get", "/api/v1/goals/{id}/actions"),
    ("post", "/api/v1/goals/{id}/actions"),
    ("patch", "/api/v1/goals/{id}/actions/{action_id}"),
    ("delete", "/api/v1/goals/{id}/actions/{action_id}"),
    ("get", "/api/v1/checkins"),
    ("post", "/api/v1/checkins"),
    ("get", "/api/v1/checkins/{id}"),
    ("delete", "/api/v1/checkins/{id}"),
    ("get", "/api/v1/letters"),
    ("post", "/api/v1/letters"),
    ("get", "/api/v1/letters/{id}"),
    ("get", "/api/v1/perspectives"),
    ("get", "/api/v1/perspectives/{number}"),
    ("put", "/api/v1/perspectives/{number}"),
    ("get", "/api/v1/memories"),
    ("post", "/api/v1/memories"),
    ("get", "/api/v1/memories/{id}"),
    ("patch", "/api/v1/memories/{id}"),
    ("delete", "/api/v1/memories/{id}"),
    ("get", "/api/v1/memories/{id}/photo"),
    ("post", "/api/v1/couple/shares"),
    ("get", "/api/v1/couple/shares"),
    ("delete", "/api/v1/couple/shares/{id}"),
    ("get", "/api/v1/public/{token}"),
    ("get", "/api/v1/public/{token}/memories/{id}/photo"),
    ("post", "/api/v1/users/me/api-keys"),
    ("get", "/api/v1/users/me/api-keys"),
    ("delete", "/api/v1/users/me/api-keys/{id}"),
    ("get", "/api/v1/auth/{provider}/start"),
    ("get", "/api/v1/auth/{provider}/callback"),
    ("post", "/api/v1/auth/link-identity"),
    ("post", "/api/v1/users/me/identities/{identity}"),
    ("get", "/api/v1/users/me/identities"),
    ("delete", "/api/v1/users/me/identities/{identity}"),
    ("get", "/health"),
    ("get", "/ready"),
];

#[tokio::test]
async fn the_openapi_document_and_the_routes_agree() {
    let s = TestServer::start().await;
    let res = s
        .client
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc, serde_json::to_value(accueil_http::openapi()).unwrap());
    let paths = doc["paths"].as_object().unwrap();

    // Every required route is documented...
    for (method, path) in REQUIRED {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is missing from the OpenAPI document"
        );
    }
    // ... and every documented operation is served (the router's 404 says `not_found` with
    // "no such resource"; a served route answers anything else).
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = s
                .client
                .request(m, s.url(path))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert!(
                !(status == StatusCode::NOT_FOUND && body["detail"] == "no such resource"),
                "{method} {path} is documented but not routed"
            );
            operations += 1;
        }
    }
    assert!(operations >= REQUIRED.len());
    // Documented operations that need a token say so.
    assert!(doc["paths"]["/api/v1/users/me"]["get"]["security"].is_array());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // API keys are offered wherever a bearer token is, except where credentials are managed.
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["name"],
        "X-API-Key"
    );
    let schemes = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["security"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_object().unwrap().keys().cloned())
            .collect()
    };
    assert_eq!(schemes("/api/v1/memories", "post"), ["bearer", "api_key"]);
    assert_eq!(schemes("/api/v1/users/me/api-keys", "post"), ["bearer"]);
    assert_eq!(schemes("/api/v1/users/me/password", "post"), ["bearer"]);

    let res = s.client.get(s.url("/api/docs/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("swagger"));
    s.stop().await;
}
