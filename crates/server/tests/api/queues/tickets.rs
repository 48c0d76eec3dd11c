//! Tickets through the API: a manager takes tickets at the desk, the waiting list gives
//! positions and ETAs, an agent calls the next, starts, closes, pauses and resumes, marks a
//! no-show; the state table refuses the rest (409 `invalid_transition`); closed, full and
//! capped queues refuse tickets; an agent cannot take tickets (403) nor hold two.

use accueil_domain::queues::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::tenants::{add_member, refused, verified};
use crate::common::{TestServer, call, json_of};

async fn tickets_from_desk_to_done(s: &TestServer) {
    let send = |token: &str, method: Method, path: &str, body: Option<Value>| {
        let (token, path) = (token.to_owned(), path.to_owned());
        async move { call(s, method, &path, &token, body).await }
    };
    let ok = |res, status| json_of(res, status);
    let (ann, _) = verified(s, "ann@example.org").await;
    let (max, max_id) = verified(s, "max@example.org").await;
    let (ada, ada_id) = verified(s, "ada@example.org").await;
    let (eve, _) = verified(s, "eve@example.org").await;
    let t = "/api/v1/tenants/acme";
    ok(
        send(
            &ann,
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"slug": "acme", "name": "Acme", "time_zone": "Europe/Paris"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    add_member(s, "acme", max_id, Role::Manager).await;
    add_member(s, "acme", ada_id, Role::Agent).await;
    let site = ok(
        send(
            &ann,
            Method::POST,
            &format!("{t}/sites"),
            Some(json!({"name": "HQ"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let service = ok(
        send(
            &ann,
            Method::POST,
            &format!("{t}/services"),
            Some(json!({"site_id": site["id"], "name": "Accounts", "prefix": "A", "daily_cap": 4})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let queue = ok(
        send(
            &ann,
            Method::POST,
            &format!("{t}/queues"),
            Some(json!({"service_id": service["id"], "name": "Main", "algorithm": "PRIORITY"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let counter = ok(
        send(
            &ann,
            Method::POST,
            &format!("{t}/counters"),
            Some(json!({"site_id": site["id"], "name": "Desk 3"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let q = queue["id"].as_str().unwrap().to_owned();
    ok(
        send(
            &ada,
            Method::PATCH,
            &format!("{t}/agents/me"),
            Some(json!({"status": "AVAILABLE", "counter_id": counter["id"], "queue_ids": [q]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // The manager takes three tickets; the agent may not.
    let take = format!("{t}/queues/{q}/tickets");
    refused(
        send(&ada, Method::POST, &take, None).await,
        403,
        "missing_scope",
    )
    .await;
    let first = ok(
        send(&max, Method::POST, &take, None).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        json!([first["number"], first["status"]]),
        json!(["A-001", "WAITING"])
    );
    assert_eq!(
        json!([
            first["position"],
            first["people_ahead"],
            first["eta_minutes"]
        ]),
        json!([1, 0, 0])
    );
    assert!(first["ticket_token"].as_str().unwrap().len() >= 32);
    let second = ok(
        send(
            &max,
            Method::POST,
            &take,
            Some(json!({"customer": {"name": "Camille", "phone": "+33 6 12 34 56 78"}})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(second["customer_id"].is_string());
    let urgent = ok(
        send(&max, Method::POST, &take, Some(json!({"priority": 9}))).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(urgent["number"], "A-003");
    let body = refused(
        send(
            &max,
            Method::POST,
            &take,
            Some(json!({"priority": 10, "customer_id": uuid::Uuid::now_v7(), "customer": {}})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["priority", "customer"]);

    // The waiting list is in call order: priority 9 first, then by arrival; 5 minutes each,
    // one agent serving.
    let list = ok(send(&ada, Method::GET, &take, None).await, StatusCode::OK).await;
    let order: Vec<(&str, i64, i64)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["number"].as_str().unwrap(),
                t["position"].as_i64().unwrap(),
                t["eta_minutes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(order, [("A-003", 1, 0), ("A-001", 2, 5), ("A-002", 3, 10)]);
    assert_eq!(
        list["items"][0]["eta"],
        json!({"minutes_per_ticket": 5.0, "measured_on": 0, "agents": 1})
    );

    // The agent calls the next one to their counter, and cannot hold two.
    let call_next = format!("{t}/queues/{q}/call-next");
    let called = ok(
        send(&ada, Method::POST, &call_next, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        json!([called["number"], called["status"], called["counter_id"]]),
        json!(["A-003", "CALLED", counter["id"]])
    );
    assert_eq!(called["agent_id"], json!(ada_id.0));
    assert_eq!(called["position"], Value::Null);
    refused(
        send(&ada, Method::POST, &call_next, None).await,
        409,
        "agent_busy",
    )
    .await;
    let me = ok(
        send(&ada, Method::GET, &format!("{t}/agents/me"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["status"], "BUSY");
    let id = called["id"].as_str().unwrap();
    let act = |action: &str| format!("{t}/tickets/{id}/{action}");
    let body = refused(
        send(&ada, Method::POST, &act("close"), None).await,
        409,
        "invalid_transition",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("CALLED"),
        "{body}"
    );
    for (action, to) in [
        ("recall", "CALLED"),
        ("start", "IN_SERVICE"),
        ("pause", "PAUSED"),
        ("resume", "IN_SERVICE"),
    ] {
        let res = send(&ada, Method::POST, &act(action), None).await;
        assert_eq!(ok(res, StatusCode::OK).await["status"], to, "{action}");
    }
    let done = ok(
        send(&ada, Method::POST, &act("close"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "DONE");
    assert!(done["finished_at"].is_string());
    let me = ok(
        send(&ada, Method::GET, &format!("{t}/agents/me"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["status"], "AVAILABLE", "closing frees the agent");

    // Served once: the ETA is measured now.
    let second_id = second["id"].as_str().unwrap();
    let seen = ok(
        send(&max, Method::GET, &format!("{t}/tickets/{second_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        json!([seen["position"], seen["eta"]["measured_on"]]),
        json!([2, 1])
    );

    // Out of turn: the agent calls A-002 before A-001, then marks it a no-show.
    let out = ok(
        send(
            &ada,
            Method::POST,
            &format!("{t}/tickets/{second_id}/call"),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(out["number"], "A-002");
    let gone = ok(
        send(
            &ada,
            Method::POST,
            &format!("{t}/tickets/{second_id}/no-show"),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(gone["status"], "NO_SHOW");
    refused(
        send(
            &ada,
            Method::POST,
            &format!("{t}/tickets/{second_id}/start"),
            None,
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;

    // Capped at 4 a day; a full queue; a closed queue.
    ok(
        send(&max, Method::POST, &take, None).await,
        StatusCode::CREATED,
    )
    .await;
    refused(
        send(&max, Method::POST, &take, None).await,
        409,
        "daily_cap_reached",
    )
    .await;
    ok(
        send(
            &ann,
            Method::PATCH,
            &format!("{t}/services/{}", service["id"].as_str().unwrap()),
            Some(json!({"daily_cap": null})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    ok(
        send(
            &ann,
            Method::PATCH,
            &format!("{t}/queues/{q}"),
            Some(json!({"max_waiting": 2})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    refused(
        send(&max, Method::POST, &take, None).await,
        409,
        "queue_full",
    )
    .await;
    ok(
        send(
            &ann,
            Method::PATCH,
            &format!("{t}/queues/{q}"),
            Some(json!({"is_open": false, "max_waiting": null})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    refused(
        send(&max, Method::POST, &take, None).await,
        409,
        "queue_closed",
    )
    .await;

    // A queue with tickets stays; another tenant's member finds nothing.
    refused(
        send(&ann, Method::DELETE, &format!("{t}/queues/{q}"), None).await,
        409,
        "in_use",
    )
    .await;
    refused(
        send(&eve, Method::GET, &format!("{t}/tickets/{id}"), None).await,
        404,
        "tenant_not_found",
    )
    .await;
    refused(
        send(
            &max,
            Method::GET,
            &format!("{t}/tickets/{}", uuid::Uuid::now_v7()),
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

on_both_backends!(tickets_from_desk_to_done => tickets_from_desk_to_done_sqlite, tickets_from_desk_to_done_postgres);
