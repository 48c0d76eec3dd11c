//! Opening a connection: one-time tickets, an access token as the first message, what a
//! request that is not a handshake answers, and secrets kept out of the logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use accueil_domain::identity::{SessionId, UserId, WsTicket};
use accueil_ports::StoreExt;
use accueil_ports::system::OpaqueTokens;
use base64::Engine;
use chrono::{Duration as Span, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{SOON, Ws, ticket};
use crate::common::{Db, TestServer, call, json_of, problem, user};

/// The access token's claims (its payload, not checked: the server signed it).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_ticket_opens_one_connection_once() {
    let s = TestServer::start().await;
    let token = user(&s, "ann@example.org").await;
    let me = json_of(
        call(&s, Method::GET, "/api/v1/users/me", &token, None).await,
        StatusCode::OK,
    )
    .await;

    let res = s.post_auth("/api/v1/ws/ticket", &token).await;
    let body = json_of(res, StatusCode::OK).await;
    let expires: chrono::DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires - Utc::now();
    assert!(
        left > Span::seconds(25) && left <= Span::seconds(30),
        "valid 30 seconds: {left}"
    );
    let secret = body["ticket"].as_str().unwrap();
    assert!(secret.len() >= 40, "at least 256 bits");

    let mut ws = Ws::connect(&s, &format!("?ticket={secret}")).await;
    let hello = ws.expect("connection").await;
    assert_eq!(hello["user_id"], me["id"]);
    assert_eq!(hello["heartbeat_interval"], 30);
    assert_eq!(hello["topics"], json!(["user", "couple"]));
    assert_eq!(hello["subscriptions"], json!([]));

    let mut again = Ws::connect(&s, &format!("?ticket={secret}")).await;
    assert_eq!(
        again.closed().await,
        (4002, "unknown or already used ticket".into()),
        "a ticket opens one connection"
    );
    let mut unknown = Ws::connect(&s, "?ticket=never-issued").await;
    assert_eq!(unknown.closed().await.0, 4002);

    // The first connection is not disturbed.
    ws.send(json!({"action": "ping"})).await;
    ws.expect("pong").await;
    s.stop().await;
}

