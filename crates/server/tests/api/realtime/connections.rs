//! An open connection: the strict protocol, heartbeats, the per-user cap, sockets closed when
//! their session ends or their account is disabled, and the server's shutdown.

use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::{SOON, WITHIN, Ws};
use crate::cli::accueil;
use crate::common::{self, Db, TestServer, call, user};

#[tokio::test]
async fn pings_stats_and_strict_messages() {
    let s = TestServer::start().await;
    let ann = user(&s, "ann@example.org").await;
    let bob = user(&s, "bob@example.org").await;
    let (mut ws, hello) = Ws::open(&s, &ann).await;
    let (_other, _) = Ws::open(&s, &ann).await;
    let (_bobs, _) = Ws::open(&s, &bob).await;

    ws.send(json!({"action": "ping"})).await;
    ws.expect("pong").await;
    ws.subscribe(&["user"]).await;
    ws.send(json!({"action": "get_stats"})).await;
    let stats = ws.expect("stats").await;
    assert_eq!(stats["connection_id"], hello["connection_id"]);
    assert_eq!(
        stats["connections"], 2,
        "the caller's own connections, not Bob's"
    );
    assert_eq!(stats["subscriptions"], json!(["user"]));
    assert_eq!(stats["messages_received"], 3);

    for (text, code) in [
        ("{not json", "invalid_json"),
        ("[1]", "invalid_message"),
        (r#"{"events":["user"]}"#, "invalid_message"),
        (r#"{"action":"shout"}"#, "unknown_action"),
        (r#"{"action":"ping","extra":1}"#, "unknown_field"),
        (
            r#"{"action":"subscribe","events":["tenant"]}"#,
            "unknown_topic",
        ),
        (r#"{"action":"subscribe","events":[]}"#, "invalid_message"),
    ] {
        ws.send_text(text).await;
        let e = ws.expect("error").await;
        assert_eq!(e["code"], code, "{text}");
    }
    ws.send_frame(Message::binary(vec![1, 2, 3])).await;
    assert_eq!(ws.expect("error").await["code"], "binary_not_supported");
    ws.send(json!({"action": "unsubscribe", "events": ["user"]}))
        .await;
    let done = ws.expect("unsubscribed").await;
    assert_eq!(
        (done["topics"].clone(), done["subscriptions"].clone()),
        (json!(["user"]), json!([]))
    );
    // Still open after every refusal.
    ws.send(json!({"action": "ping"})).await;
    ws.expect("pong").await;
}

#[tokio::test]
async fn messages_over_the_rate_are_refused_and_oversized_ones_close() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_WS_MESSAGE_RATE", "3/1m")])
        .await
        .unwrap();
    let ann = user(&s, "ann@example.org").await;
    let (mut ws, _) = Ws::open(&s, &ann).await;
    for _ in 0..3 {
        ws.send(json!({"action": "ping"})).await;
        ws.expect("pong").await;
    }
    ws.send(json!({"action": "ping"})).await;
    assert_eq!(ws.expect("error").await["code"], "rate_limited");

    let (mut big, _) = Ws::open(&s, &ann).await;
    big.send_text(&format!(
        r#"{{"action":"ping","pad":"{}"}}"#,
        "x".repeat(5000)
    ))
    .await;
    assert_eq!(big.closed().await.0, 1009);
}

#[tokio::test]
async fn heartbeats_come_every_interval() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_WS_HEARTBEAT", "300ms")])
        .await
        .unwrap();
    let ann = user(&s, "ann@example.org").await;
    let (mut ws, hello) = Ws::open(&s, &ann).await;
    assert_eq!(hello["heartbeat_interval"], 1, "whole seconds, at least 1");
    for _ in 0..3 {
        let beat = ws.recv(SOON).await;
        match beat {
            super::Got::Message(m) => assert_eq!(m["type"], "heartbeat"),
            other => panic!("expected a heartbeat, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_user_has_at_most_the_cap_of_connections() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_WS_MAX_PER_USER", "2")])
        .await
        .unwrap();
    let ann = user(&s, "ann@example.org").await;
    let bob = user(&s, "bob@example.org").await;
    let (first, _) = Ws::open(&s, &ann).await;
    let (_second, _) = Ws::open(&s, &ann).await;
    let t = super::ticket(&s, &ann).await;
    let mut third = Ws::connect(&s, &format!("?ticket={t}")).await;
    assert_eq!(
        third.closed().await,
        (4008, "at most 2 connections per user".into())
    );
    Ws::open(&s, &bob).await;
    first.close().await;
    // The slot frees when the server has seen the close.
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let t = super::ticket(&s, &ann).await;
        let mut ws = Ws::connect(&s, &format!("?ticket={t}")).await;
        match ws.recv(SOON).await {
            super::Got::Message(m) if m["type"] == "connection" => break,
            super::Got::Closed(4008, _) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => panic!("expected the connection, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn logout_everywhere_closes_every_socket_of_the_user_within_a_second() {
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    let phone = s.login("ann@example.org").await.access;
    let laptop = s.login("ann@example.org").await.access;
    let bob = user(&s, "bob@example.org").await;
    let (mut a1, _) = Ws::open(&s, &phone).await;
    let (mut a2, _) = Ws::open(&s, &laptop).await;
    let (mut b, _) = Ws::open(&s, &bob).await;
    let res = call(&s, Method::POST, "/api/v1/auth/logout-all", &phone, None).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        a1.closed_within(WITHIN).await,
        (4001, "session ended".into())
    );
    assert_eq!(
        a2.closed_within(WITHIN).await,
        (4001, "session ended".into())
    );
    b.send(json!({"action": "ping"})).await;
    b.expect("pong").await;
}

#[tokio::test]
async fn logout_closes_the_sockets_of_that_session_only() {
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    let phone = s.login("ann@example.org").await.access;
    let laptop = s.login("ann@example.org").await.access;
    let (mut on_phone, _) = Ws::open(&s, &phone).await;
    let mut by_token = Ws::connect(&s, "").await;
    by_token
        .send(json!({"action": "auth", "token": phone}))
        .await;
    by_token.expect("connection").await;
    let (mut on_laptop, _) = Ws::open(&s, &laptop).await;
    let res = call(&s, Method::POST, "/api/v1/auth/logout", &phone, None).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(on_phone.closed_within(WITHIN).await.0, 4001);
    assert_eq!(by_token.closed_within(WITHIN).await.0, 4001);
    on_laptop.send(json!({"action": "ping"})).await;
    on_laptop.expect("pong").await;
}

#[tokio::test]
async fn an_account_disabled_from_the_command_line_is_closed_with_4003() {
    // `accueil disable-user` is another process: its events stay there (on SQLite), and the
    // heartbeat's check closes the socket instead, within one interval.
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_WS_HEARTBEAT", "300ms")])
        .await
        .unwrap();
    let ann = user(&s, "ann@example.org").await;
    let (mut ws, _) = Ws::open(&s, &ann).await;
    let env = [
        ("DATABASE_URL".to_owned(), s.db_url.clone()),
        (
            "ACCUEIL_DATA_DIR".to_owned(),
            s.data_dir.display().to_string(),
        ),
        ("ACCUEIL_JWT_SECRET".to_owned(), common::SECRET.to_owned()),
        ("ACCUEIL_BCRYPT_COST".to_owned(), "4".to_owned()),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        accueil(&["disable-user", "--email", "ann@example.org"], &env, "")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        ws.closed_within(WITHIN).await,
        (4003, "account disabled".into())
    );
}

#[tokio::test]
async fn deleting_the_account_closes_its_sockets() {
    let s = TestServer::start().await;
    let ann = user(&s, "ann@example.org").await;
    let (mut ws, _) = Ws::open(&s, &ann).await;
    let res = call(
        &s,
        Method::DELETE,
        "/api/v1/users/me",
        &ann,
        Some(json!({"password": common::PASSWORD})),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(ws.closed_within(WITHIN).await.0, 4001);
}

/// The real process, stopped by the signals an operator or an orchestrator sends: each closes
/// the sockets with 1001 before HTTP stops, and the process exits successfully.
#[tokio::test]
async fn sigterm_and_sigint_close_sockets_with_1001_then_exit() {
    use crate::common::instances::Instance;
    for signal in ["TERM", "INT"] {
        let db = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", db.path().join("accueil.db").display());
        let mut i = Instance::spawn(signal, &url, &[]).await;
        i.wait_ready().await;
        i.register("ann@example.org").await;
        let ann = i.login("ann@example.org").await.access;
        let res = i
            .client
            .post(i.url("/api/v1/ws/ticket"))
            .bearer_auth(&ann)
            .send()
            .await
            .unwrap();
        let ticket: serde_json::Value = res.json().await.unwrap();
        let query = format!("?ticket={}", ticket["ticket"].as_str().unwrap());
        let mut ws = Ws::connect_to(&i.base, &query).await;
        ws.expect("connection").await;
        ws.subscribe(&["user"]).await;
        let exited = i.signal(signal).await;
        assert!(exited.success(), "SIG{signal}: {exited}\n{}", i.logs());
        assert_eq!(
            ws.closed().await,
            (1001, "server shutting down".into()),
            "SIG{signal}"
        );
        let said = format!("SIG{signal} received; shutting down");
        assert!(i.logs().contains(&said), "{}", i.logs());
    }
}

#[tokio::test]
async fn shutting_down_closes_every_socket_with_1001() {
    let s = TestServer::start().await;
    let ann = user(&s, "ann@example.org").await;
    let (mut open, _) = Ws::open(&s, &ann).await;
    open.subscribe(&["user"]).await;
    let mut authenticating = Ws::connect(&s, "").await;
    s.stop().await;
    assert_eq!(open.closed().await, (1001, "server shutting down".into()));
    assert_eq!(authenticating.closed().await.0, 1001);
    assert!(
        tokio_tungstenite::connect_async(super::ws_url(&s, ""))
            .await
            .is_err(),
        "the server is gone"
    );
}
