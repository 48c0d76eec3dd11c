//! End to end: the OpenAPI document kept in step with the routes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestServer;

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
    ("post", "/api/v1/users/me/identities/{provider}"),
    ("get", "/api/v1/users/me/identities"),
    ("delete", "/api/v1/users/me/identities/{id}"),
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