#[tokio::test]
async fn a_ticket_needs_a_signed_in_session() {
    let s = TestServer::start().await;
    let token = user(&s, "ann@example.org").await;
    let res = s.post("/api/v1/ws/ticket", json!({})).await;
    assert_eq!(problem(res).await.1, "unauthorized");
    let key = json_of(
        call(
            &s,
            Method::POST,
            "/api/v1/users/me/api-keys",
            &token,
            Some(json!({"name": "script", "scope": "read_write"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let res = s
        .client
        .post(s.url("/api/v1/ws/ticket"))
        .header("x-api-key", key["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "session_required")
    );
}

#[tokio::test]
async fn an_expired_ticket_is_refused_and_spent() {
    let s = TestServer::start().await;
    let token = user(&s, "ann@example.org").await;
    let c = claims(&token);
    let user_id = UserId(c["sub"].as_str().unwrap().parse().unwrap());
    let session = SessionId(c["sid"].as_str().unwrap().parse().unwrap());
    // A ticket issued a minute ago, as the server would have stored it.
    let secret = "expired-ticket-Q8zR1xV3mN7bT2yL5kJ9wC4hF6dS0aEg";
    let digest = accueil_crypto::RandomTokens.digest(secret);
    let mut old = WsTicket::issue(digest, user_id, session, Utc::now() - Span::minutes(1));
    old.expires_at = Utc::now() - Span::seconds(30);
    s.store()
        .write(move |tx| tx.ws_tickets().insert_ws_ticket(&old))
        .await
        .unwrap();
    let mut ws = Ws::connect(&s, &format!("?ticket={secret}")).await;
    assert_eq!(ws.closed().await, (4002, "ticket expired".into()));
    let mut again = Ws::connect(&s, &format!("?ticket={secret}")).await;
    assert_eq!(
        again.closed().await,
        (4002, "unknown or already used ticket".into()),
        "a refused ticket is spent"
    );
}

#[tokio::test]
async fn tickets_are_rate_limited_per_user() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_RATE_WS_TICKET_USER", "2/1m")])
        .await
        .unwrap();
    let ann = user(&s, "ann@example.org").await;
    let bob = user(&s, "bob@example.org").await;
    ticket(&s, &ann).await;
    ticket(&s, &ann).await;
    let res = s.post_auth("/api/v1/ws/ticket", &ann).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res).await.1, "rate_limited");
    ticket(&s, &bob).await;
}

#[tokio::test]
async fn an_access_token_as_first_message_opens_a_connection() {
    let s = TestServer::start().await;
    let token = user(&s, "ann@example.org").await;
    let mut ws = Ws::connect(&s, "").await;
    ws.send(json!({"action": "subscribe", "events": ["user"]}))
        .await;
    let refused = ws.expect("error").await;
    assert_eq!(
        (refused["code"].as_str(), refused["action"].as_str()),
        (Some("auth_required"), Some("subscribe"))
    );
    ws.send(json!({"action": "auth", "token": token})).await;
    ws.expect("connection").await;
    ws.send(json!({"action": "auth", "token": token})).await;
    assert_eq!(ws.expect("error").await["code"], "already_authenticated");
    assert_eq!(
        ws.subscribe(&["user"]).await["subscriptions"],
        json!(["user"])
    );

    let mut bad = Ws::connect(&s, "").await;
    bad.send(json!({"action": "auth", "token": "not-a-token"}))
        .await;
    assert_eq!(bad.closed().await, (4002, "invalid access token".into()));
}

#[tokio::test]
async fn a_handshake_without_a_credential_closes_after_the_timeout() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_WS_AUTH_TIMEOUT", "300ms")])
        .await
        .unwrap();
    let mut ws = Ws::connect(&s, "").await;
    assert_eq!(ws.closed().await.0, 4004);
}

#[tokio::test]
async fn a_request_that_is_not_a_handshake_answers_426_and_spends_no_ticket() {
    let s = TestServer::start().await;
    let token = user(&s, "ann@example.org").await;
    let t = ticket(&s, &token).await;
    let res = s
        .client
        .get(s.url(&format!("/api/v1/ws?ticket={t}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["upgrade"], "websocket");
    let (status, code, _) = problem(res).await;
    assert_eq!((status.as_u16(), code.as_str()), (426, "upgrade_required"));
    let res = s
        .client
        .get(s.url("/api/v1/ws?token=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res).await.1,
        "invalid_query",
        "no token in the URL: only a ticket"
    );
    let mut ws = Ws::connect(&s, &format!("?ticket={t}")).await;
    ws.expect("connection").await;
}

/// Everything the server logs while the test binary runs, from the moment it is installed.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,accueil_http=trace,accueil_app=trace,accueil_server=trace",
            ))
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tickets_and_tokens_never_reach_the_logs() {
    let logs = captured();
    let s = TestServer::start().await;
    let token = user(&s, "ann@example.org").await;
    let t = ticket(&s, &token).await;
    let mut ws = Ws::connect(&s, &format!("?ticket={t}")).await;
    let hello = ws.expect("connection").await;
    let mut reused = Ws::connect(&s, &format!("?ticket={t}")).await;
    reused.closed().await;
    let mut by_token = Ws::connect(&s, "").await;
    by_token
        .send(json!({"action": "auth", "token": token}))
        .await;
    let second = by_token.expect("connection").await;
    ws.close().await;
    by_token.close().await;
    // The lines are there (so the check below can fail)...
    let id = hello["connection_id"].as_str().unwrap();
    let text = tokio::time::timeout(SOON, async {
        loop {
            let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
            let closed = text.lines().any(|l| l.contains(id) && l.contains("closed"));
            if closed && text.contains(second["connection_id"].as_str().unwrap()) {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the connections' lines are logged");
    assert!(
        text.lines()
            .any(|l| l.contains("path=/api/v1/ws") && l.contains("status=101")),
        "the handshake's request line"
    );
    // ... and no secret is.
    assert!(!text.contains(&t), "the ticket reached the log");
    assert!(!text.contains(&token), "the access token reached the log");
    let signature = token.rsplit('.').next().unwrap();
    assert!(!text.contains(signature));
}
