//! Invitations end to end with a real SMTP server on loopback: the mailed link makes the
//! invitee a member, once, only for the invited address; a newer invitation replaces the
//! older; a manager cannot invite an ADMIN; a member is not invited twice.

use std::time::Duration;

use accueil_notify_smtp::testing::{Received, SmtpSink};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::tenants::{refused, verified};
use crate::common::{Db, TestServer, call, json_of, user};

/// The mails to `to` whose subject starts with `Join`, waiting up to 10 s for `n` of them.
async fn invitations_to(sink: &SmtpSink, to: &str, n: usize) -> Vec<Received> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got: Vec<Received> = sink
            .received()
            .into_iter()
            .filter(|m| m.to == [to.to_owned()])
            .filter(|m| m.header("Subject").is_some_and(|s| s.starts_with("Join")))
            .collect();
        if got.len() >= n || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The `token` of the invitation link in a mail.
fn token(mail: &Received) -> String {
    let text = mail.decoded();
    let at = text
        .find("https://app.test/tenant-invitation?token=")
        .unwrap_or_else(|| panic!("no invitation link in {text}"));
    text[at..]
        .split("token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn invitations_flow(db: Db) {
    let sink = SmtpSink::start();
    let url = sink.url();
    let Some(s) = TestServer::start_with(db, &[("ACCUEIL_SMTP_URL", url.as_str())]).await else {
        return;
    };
    let send = |token: &str, method: Method, path: &str, body: Option<Value>| {
        let (token, path) = (token.to_owned(), path.to_owned());
        let s = &s;
        async move { call(s, method, &path, &token, body).await }
    };
    let (ann, _) = verified(&s, "ann@example.org").await;
    let acme = json!({"slug": "acme", "name": "Acme", "time_zone": "Europe/Paris"});
    json_of(
        send(&ann, Method::POST, "/api/v1/tenants", Some(acme)).await,
        StatusCode::CREATED,
    )
    .await;
    let invite = |email: &str, role: &str| Some(json!({"email": email, "role": role}));
    let path = "/api/v1/tenants/acme/invitations";
    let sent = send(&ann, Method::POST, path, invite("Zoe@Example.org", "AGENT")).await;
    let sent = json_of(sent, StatusCode::CREATED).await;
    assert_eq!(
        [&sent["email"], &sent["role"]],
        ["Zoe@example.org", "AGENT"]
    );
    let mail = invitations_to(&sink, "Zoe@example.org", 1).await;
    assert_eq!(mail.len(), 1, "one invitation mail");
    let text = mail[0].decoded();
    assert!(text.contains("Acme") && text.contains("AGENT"), "{text}");
    let zoes = token(&mail[0]);

    // Only the invited address's account may accept, once.
    let eve = user(&s, "eve@example.org").await;
    let accept = |t: &str| Some(json!({"token": t}));
    let res = send(
        &eve,
        Method::POST,
        "/api/v1/tenant-invitations/accept",
        accept(&zoes),
    )
    .await;
    refused(res, 403, "invitation_for_another_address").await;
    let zoe = user(&s, "zoe@example.org").await;
    let res = send(
        &zoe,
        Method::POST,
        "/api/v1/tenant-invitations/accept",
        accept(&zoes),
    )
    .await;
    let joined = json_of(res, StatusCode::OK).await;
    assert_eq!([&joined["slug"], &joined["role"]], ["acme", "AGENT"]);
    let res = send(
        &zoe,
        Method::POST,
        "/api/v1/tenant-invitations/accept",
        accept(&zoes),
    )
    .await;
    refused(res, 400, "link_used").await;
    let res = send(
        &zoe,
        Method::POST,
        "/api/v1/tenant-invitations/accept",
        accept("forged"),
    )
    .await;
    refused(res, 400, "link_invalid").await;
    let pending = json_of(send(&ann, Method::GET, path, None).await, StatusCode::OK).await;
    assert_eq!(pending["items"], json!([]));
    let res = send(
        &ann,
        Method::POST,
        path,
        invite("zoe@example.org", "MANAGER"),
    )
    .await;
    refused(res, 409, "already_member").await;

    // A newer invitation replaces the older; a revoked one is gone.
    send(&ann, Method::POST, path, invite("bob@example.org", "AGENT")).await;
    send(
        &ann,
        Method::POST,
        path,
        invite("bob@example.org", "MANAGER"),
    )
    .await;
    let bobs = invitations_to(&sink, "bob@example.org", 2).await;
    assert_eq!(bobs.len(), 2);
    let pending = json_of(send(&ann, Method::GET, path, None).await, StatusCode::OK).await;
    let items = pending["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["role"], "MANAGER");
    let bob = user(&s, "bob@example.org").await;
    let res = send(
        &bob,
        Method::POST,
        "/api/v1/tenant-invitations/accept",
        accept(&token(&bobs[0])),
    )
    .await;
    refused(res, 400, "link_invalid").await;
    let revoke = format!("{path}/{}", items[0]["id"].as_str().unwrap());
    json_of(
        send(&ann, Method::DELETE, &revoke, None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    refused(
        send(&ann, Method::DELETE, &revoke, None).await,
        404,
        "not_found",
    )
    .await;
    let res = send(
        &bob,
        Method::POST,
        "/api/v1/tenant-invitations/accept",
        accept(&token(&bobs[1])),
    )
    .await;
    refused(res, 400, "link_invalid").await;

    // An agent invites no one; a manager invites agents and managers, not ADMINs.
    refused(
        send(&zoe, Method::POST, path, invite("x@example.org", "AGENT")).await,
        403,
        "missing_scope",
    )
    .await;
    let members = "/api/v1/tenants/acme/members";
    let zoe_id = crate::common::user_id(&s, &zoe).await;
    let promote = Some(json!({"role": "MANAGER"}));
    json_of(
        send(&ann, Method::PATCH, &format!("{members}/{zoe_id}"), promote).await,
        StatusCode::OK,
    )
    .await;
    let res = send(&zoe, Method::POST, path, invite("x@example.org", "ADMIN")).await;
    let body = refused(res, 403, "missing_scope").await;
    assert!(
        body["detail"].as_str().unwrap().contains("tenant:admin"),
        "{body}"
    );
    let res = send(&zoe, Method::POST, path, invite("x@example.org", "AGENT")).await;
    json_of(res, StatusCode::CREATED).await;
    s.stop().await;
}

#[tokio::test]
async fn invitations_sqlite() {
    invitations_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn invitations_postgres() {
    invitations_flow(Db::Postgres).await;
}
