//! End to end: the OpenAPI document is the route registration. Every route is registered
//! through utoipa-actix-web (`api_routes` in the http crate), so these checks walk the served
//! document instead of a hand-kept list: every operation is routed and guarded as documented,
//! a known path refuses other methods with `405` and `Allow`, and every operation documents
//! the problems its shape implies. A new endpoint is checked without editing this file.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestServer, problem};

/// The seed apps' endpoints, which the issue requires. The derived checks below cannot see a
/// route that was dropped from the registration (it leaves the document with it), so the few
/// that clients are built on are named here; anything else is found in the document.
const MUST_EXIST: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/users/me"),
    ("get", "/api/v1/users/me/export"),
    ("post", "/api/v1/couple"),
    ("post", "/api/v1/couple/invite"),
    ("post", "/api/v1/couple/join"),
    ("get", "/api/v1/couple/export"),
    ("get", "/api/v1/qna/questions"),
    ("post", "/api/v1/qna/questions/{id}/answers"),
    ("get", "/api/v1/sync/changes"),
    ("get", "/api/v1/memories"),
    ("post", "/api/v1/memories"),
    ("get", "/api/v1/memories/{id}/photo"),
    ("put", "/api/v1/perspectives/{number}"),
    ("post", "/api/v1/couple/shares"),
    ("get", "/api/v1/public/{token}"),
    ("get", "/health"),
    ("get", "/ready"),
];

/// The methods an operation can have in the document, in the order `Allow` lists them.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// docs/api.md, whose generated table must list every documented code.
const API_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");

/// Every operation of a document: (method, path, operation).
fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((method, path.as_str(), op));
            }
        }
    }
    ops
}

/// Whether a document path (`/a/{id}`) matches a concrete path, as the router matches it: a
/// `{parameter}` segment takes any one segment.
fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// A concrete path for a document path: each `{parameter}` replaced with a value of its form.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| match seg {
            "{provider}" => "google",
            "{number}" => "1",
            "{token}" => "not-a-token",
            s if s.starts_with('{') => "00000000-0000-0000-0000-000000000001",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether an operation needs credentials: a `security` list without an empty (anonymous)
/// alternative.
fn secured(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|reqs| {
        !reqs.is_empty() && reqs.iter().all(|r| !r.as_object().unwrap().is_empty())
    })
}

/// Whether an operation is public: no `security` at all. (Between the two are operations
/// whose credentials are optional, such as a logout by refresh token.)
fn public(op: &Value) -> bool {
    op["security"].as_array().is_none_or(Vec::is_empty)
}

/// The codes a response lists in its `x-problem-codes` extension.
fn codes_of(response: &Value) -> Vec<&str> {
    response["x-problem-codes"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| c["code"].as_str().unwrap())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
}

/// Whether the operation documents `code` under `status`.
fn documents(op: &Value, status: &str, code: &str) -> bool {
    codes_of(&op["responses"][status]).contains(&code)
}

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

    // What the issue requires is documented...
    for (method, path) in MUST_EXIST {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is missing from the OpenAPI document"
        );
    }
    // ... and every documented operation is served (the router's 404 says `not_found` with
    // "no such resource"; a served route answers anything else), and guarded as documented:
    // asked without credentials, an operation that needs them answers 401, and a public one
    // never asks for them.
    let mut operations_seen = 0;
    for (method, path, op) in operations(&doc) {
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = s
            .client
            .request(m, s.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let challenge = res.headers().get("www-authenticate").cloned();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(
            !(status == StatusCode::NOT_FOUND && body["detail"] == "no such resource"),
            "{method} {path} is documented but not routed"
        );
        if secured(op) {
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("unauthorized")),
                "{method} {path} declares `security` but answers without credentials: {body}"
            );
            assert_eq!(challenge.unwrap(), "Bearer", "{method} {path}");
        } else if public(op) {
            assert_ne!(
                body["code"], "unauthorized",
                "{method} {path} is documented as public but asks for credentials"
            );
        }
        operations_seen += 1;
    }
    assert!(operations_seen >= MUST_EXIST.len());
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

