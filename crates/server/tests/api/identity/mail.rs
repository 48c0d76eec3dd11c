//! End to end with a real SMTP server on loopback: the mails arrive, their links work, nothing
//! is lost when the mail server or Accueil is down, and nothing reveals which addresses have
//! an account.

use std::time::Duration;

use accueil_notify_smtp::testing::{Received, SmtpSink};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Db, PASSWORD, TestServer, problem};

const WAIT: Duration = Duration::from_secs(10);

async fn with_sink(sink: &SmtpSink, extra: &[(&str, &str)]) -> TestServer {
    let url = sink.url();
    let mut vars = vec![("ACCUEIL_SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    TestServer::start_with(Db::Sqlite, &vars).await.unwrap()
}

/// Waits for `n` mails without blocking the runtime the server runs on.
async fn mails(sink: &SmtpSink, n: usize) -> Vec<Received> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let got = sink.received();
        if got.len() >= n || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The token of the first link to `page` in a mail.
fn token(mail: &Received, page: &str) -> String {
    let text = mail.decoded();
    let start = text
        .find(&format!("https://app.test/{page}?token="))
        .unwrap_or_else(|| panic!("no {page} link in {text}"));
    let rest = &text[start..];
    let token = rest.split("token=").nth(1).unwrap();
    token
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn subject(mail: &Received) -> String {
    mail.header("Subject").unwrap_or_default()
}

#[tokio::test]
async fn register_then_verify_with_the_mailed_link() {
    let sink = SmtpSink::start();
    let s = with_sink(&sink, &[]).await;
    s.register("zoe@example.org", None).await;
    let got = mails(&sink, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["zoe@example.org".to_owned()]);
    assert!(got[0].header("Message-ID").unwrap().starts_with('<'));
    let t = s.login("zoe@example.org").await;
    let me: Value = s
        .get_auth("/api/v1/users/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], false);

    let res = s
        .post(
            "/api/v1/auth/verify-email",
            json!({"token": token(&got[0], "verify-email")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let me: Value = s
        .get_auth("/api/v1/users/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true);
    let res = s
        .post(
            "/api/v1/auth/verify-email",
            json!({"token": token(&got[0], "verify-email")}),
        )
        .await;
    assert_eq!(problem(res).await.1, "link_used");
    let got = mails(&sink, 2).await;
    assert!(
        subject(&got[1]).contains("Welcome"),
        "a welcome follows: {}",
        subject(&got[1])
    );
    s.stop().await;
}

#[tokio::test]
async fn french_accounts_get_french_mail() {
    let sink = SmtpSink::start();
    let s = with_sink(&sink, &[]).await;
    let res = s
        .post(
            "/api/v1/auth/register",
            json!({"email": "zoe@example.fr", "password": PASSWORD, "language": "fr"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let got = mails(&sink, 1).await;
    assert!(got[0].decoded().contains("Confirmez"), "{}", got[0].data);
    s.stop().await;
}

#[tokio::test]
async fn forgot_then_reset_refuses_the_old_refresh_tokens() {
    let sink = SmtpSink::start();
    let s = with_sink(&sink, &[]).await;
    s.register("ann@example.org", None).await;
    let old = s.login("ann@example.org").await;
    mails(&sink, 1).await;
    let res = s
        .post(
            "/api/v1/auth/forgot-password",
            json!({"email": "ann@example.org"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let got = mails(&sink, 2).await;
    let reset = token(&got[1], "reset-password");
    let res = s
        .post(
            "/api/v1/auth/reset-password",
            json!({"token": reset, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": old.refresh}),
        )
        .await;
    assert_eq!(problem(res).await.1, "session_revoked");
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "ann@example.org", "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "ann@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let got = mails(&sink, 3).await;
    assert!(
        subject(&got[2]).contains("password was changed"),
        "{}",
        subject(&got[2])
    );
    s.stop().await;
}

#[tokio::test]
async fn a_mail_caused_while_smtp_is_down_arrives_once_when_it_is_back() {
    let addr = SmtpSink::reserve_port();
    let url = format!("smtp://{addr}");
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_SMTP_URL", url.as_str())])
        .await
        .unwrap();
    s.register("ann@example.org", None).await;
    // Let the worker fail a few times against the closed port.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let sink = SmtpSink::start_at(addr);
    let got = mails(&sink, 1).await;
    assert_eq!(got.len(), 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.received().len(), 1, "exactly once");
    s.stop().await;
}

#[tokio::test]
async fn a_mail_survives_a_restart_of_accueil() {
    let addr = SmtpSink::reserve_port();
    let url = format!("smtp://{addr}");
    // Never retry within this server's life: the mail waits in the outbox.
    let first = TestServer::start_with(
        Db::Sqlite,
        &[
            ("ACCUEIL_SMTP_URL", url.as_str()),
            ("ACCUEIL_OUTBOX_RETRY_BASE", "1h"),
        ],
    )
    .await
    .unwrap();
    first.register("ann@example.org", None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    first.stop().await;
    let sink = SmtpSink::start_at(addr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        sink.received().is_empty(),
        "nothing is sent while Accueil is down"
    );
    // The operator puts the mail back in line (or waits for its retry time); a new server on
    // the same database sends it. The entry is made due behind the application's back here
    // (its own retry wake-up is an hour away), so the sweep, every second, is what finds it.
    let second = TestServer::start_with(
        Db::SameAs(first.db_url.clone()),
        &[
            ("ACCUEIL_SMTP_URL", url.as_str()),
            ("ACCUEIL_OUTBOX_RETRY_BASE", "1ms"),
            ("ACCUEIL_JOBS_SCHEDULE_MAIL_DELIVERY", "* * * * * *"),
        ],
    )
    .await
    .unwrap();
    use accueil_ports::StoreExt;
    let pending = first
        .store()
        .read(|tx| tx.outbox().list(None, 10))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].attempts >= 1, "it was tried and failed");
    // Make it due now, as its retry time would.
    let id = pending[0].id;
    first
        .store()
        .write(move |tx| -> Result<(), accueil_ports::StoreError> {
            tx.outbox().mark_failed(id, "simulated")?;
            tx.outbox().requeue(id, chrono::Utc::now()).map(|_| ())
        })
        .await
        .unwrap();
    let got = mails(&sink, 1).await;
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .header("Message-ID")
            .unwrap()
            .contains(&id.to_string()),
        "the entry's stable Message-ID"
    );
    second.stop().await;
}

/// Status, media type and body of an answer, without what differs on every call.
async fn comparable(res: reqwest::Response) -> (StatusCode, Option<String>, Value) {
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let mut body: Value = res.json().await.unwrap_or(Value::Null);
    if let Some(o) = body.as_object_mut() {
        for k in ["id", "created_at"] {
            assert!(
                o.remove(k).is_some() || status != StatusCode::CREATED,
                "{k} present"
            );
        }
        o.remove("email");
    }
    (status, ct, body)
}

#[tokio::test]
async fn registration_and_forgot_password_do_not_reveal_accounts() {
    let sink = SmtpSink::start();
    let s = with_sink(&sink, &[]).await;
    s.register("taken@example.org", None).await;
    mails(&sink, 1).await;
    let reg = |email: &'static str| {
        s.post(
            "/api/v1/auth/register",
            json!({"email": email, "password": PASSWORD, "display_name": "Zoé"}),
        )
    };
    let existing = comparable(reg("taken@example.org").await).await;
    let new = comparable(reg("fresh@example.org").await).await;
    assert_eq!(existing, new);
    assert_eq!(existing.0, StatusCode::CREATED);
    // The owner of the taken address was told; the new one got a verification link.
    let got = mails(&sink, 3).await;
    let to_taken: Vec<_> = got
        .iter()
        .filter(|m| m.to == vec!["taken@example.org".to_owned()])
        .collect();
    assert_eq!(to_taken.len(), 2);
    assert!(
        subject(to_taken[1]).contains("register with your address"),
        "{}",
        subject(to_taken[1])
    );

    let forgot =
        |email: &'static str| s.post("/api/v1/auth/forgot-password", json!({"email": email}));
    let known = comparable(forgot("taken@example.org").await).await;
    let unknown = comparable(forgot("nobody@example.org").await).await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, StatusCode::ACCEPTED);
    let resend =
        |email: &'static str| s.post("/api/v1/auth/resend-verification", json!({"email": email}));
    assert_eq!(
        comparable(resend("fresh@example.org").await).await,
        comparable(resend("nobody@example.org").await).await
    );
    s.stop().await;
}

#[tokio::test]
async fn profile_password_address_export_and_deletion() {
    let sink = SmtpSink::start();
    let s = with_sink(&sink, &[]).await;
    s.register("ann@example.org", Some("ann")).await;
    let t = s.login("ann@example.org").await;

    // Profile: partial update; unknown and protected fields refused.
    let res = s
        .send_json(Method::PATCH, "/api/v1/users/me", &t.access, json!({"display_name": "Ann", "language": "fr", "time_zone": "Europe/Paris", "notifications": {"push": false}}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(
        (
            me["display_name"].as_str(),
            me["language"].as_str(),
            me["time_zone"].as_str()
        ),
        (Some("Ann"), Some("fr"), Some("Europe/Paris"))
    );
    assert_eq!(me["notifications"], json!({"email": true, "push": false}));
    // The same shape as GET /users/me, sign-in methods included.
    assert_eq!(
        (&me["providers"], &me["has_password"]),
        (&json!([]), &json!(true))
    );
    let res = s
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            &t.access,
            json!({"username": null, "bio": "salut"}),
        )
        .await;
    let me: Value = res.json().await.unwrap();
    assert!(me["username"].is_null());
    assert_eq!(me["display_name"], "Ann", "absent fields are kept");
    for forbidden in [
        json!({"roles": ["admin"]}),
        json!({"email_verified": true}),
        json!({"email": "x@example.org"}),
    ] {
        let res = s
            .send_json(Method::PATCH, "/api/v1/users/me", &t.access, forbidden)
            .await;
        assert_eq!(problem(res).await.1, "unknown_field");
    }
    let res = s
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            &t.access,
            json!({"time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(
        problem(res).await.2["errors"][0]["code"],
        "unknown_time_zone"
    );

    // Password change: the other session ends, this one stays.
    let other = s.login("ann@example.org").await;
    let res = s
        .send_json(
            Method::POST,
            "/api/v1/users/me/password",
            &t.access,
            json!({"current_password": "wrong one!", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(problem(res).await.1, "wrong_password");
    let res = s
        .send_json(
            Method::POST,
            "/api/v1/users/me/password",
            &t.access,
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.get_auth("/api/v1/users/me", &t.access).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        s.get_auth("/api/v1/users/me", &other.access).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Address change: applies when the new address confirms; the old one is told.
    let res = s
        .send_json(
            Method::POST,
            "/api/v1/users/me/email",
            &t.access,
            json!({"current_password": "a brand new passphrase", "new_email": "ann@new.example"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let got = mails(&sink, 3).await;
    let confirm = got
        .iter()
        .find(|m| m.to == vec!["ann@new.example".to_owned()])
        .expect("confirmation to the new address");
    let res = s
        .post(
            "/api/v1/auth/verify-email",
            json!({"token": token(confirm, "verify-email")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let me: Value = s
        .get_auth("/api/v1/users/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ann@new.example");
    let got = mails(&sink, 4).await;
    assert_eq!(
        got[3].to,
        vec!["ann@example.org".to_owned()],
        "the old address is notified"
    );

    // Export.
    let res = s.get_auth("/api/v1/users/me/export", &t.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["user"]["email"], "ann@new.example");
    assert!(export["sessions"].as_array().unwrap().len() >= 2);
    let actions: Vec<&str> = export["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"user.registered")
            && actions.contains(&"user.password_changed")
            && actions.contains(&"user.email_changed"),
        "{actions:?}"
    );

    // Deletion: anonymised, sessions ended, login impossible.
    let res = s
        .send_json(
            Method::DELETE,
            "/api/v1/users/me",
            &t.access,
            json!({"password": "nope nope"}),
        )
        .await;
    assert_eq!(problem(res).await.1, "wrong_password");
    let res = s
        .send_json(
            Method::DELETE,
            "/api/v1/users/me",
            &t.access,
            json!({"password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.get_auth("/api/v1/users/me", &t.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "ann@new.example", "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(problem(res).await.1, "invalid_credentials");
    s.stop().await;
}

#[tokio::test]
async fn a_deployment_can_require_verified_addresses() {
    let sink = SmtpSink::start();
    let s = with_sink(&sink, &[("ACCUEIL_REQUIRE_VERIFIED_EMAIL", "true")]).await;
    s.register("ann@example.org", None).await;
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "ann@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(problem(res).await.1, "email_not_verified");
    let got = mails(&sink, 1).await;
    let res = s
        .post(
            "/api/v1/auth/verify-email",
            json!({"token": token(&got[0], "verify-email")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    s.login("ann@example.org").await;
    s.stop().await;
}
