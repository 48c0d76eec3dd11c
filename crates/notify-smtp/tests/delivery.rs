//! The mail adapter against a real SMTP server on loopback.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use accueil_domain::identity::Email;
use accueil_domain::notify::{Language, MailTemplate, OutboundMail};
use accueil_notify_smtp::testing::SmtpSink;
use accueil_notify_smtp::{FileMailer, Renderer, SmtpMailer, SmtpSettings};
use accueil_ports::notify::{Mailer, SendError};
use uuid::Uuid;

fn mail(language: Language) -> OutboundMail {
    let mut vars = BTreeMap::new();
    vars.insert("name".to_owned(), "Zoé".to_owned());
    vars.insert(
        "link".to_owned(),
        "https://app.example/verify-email?token=tok123".to_owned(),
    );
    OutboundMail {
        to: Email::parse("zoe@example.org").unwrap(),
        language,
        template: MailTemplate::VerifyEmail,
        vars,
    }
}

fn mailer(url: String) -> SmtpMailer {
    SmtpMailer::new(
        &SmtpSettings {
            url,
            from: "Accueil <no-reply@accueil.test>".into(),
            timeout: Duration::from_secs(5),
        },
        Renderer::new("Accueil"),
    )
    .unwrap()
}

#[tokio::test]
async fn delivers_both_parts_with_a_stable_message_id() {
    let sink = SmtpSink::start();
    let m = mailer(sink.url());
    let id = Uuid::now_v7();
    m.send(id, &mail(Language::Fr)).await.unwrap();
    m.send(id, &mail(Language::Fr)).await.unwrap();
    let got = sink.wait_for(2, Duration::from_secs(5));
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].to, vec!["zoe@example.org".to_owned()]);
    let expected_id = format!("<{id}@accueil.test>");
    for r in &got {
        assert_eq!(
            r.header("Message-ID").as_deref(),
            Some(expected_id.as_str()),
            "same id on every attempt"
        );
    }
    let text = got[0].decoded();
    assert!(text.contains("multipart/alternative"));
    assert!(text.contains("text/plain") && text.contains("text/html"));
    assert!(text.contains("https://app.example/verify-email?token=tok123"));
    assert!(got[0].header("Subject").unwrap().contains("Confirmez") || text.contains("Confirmez"));
}

#[tokio::test]
async fn a_server_that_is_down_is_a_transient_failure() {
    let addr = SmtpSink::reserve_port();
    let m = mailer(format!("smtp://{addr}"));
    let err = m
        .send(Uuid::now_v7(), &mail(Language::En))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn replies_decide_transient_or_permanent() {
    let sink = SmtpSink::start();
    let m = mailer(sink.url());
    sink.refuse_with(Some((451, "try again later")));
    let err = m
        .send(Uuid::now_v7(), &mail(Language::En))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
    sink.refuse_with(Some((554, "transaction failed")));
    let err = m
        .send(Uuid::now_v7(), &mail(Language::En))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent(_)), "{err:?}");
    sink.refuse_with(None);
    m.send(Uuid::now_v7(), &mail(Language::En)).await.unwrap();
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).len(), 1);
}

#[tokio::test]
async fn files_in_development() {
    let dir = tempfile::tempdir().unwrap();
    let m = FileMailer::new(
        dir.path().join("mail"),
        "Accueil <no-reply@accueil.test>",
        Renderer::new("Accueil"),
    )
    .unwrap();
    m.send(Uuid::now_v7(), &mail(Language::En)).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(eml.contains("Confirm your e-mail address"));
}