#[tokio::test]
async fn a_known_path_refuses_other_methods_with_405_and_allow() {
    let s = TestServer::start().await;
    let doc = serde_json::to_value(accueil_http::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut refused = 0;
    for template in paths.keys() {
        let path = concrete(template);
        // A document path without parameters is its own resource (`/checkins/trends` is not a
        // `/checkins/{id}`); else every document path the request's path matches serves it (a
        // literal segment and a parameter can both match), and `Allow` lists them all.
        let literal = paths.contains_key(&path) && !path.contains('{');
        let allowed: BTreeSet<&str> = paths
            .iter()
            .filter(|(t, _)| {
                if literal {
                    **t == path
                } else {
                    template_matches(t, &path)
                }
            })
            .flat_map(|(_, item)| METHODS.into_iter().filter(|m| item.get(*m).is_some()))
            .collect();
        for method in METHODS.into_iter().filter(|m| !allowed.contains(m)) {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = s.client.request(m, s.url(&path)).send().await.unwrap();
            let allow: BTreeSet<String> = res
                .headers()
                .get("allow")
                .unwrap_or_else(|| panic!("{method} {path}: no Allow header"))
                .to_str()
                .unwrap()
                .split(',')
                .map(|m| m.trim().to_lowercase())
                .collect();
            let (status, code, _) = problem(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
                "{method} {path}"
            );
            // HEAD goes with GET (RFC 9110): every GET path answers it.
            let mut expected: BTreeSet<String> = allowed.iter().map(|m| (*m).to_owned()).collect();
            if allowed.contains("get") {
                expected.insert("head".to_owned());
            }
            assert_eq!(allow, expected, "{method} {path}: Allow");
            refused += 1;
        }
    }
    assert!(refused > 0);
    // A path no route knows is still the router's 404.
    let res = s
        .client
        .put(s.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("allow"));
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    s.stop().await;
}

/// The codes docs/api.md's generated table lists (its first column, between the markers).
fn codes_in_api_doc() -> BTreeSet<String> {
    let text = std::fs::read_to_string(API_DOC).unwrap();
    let begin = text
        .find("<!-- codes:begin -->")
        .expect("docs/api.md has no codes table");
    let end = text.find("<!-- codes:end -->").unwrap();
    text[begin..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// What every operation documents follows from its shape: credentials mean 401, a body means
/// 400, 413, 415 and 422, query parameters mean `invalid_query`, path parameters mean 404; and
/// every code is one status and is listed in docs/api.md. Both documents are checked: with
/// password sign-in, and in OAuth-only mode.
#[test]
fn every_operation_documents_what_its_shape_can_answer() {
    let listed = codes_in_api_doc();
    for password_auth in [true, false] {
        let doc = serde_json::to_value(accueil_http::openapi_for(password_auth)).unwrap();
        let mut status_of: BTreeMap<&str, (&str, String)> = BTreeMap::new();
        for (method, path, op) in operations(&doc) {
            let at = format!(
                "{} {path} (password sign-in {password_auth})",
                method.to_uppercase()
            );
            let responses = op["responses"].as_object().unwrap();
            if secured(op) {
                assert!(documents(op, "401", "unauthorized"), "{at}: no 401");
                assert!(
                    responses["401"]["headers"]
                        .get("WWW-Authenticate")
                        .is_some(),
                    "{at}: 401 without WWW-Authenticate"
                );
            }
            if op.get("requestBody").is_some() {
                for (status, code) in [
                    ("400", "invalid_json"),
                    ("400", "unknown_field"),
                    ("413", "payload_too_large"),
                    ("415", "unsupported_media_type"),
                    ("422", "validation_failed"),
                ] {
                    assert!(
                        documents(op, status, code),
                        "{at}: has a body, no {status} {code}"
                    );
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let located = |place: &str| -> BTreeSet<String> {
                params
                    .iter()
                    .filter(|p| p["in"] == place)
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            };
            if !located("query").is_empty() {
                assert!(
                    documents(op, "400", "invalid_query"),
                    "{at}: query, no invalid_query"
                );
            }
            // A path parameter is a segment of the path, and every segment is documented (a
            // query parameter documented as a path one would hide its `invalid_query`).
            let segments: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_owned)
                .collect();
            assert_eq!(located("path"), segments, "{at}: path parameters");
            if !segments.is_empty() {
                assert!(
                    responses.contains_key("404"),
                    "{at}: path parameters, no 404"
                );
            }
            for (status, response) in responses {
                let codes = codes_of(response);
                // API errors are problems with stable codes (the probes outside `/api/`
                // answer their own bodies, for load balancers).
                if status.as_str() >= "400" && path.starts_with("/api/") {
                    assert!(!codes.is_empty(), "{at}: {status} lists no problem code");
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{at}: {status} is not a problem document"
                    );
                }
                for code in codes {
                    assert!(
                        code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                        "{at}: code {code:?}"
                    );
                    // Clients switch on the code: one code, one status.
                    let (first, where_first) = status_of
                        .entry(code)
                        .or_insert((status.as_str(), at.clone()));
                    assert_eq!(
                        *first, status,
                        "`{code}` is {first} at {where_first} but {status} at {at}"
                    );
                    assert!(
                        listed.contains(code),
                        "`{code}` ({at}) is not in docs/api.md's table: run \
                         `UPDATE_DOCS=1 cargo test -p accueil-http problem_codes`"
                    );
                }
            }
        }
    }
}
