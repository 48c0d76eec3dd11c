//! End to end with a real SMTP server on loopback: the first couple mail. When partner B joins
//! with the invite code, partner A is mailed, if A's `notifications.email` is on; with it off,
//! nothing is even put in the outbox (account mails still go).

use std::time::Duration;

use accueil_domain::notify::MailTemplate;
use accueil_notify_smtp::testing::{Received, SmtpSink};
use accueil_ports::StoreExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Db, TestServer, call, json_of, user};

const WAIT: Duration = Duration::from_secs(10);

/// Waits until a mail matches `wanted`, without blocking the runtime the server runs on.
async fn mail_where(sink: &SmtpSink, wanted: impl Fn(&Received) -> bool) -> Option<Received> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(m) = sink.received().into_iter().find(&wanted) {
            return Some(m);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn partner_joined(m: &Received) -> bool {
    m.to == ["ann@example.org"]
        && m.header("Subject")
            .is_some_and(|s| s.contains("joined you"))
}

/// Ann (mails on or off) invites, Bob ("Bob") joins.
async fn ann_invites_bob(s: &TestServer, ann_mails: bool) {
    let ann = user(s, "ann@example.org").await;
    let bob = user(s, "bob@example.org").await;
    for (token, body) in [
        (&ann, json!({"notifications": {"email": ann_mails}})),
        (&bob, json!({"display_name": "Bob"})),
    ] {
        json_of(
            call(s, Method::PATCH, "/api/v1/users/me", token, Some(body)).await,
            StatusCode::OK,
        )
        .await;
    }
    crate::common::pair(s, &ann, &bob).await;
}

async fn server(sink: &SmtpSink) -> TestServer {
    let url = sink.url();
    TestServer::start_with(Db::Sqlite, &[("ACCUEIL_SMTP_URL", url.as_str())])
        .await
        .unwrap()
}

#[tokio::test]
async fn the_inviter_with_mails_on_hears_that_the_partner_joined() {
    let sink = SmtpSink::start();
    let s = server(&sink).await;
    ann_invites_bob(&s, true).await;
    let mail = mail_where(&sink, partner_joined)
        .await
        .expect("the partner-joined mail arrives");
    assert_eq!(
        mail.header("Subject").unwrap(),
        "Bob joined you on Accueil",
        "named by the name Bob shows"
    );
    assert!(mail.decoded().contains("Bob used your invite code"));
    s.stop().await;
}

#[tokio::test]
async fn the_inviter_with_mails_off_gets_none() {
    let sink = SmtpSink::start();
    let s = server(&sink).await;
    ann_invites_bob(&s, false).await;
    // An account mail to Ann after the join still goes: once it arrived, the worker has been
    // through everything enqueued before it.
    json_of(
        s.post(
            "/api/v1/auth/resend-verification",
            json!({"email": "ann@example.org"}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let verify_mails =
        |m: &Received| m.to == ["ann@example.org"] && m.decoded().contains("verify-email");
    let deadline = std::time::Instant::now() + WAIT;
    while sink.received().iter().filter(|m| verify_mails(m)).count() < 2
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let later = (sink.received().iter().filter(|m| verify_mails(m)).count() >= 2).then_some(());
    assert!(
        later.is_some(),
        "account mails are sent whatever the preference"
    );
    assert!(
        !sink.received().iter().any(partner_joined),
        "no partner-joined mail"
    );
    let queued = s
        .store()
        .read(|tx| tx.outbox().list(None, 1000))
        .await
        .unwrap();
    assert!(
        queued
            .iter()
            .all(|e| e.mail.template != MailTemplate::PartnerJoined),
        "nothing was even enqueued"
    );
    s.stop().await;
}
