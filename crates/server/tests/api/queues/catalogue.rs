//! The catalogue, customers and agents through the API: an ADMIN builds a site, a service, a
//! queue and a counter; a MANAGER keeps customers; an AGENT reads the catalogue, may not change
//! it (403 `missing_scope`), sets their own counter and queues; another tenant's member finds
//! nothing (404); references, ranges, consents and deletions follow the rules.

use accueil_domain::queues::Role;
use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::tenants::{add_member, refused, verified};
use crate::common::{TestServer, call, json_of};

/// The fields of a 422's errors, as (field, code).
fn field_codes(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn catalogue_customers_and_agents(s: &TestServer) {
    let send = |token: &str, method: Method, path: &str, body: Option<Value>| {
        let (token, path) = (token.to_owned(), path.to_owned());
        async move { call(s, method, &path, &token, body).await }
    };
    let (ann, _) = verified(s, "ann@example.org").await;
    let (max, max_id) = verified(s, "max@example.org").await;
    let (ada, ada_id) = verified(s, "ada@example.org").await;
    let (eve, _) = verified(s, "eve@example.org").await;
    let res = send(
        &ann,
        Method::POST,
        "/api/v1/tenants",
        Some(json!({"slug": "acme", "name": "Acme", "time_zone": "Europe/Paris"})),
    )
    .await;
    json_of(res, StatusCode::CREATED).await;
    let res = send(
        &eve,
        Method::POST,
        "/api/v1/tenants",
        Some(json!({"slug": "other", "name": "Other", "time_zone": "UTC"})),
    )
    .await;
    json_of(res, StatusCode::CREATED).await;
    add_member(s, "acme", max_id, Role::Manager).await;
    add_member(s, "acme", ada_id, Role::Agent).await;

    // The ADMIN builds the catalogue.
    let res = send(
        &ann,
        Method::POST,
        "/api/v1/tenants/acme/sites",
        Some(json!({"name": "Head office", "address": "1 rue de la Paix, Paris"})),
    )
    .await;
    let location = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let site = json_of(res, StatusCode::CREATED).await;
    let site_id = site["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/tenants/acme/sites/{site_id}"));
    assert_eq!(site["time_zone"], Value::Null);

    let res = send(
        &ann,
        Method::POST,
        "/api/v1/tenants/acme/services",
        Some(json!({"site_id": site_id, "name": "Accounts", "prefix": "A", "range_end": 500, "daily_cap": 300})),
    )
    .await;
    let service = json_of(res, StatusCode::CREATED).await;
    let service_id = service["id"].as_str().unwrap().to_owned();
    assert_eq!(
        json!([
            service["range_start"],
            service["range_end"],
            service["daily_cap"],
            service["avg_service_minutes"]
        ]),
        json!([1, 500, 300, 5])
    );
    let res = send(
        &ann,
        Method::POST,
        "/api/v1/tenants/acme/queues",
        Some(json!({"service_id": service_id, "name": "Main", "algorithm": "PRIORITY", "aging_minutes": 10})),
    )
    .await;
    let queue = json_of(res, StatusCode::CREATED).await;
    let queue_id = queue["id"].as_str().unwrap().to_owned();
    let token = queue["join_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 32, "an unguessable join token: {token}");
    assert_eq!(
        json!([queue["algorithm"], queue["is_open"], queue["max_waiting"]]),
        json!(["PRIORITY", true, null])
    );
    let res = send(
        &ann,
        Method::POST,
        "/api/v1/tenants/acme/counters",
        Some(json!({"site_id": site_id, "name": "Desk 1"})),
    )
    .await;
    let counter = json_of(res, StatusCode::CREATED).await;
    let counter_id = counter["id"].as_str().unwrap().to_owned();

    // Rules: a range whole against the stored one, a parent of this tenant.
    let res = send(
        &ann,
        Method::PATCH,
        &format!("/api/v1/tenants/acme/services/{service_id}"),
        Some(json!({"range_start": 600})),
    )
    .await;
    let body = refused(res, 422, "validation_failed").await;
    assert_eq!(
        field_codes(&body),
        [("range_end".to_owned(), "before_range_start".to_owned())]
    );
    let res = send(
        &ann,
        Method::PATCH,
        &format!("/api/v1/tenants/acme/services/{service_id}"),
        Some(json!({"prefix": "AB", "daily_cap": null})),
    )
    .await;
    let changed = json_of(res, StatusCode::OK).await;
    assert_eq!(
        json!([changed["prefix"], changed["daily_cap"]]),
        json!(["AB", null])
    );
    let res = send(
        &ann,
        Method::POST,
        "/api/v1/tenants/acme/counters",
        Some(json!({"site_id": uuid::Uuid::now_v7(), "name": "Desk 2"})),
    )
    .await;
    let body = refused(res, 422, "validation_failed").await;
    assert_eq!(
        field_codes(&body),
        [("site_id".to_owned(), "not_found".to_owned())]
    );
    let res = send(
        &ann,
        Method::POST,
        "/api/v1/tenants/acme/services",
        Some(json!({"site_id": site_id, "name": "X", "prefix": "x", "mode": "fast"})),
    )
    .await;
    refused(res, 400, "unknown_field").await;

    // A new join link replaces the old one.
    let res = send(
        &ann,
        Method::POST,
        &format!("/api/v1/tenants/acme/queues/{queue_id}/join-token"),
        None,
    )
    .await;
    let rotated = json_of(res, StatusCode::OK).await;
    assert_ne!(rotated["join_token"].as_str().unwrap(), token);
    let res = send(
        &ann,
        Method::PATCH,
        &format!("/api/v1/tenants/acme/queues/{queue_id}"),
        Some(json!({"is_open": false, "max_waiting": 30})),
    )
    .await;
    let closed = json_of(res, StatusCode::OK).await;
    assert_eq!(
        json!([closed["is_open"], closed["max_waiting"]]),
        json!([false, 30])
    );
    assert_eq!(closed["join_token"], rotated["join_token"]);

    // The AGENT reads the catalogue and may not change it.
    let res = send(&ada, Method::GET, "/api/v1/tenants/acme/queues", None).await;
    let page = json_of(res, StatusCode::OK).await;
    assert_eq!(page["items"][0]["id"], queue_id.as_str());
    assert_eq!(page["next_cursor"], Value::Null);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/tenants/acme/sites".to_owned(),
            Some(json!({"name": "Annex"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/tenants/acme/queues/{queue_id}"),
            Some(json!({"is_open": true})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/tenants/acme/counters/{counter_id}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/acme/customers".to_owned(),
            Some(json!({"name": "Cy"})),
        ),
        (Method::GET, "/api/v1/tenants/acme/agents".to_owned(), None),
    ] {
        let body = refused(send(&ada, method, &path, body).await, 403, "missing_scope").await;
        assert!(body["detail"].as_str().unwrap().contains(':'), "{body}");
    }

    // Another tenant's member finds nothing, by list or by id.
    for path in [
        "/api/v1/tenants/acme/sites".to_owned(),
        format!("/api/v1/tenants/acme/queues/{queue_id}"),
        "/api/v1/tenants/acme/agents/me".to_owned(),
    ] {
        refused(
            send(&eve, Method::GET, &path, None).await,
            404,
            "tenant_not_found",
        )
        .await;
    }
    // ... nor through their own tenant.
    let res = send(
        &eve,
        Method::GET,
        &format!("/api/v1/tenants/other/queues/{queue_id}"),
        None,
    )
    .await;
    refused(res, 404, "not_found").await;
    let res = send(
        &eve,
        Method::POST,
        "/api/v1/tenants/other/queues",
        Some(json!({"service_id": service_id, "name": "Stolen"})),
    )
    .await;
    let body = refused(res, 422, "validation_failed").await;
    assert_eq!(
        field_codes(&body),
        [("service_id".to_owned(), "not_found".to_owned())]
    );

    // The MANAGER keeps customers: phones in E.164, consents that need their address.
    let res = send(
        &max,
        Method::POST,
        "/api/v1/tenants/acme/customers",
        Some(json!({"name": "Camille", "phone": "+33 6 12 34 56 78", "consent": {"sms": true, "email": true}})),
    )
    .await;
    let body = refused(res, 422, "validation_failed").await;
    assert_eq!(
        field_codes(&body),
        [("consent.email".to_owned(), "requires_email".to_owned())]
    );
    let res = send(
        &max,
        Method::POST,
        "/api/v1/tenants/acme/customers",
        Some(json!({"name": "Camille", "phone": "06 12 34 56 78"})),
    )
    .await;
    let body = refused(res, 422, "validation_failed").await;
    assert_eq!(
        field_codes(&body),
        [("phone".to_owned(), "invalid_phone".to_owned())]
    );
    let res = send(
        &max,
        Method::POST,
        "/api/v1/tenants/acme/customers",
        Some(json!({"name": "Camille", "phone": "+33 6 12 34 56 78", "consent": {"sms": true}, "language": "fr"})),
    )
    .await;
    let customer = json_of(res, StatusCode::CREATED).await;
    let customer_id = customer["id"].as_str().unwrap().to_owned();
    assert_eq!(customer["phone"], "+33612345678");
    assert_eq!(
        customer["consent"],
        json!({"sms": true, "whatsapp": false, "email": false, "push": false})
    );
    let res = send(
        &max,
        Method::PATCH,
        &format!("/api/v1/tenants/acme/customers/{customer_id}"),
        Some(json!({"phone": null, "email": "camille@example.org", "consent": {"email": true}})),
    )
    .await;
    let changed = json_of(res, StatusCode::OK).await;
    assert_eq!(
        json!([
            changed["phone"],
            changed["consent"]["sms"],
            changed["consent"]["email"]
        ]),
        json!([null, false, true])
    );
    let res = send(
        &ada,
        Method::GET,
        &format!("/api/v1/tenants/acme/customers/{customer_id}"),
        None,
    )
    .await;
    assert_eq!(
        json_of(res, StatusCode::OK).await["email"],
        "camille@example.org"
    );

    // The AGENT sets their counter and queues; a queue of no tenant of theirs is not found.
    let me = "/api/v1/tenants/acme/agents/me";
    let res = send(&ada, Method::GET, me, None).await;
    let profile = json_of(res, StatusCode::OK).await;
    assert_eq!(
        json!([profile["status"], profile["role"], profile["updated_at"]]),
        json!(["OFFLINE", "AGENT", null])
    );
    let res = send(&ada, Method::PATCH, me, Some(json!({"status": "BUSY"}))).await;
    refused(res, 422, "validation_failed").await;
    let res = send(
        &ada,
        Method::PATCH,
        me,
        Some(json!({"queue_ids": [uuid::Uuid::now_v7()]})),
    )
    .await;
    let body = refused(res, 422, "validation_failed").await;
    assert_eq!(
        field_codes(&body),
        [("queue_ids".to_owned(), "not_found".to_owned())]
    );
    let res = send(
        &ada,
        Method::PATCH,
        me,
        Some(json!({"status": "AVAILABLE", "counter_id": counter_id, "queue_ids": [queue_id]})),
    )
    .await;
    let profile = json_of(res, StatusCode::OK).await;
    assert_eq!(
        json!([
            profile["status"],
            profile["counter_id"],
            profile["queue_ids"][0]
        ]),
        json!(["AVAILABLE", counter_id, queue_id])
    );

    // The MANAGER sees every member's profile and pauses the agent.
    let res = send(&max, Method::GET, "/api/v1/tenants/acme/agents", None).await;
    let agents = json_of(res, StatusCode::OK).await;
    let statuses: Vec<(&str, &str)> = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["email"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("ada@example.org", "AVAILABLE"),
            ("ann@example.org", "OFFLINE"),
            ("max@example.org", "OFFLINE")
        ]
    );
    let res = send(
        &max,
        Method::PATCH,
        &format!("/api/v1/tenants/acme/agents/{ada_id}"),
        Some(json!({"status": "PAUSED"})),
    )
    .await;
    assert_eq!(json_of(res, StatusCode::OK).await["status"], "PAUSED");

    // Deleting: a site in use is refused; a counter's agents are at none after.
    let res = send(
        &ann,
        Method::DELETE,
        &format!("/api/v1/tenants/acme/sites/{site_id}"),
        None,
    )
    .await;
    refused(res, 409, "in_use").await;
    let res = send(
        &ann,
        Method::DELETE,
        &format!("/api/v1/tenants/acme/counters/{counter_id}"),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = send(&ada, Method::GET, me, None).await;
    assert_eq!(
        json_of(res, StatusCode::OK).await["counter_id"],
        Value::Null
    );
    let res = send(
        &ann,
        Method::GET,
        &format!("/api/v1/tenants/acme/counters/{counter_id}"),
        None,
    )
    .await;
    refused(res, 404, "not_found").await;

    // Pages follow the cursor.
    for n in 2..=4 {
        let res = send(
            &ann,
            Method::POST,
            "/api/v1/tenants/acme/sites",
            Some(json!({"name": format!("Site {n}"), "time_zone": "America/Montreal"})),
        )
        .await;
        json_of(res, StatusCode::CREATED).await;
    }
    let res = send(
        &ann,
        Method::GET,
        "/api/v1/tenants/acme/sites?limit=3",
        None,
    )
    .await;
    let first = json_of(res, StatusCode::OK).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let res = send(
        &ann,
        Method::GET,
        &format!("/api/v1/tenants/acme/sites?limit=3&cursor={cursor}"),
        None,
    )
    .await;
    let rest = json_of(res, StatusCode::OK).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["name"], "Site 4");
    assert_eq!(rest["next_cursor"], Value::Null);

    // The tenant's export holds all of it.
    let res = send(&ann, Method::GET, "/api/v1/tenants/acme/export", None).await;
    let export = json_of(res, StatusCode::OK).await;
    let count = |k: &str| export[k].as_array().unwrap().len();
    assert_eq!(
        [
            "sites",
            "services",
            "queues",
            "counters",
            "customers",
            "agents"
        ]
        .map(count),
        [4, 1, 1, 0, 1, 1]
    );
    assert_eq!(export["agents"][0]["email"], "ada@example.org");
    assert_eq!(export["customers"][0]["email"], "camille@example.org");
}

on_both_backends!(catalogue_customers_and_agents => catalogue_customers_and_agents_sqlite, catalogue_customers_and_agents_postgres);
