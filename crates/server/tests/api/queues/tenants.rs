//! Tenants and members: creation by a verified user, the caller's list, 404 for non-members,
//! 403 `missing_scope` for a role without the scope, role changes, leaving, and the last ADMIN.

use accueil_domain::identity::UserId;
use accueil_domain::queues::Role;
use accueil_ports::StoreExt;
use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestServer, call, json_of, problem, user, user_id};

/// A signed-in user whose address is verified (set in the database: the mailed link is
/// tested with identity).
pub(super) async fn verified(s: &TestServer, email: &str) -> (String, UserId) {
    let token = user(s, email).await;
    let id = UserId(user_id(s, &token).await.parse::<Uuid>().unwrap());
    s.store()
        .write(move |tx| {
            let mut u = tx.users().user_by_id(id)?.unwrap();
            u.email_verified = true;
            tx.users()
                .update_user(&u)
                .map_err(|e| accueil_ports::StoreError::Internal(e.to_string()))
        })
        .await
        .unwrap();
    (token, id)
}

/// `user` becomes a member of `slug` with `role` (invitations come with the next step).
pub(super) async fn add_member(s: &TestServer, slug: &'static str, user: UserId, role: Role) {
    s.store()
        .write(move |tx| {
            let t = tx.tenants().tenant_by_slug(slug)?.unwrap();
            tx.in_tenant(t.id)
                .members()
                .add_member(user, role, chrono::Utc::now())
        })
        .await
        .unwrap();
}

/// Checks that `res` is the problem `status` `code`; returns its body.
pub(super) async fn refused(res: reqwest::Response, status: u16, code: &str) -> Value {
    let (got, c, body) = problem(res).await;
    assert_eq!((got.as_u16(), c.as_str()), (status, code), "{body}");
    body
}

