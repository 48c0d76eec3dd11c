//! End to end: what every route shares — problems, limits, request ids, trailing slashes,
//! CORS, probes — and the OpenAPI document, which is the route registration (`openapi`).

mod events;
mod jobs_cli;
mod jobs_cluster;
mod metrics;
mod openapi;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, Db, TestServer, problem};

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

/// `/ready` tells each part: the database, and this instance's jobs runner (running, off by
/// setting, or stopped: then 503 with the same `checks`).
#[tokio::test]
async fn ready_reports_the_jobs_runner() {
    let s = TestServer::start().await;
    let body: Value = s
        .client
        .get(s.url("/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"status": "ok", "checks": {"database": "ok", "events": "ok", "jobs": "ok"}})
    );
    // The runner stops (as on shutdown, or if it died): the instance is not ready.
    s.jobs.stop().await;
    let res = s.client.get(s.url("/ready")).send().await.unwrap();
    let (status, code, body) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
    );
    assert_eq!(body["detail"], "not ready: jobs");
    assert_eq!(
        body["checks"],
        json!({"database": "ok", "events": "ok", "jobs": "the jobs runner has stopped"})
    );
    s.stop().await;

    let off = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_JOBS_RUNNER", "off")])
        .await
        .unwrap();
    let res = off.client.get(off.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["checks"]["jobs"], "disabled",
        "off by setting is not unready"
    );
    off.stop().await;
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

#[tokio::test]
async fn head_is_get_without_the_body() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let (a, _) = common::paired(&s, "head-a@example.org", "head-b@example.org").await;
    let goal = common::json_of(
        common::call(
            &s,
            Method::POST,
            "/api/v1/goals",
            &a,
            Some(json!({"title": "Walk"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v1/goals/{}", goal["id"].as_str().unwrap());
    let get = common::call(&s, Method::GET, &path, &a, None).await;
    assert_eq!(get.status(), StatusCode::OK);
    let length = get.headers()["content-length"].clone();
    let head = common::call(&s, Method::HEAD, &path, &a, None).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], length);
    assert_eq!(head.headers()["content-type"], "application/json");
    assert!(head.bytes().await.unwrap().is_empty());

    // A `read` API key may HEAD, as it may GET.
    let key = common::json_of(
        common::call(
            &s,
            Method::POST,
            "/api/v1/users/me/api-keys",
            &a,
            Some(json!({"name": "probe", "scope": "read"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let res = s
        .client
        .head(s.url(&path))
        .header("X-API-Key", key["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Errors keep their status and headers; the body goes.
    let res = s.client.head(s.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("www-authenticate"));
    for probe in ["/health", "/ready"] {
        let res = s.client.head(s.url(probe)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{probe}");
    }
    // A path without GET refuses HEAD like any other method, and says it was HEAD.
    let res = s
        .client
        .head(s.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST");
    let res = s
        .client
        .request(Method::PUT, s.url("/api/v1/goals"))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST");
    s.stop().await;
}