async fn tenants_and_members(s: &TestServer) {
    let send = |token: &str, method: Method, path: &str, body: Option<Value>| {
        let (token, path) = (token.to_owned(), path.to_owned());
        async move { call(s, method, &path, &token, body).await }
    };
    let acme = json!({"slug": "acme", "name": "Acme", "time_zone": "Europe/Paris"});
    let unverified = user(s, "new@example.org").await;
    let res = send(
        &unverified,
        Method::POST,
        "/api/v1/tenants",
        Some(acme.clone()),
    )
    .await;
    refused(res, 403, "email_not_verified").await;

    let (ann, ann_id) = verified(s, "ann@example.org").await;
    let res = send(&ann, Method::POST, "/api/v1/tenants", Some(acme.clone())).await;
    assert_eq!(res.headers()[LOCATION], "/api/v1/tenants/acme");
    let made = json_of(res, StatusCode::CREATED).await;
    assert_eq!(
        [
            &made["slug"],
            &made["role"],
            &made["locale"],
            &made["time_zone"]
        ],
        ["acme", "ADMIN", "en", "Europe/Paris"]
    );
    let (bob, bob_id) = verified(s, "bob@example.org").await;
    let res = send(&bob, Method::POST, "/api/v1/tenants", Some(acme)).await;
    refused(res, 409, "slug_taken").await;
    let bad = json!({"slug": "Acme!", "name": "", "time_zone": "Mars/Olympus"});
    let res = send(&bob, Method::POST, "/api/v1/tenants", Some(bad)).await;
    let body = refused(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["slug", "name", "time_zone"]);
    let mine = send(&ann, Method::GET, "/api/v1/tenants", None).await;
    let mine = json_of(mine, StatusCode::OK).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["slug"], "acme");

    // A non-member finds nothing, as for a tenant that does not exist.
    let (eve, _) = verified(s, "eve@example.org").await;
    let anns = format!("/api/v1/tenants/acme/members/{ann_id}");
    for (method, path, body) in [
        (Method::GET, "/api/v1/tenants/acme", None),
        (Method::GET, "/api/v1/tenants/nowhere", None),
        (Method::GET, "/api/v1/tenants/acme/members", None),
        (
            Method::PATCH,
            "/api/v1/tenants/acme",
            Some(json!({"name": "Mine"})),
        ),
        (Method::DELETE, anns.as_str(), None),
    ] {
        refused(
            send(&eve, method, path, body).await,
            404,
            "tenant_not_found",
        )
        .await;
    }

    // An agent sees the tenant, not its members, and changes nothing.
    add_member(s, "acme", bob_id, Role::Agent).await;
    let seen = send(&bob, Method::GET, "/api/v1/tenants/acme", None).await;
    assert_eq!(json_of(seen, StatusCode::OK).await["role"], "AGENT");
    let res = send(&bob, Method::GET, "/api/v1/tenants/acme/members", None).await;
    let body = refused(res, 403, "missing_scope").await;
    assert!(
        body["detail"].as_str().unwrap().contains("members:read"),
        "{body}"
    );
    let rename = Some(json!({"name": "Bob's"}));
    let res = send(&bob, Method::PATCH, "/api/v1/tenants/acme", rename).await;
    let body = refused(res, 403, "missing_scope").await;
    assert!(
        body["detail"].as_str().unwrap().contains("tenant:admin"),
        "{body}"
    );

    // The ADMIN lists the members and makes Bob a MANAGER, who may then list them.
    let members = send(&ann, Method::GET, "/api/v1/tenants/acme/members", None).await;
    let members = json_of(members, StatusCode::OK).await;
    let roles: Vec<(&str, &str)> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [("ann@example.org", "ADMIN"), ("bob@example.org", "AGENT")]
    );
    let bobs = format!("/api/v1/tenants/acme/members/{bob_id}");
    let owner = Some(json!({"role": "OWNER"}));
    refused(
        send(&ann, Method::PATCH, &bobs, owner).await,
        422,
        "validation_failed",
    )
    .await;
    let manager = Some(json!({"role": "MANAGER"}));
    let changed = json_of(
        send(&ann, Method::PATCH, &bobs, manager).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["role"], "MANAGER");
    assert_eq!(changed["user_id"], bob_id.to_string());
    let listed = send(&bob, Method::GET, "/api/v1/tenants/acme/members", None).await;
    json_of(listed, StatusCode::OK).await;
    let nobody = format!("/api/v1/tenants/acme/members/{}", Uuid::now_v7());
    let agent = Some(json!({"role": "AGENT"}));
    refused(
        send(&ann, Method::PATCH, &nobody, agent.clone()).await,
        404,
        "not_found",
    )
    .await;

    // The last ADMIN stays one, and cannot leave; a manager removes no one; anyone may leave.
    refused(
        send(&ann, Method::PATCH, &anns, agent).await,
        409,
        "last_admin",
    )
    .await;
    refused(
        send(&ann, Method::DELETE, &anns, None).await,
        409,
        "last_admin",
    )
    .await;
    refused(
        send(&bob, Method::DELETE, &anns, None).await,
        403,
        "missing_scope",
    )
    .await;
    json_of(
        send(&bob, Method::DELETE, &bobs, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let left = json_of(
        send(&bob, Method::GET, "/api/v1/tenants", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(left["items"], json!([]));

    let settings = Some(json!({"name": "Acme Corp", "locale": "fr"}));
    let renamed = send(&ann, Method::PATCH, "/api/v1/tenants/acme", settings).await;
    let renamed = json_of(renamed, StatusCode::OK).await;
    assert_eq!(
        [&renamed["name"], &renamed["locale"], &renamed["slug"]],
        ["Acme Corp", "fr", "acme"]
    );
    // The personal export lists the tenants; the last ADMIN cannot delete the account.
    let export = send(&ann, Method::GET, "/api/v1/users/me/export", None).await;
    let export = json_of(export, StatusCode::OK).await;
    assert_eq!(export["tenants"][0]["slug"], "acme");
    assert_eq!(export["tenants"][0]["role"], "ADMIN");
    let password = Some(json!({"password": crate::common::PASSWORD}));
    let res = send(&ann, Method::DELETE, "/api/v1/users/me", password).await;
    let body = refused(res, 409, "last_admin").await;
    assert!(body["detail"].as_str().unwrap().contains("acme"), "{body}");

    let export = send(&ann, Method::GET, "/api/v1/tenants/acme/export", None).await;
    let export = json_of(export, StatusCode::OK).await;
    assert_eq!(export["tenant"]["slug"], "acme");
    assert_eq!(export["members"].as_array().unwrap().len(), 1, "Bob left");

    let kept = Some(json!({"time_zone": null}));
    let res = send(&ann, Method::PATCH, "/api/v1/tenants/acme", kept).await;
    assert_eq!(
        json_of(res, StatusCode::OK).await["time_zone"],
        "Europe/Paris",
        "null keeps"
    );
    let res = send(
        &ann,
        Method::PATCH,
        "/api/v1/tenants/acme",
        Some(json!({"locale": "de"})),
    )
    .await;
    refused(res, 422, "validation_failed").await;
}

on_both_backends!(tenants_and_members => tenants_and_members_sqlite, tenants_and_members_postgres);
