//! End to end: realtime notifications over WebSocket (`POST /api/v1/ws/ticket`,
//! `GET /api/v1/ws`), with a real WebSocket client (tokio-tungstenite) against a real server.
//! Every message a test receives is checked against its JSON schema under docs/realtime/, and
//! every message a test sends on purpose as valid is checked against the client schemas.

mod cluster;
mod connections;
mod couples;
mod schemas;
mod tickets;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{TestServer, json_of};

/// How long a test waits for something that should come at once.
pub const SOON: Duration = Duration::from_secs(5);
/// The bound the issue sets on notifications and on closing a revoked session's sockets.
pub const WITHIN: Duration = Duration::from_secs(1);

const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/realtime");

/// Every schema under docs/realtime/, by `client/<action>` or `server/<type>[-<event>]`.
pub fn schemas() -> &'static HashMap<String, (Value, jsonschema::Validator)> {
    static ALL: OnceLock<HashMap<String, (Value, jsonschema::Validator)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = HashMap::new();
        for side in ["client", "server"] {
            for entry in std::fs::read_dir(Path::new(SCHEMAS).join(side)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
                let schema: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                all.insert(format!("{side}/{name}"), (schema, validator));
            }
        }
        all
    })
}

/// The schema a server message must match.
pub fn server_schema_of(message: &Value) -> String {
    let kind = message["type"]
        .as_str()
        .expect("a server message has a `type`");
    match message["event"].as_str() {
        Some(event) if kind == "notification" => format!("server/notification-{event}"),
        _ => format!("server/{kind}"),
    }
}

/// Checks `message` against the schema `name`.
pub fn check(name: &str, message: &Value) {
    let (_, validator) = schemas()
        .get(name)
        .unwrap_or_else(|| panic!("no schema {name} for {message}"));
    let errors: Vec<String> = validator
        .iter_errors(message)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{message} does not match {name}: {errors:?}"
    );
}

/// What the socket gave next.
#[derive(Debug)]
pub enum Got {
    Message(Value),
    Closed(u16, String),
    Nothing,
}

/// A WebSocket client.
pub struct Ws {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The schemas of the messages received so far.
    pub seen: BTreeSet<String>,
}

/// `ws://` for the server's `http://` base.
pub fn ws_url(s: &TestServer, query: &str) -> String {
    format!(
        "{}/api/v1/ws{query}",
        s.base.replacen("http://", "ws://", 1)
    )
}

/// A new ticket for this access token.
pub async fn ticket(s: &TestServer, token: &str) -> String {
    let res = s.post_auth("/api/v1/ws/ticket", token).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = json_of(res, StatusCode::OK).await;
    body["ticket"].as_str().unwrap().to_owned()
}

impl Ws {
    /// Connects (the handshake must succeed).
    pub async fn connect(s: &TestServer, query: &str) -> Self {
        Self::connect_to(&s.base, query).await
    }

    /// Connects to the server at `base` (`http://host:port`).
    pub async fn connect_to(base: &str, query: &str) -> Self {
        let url = format!("{}/api/v1/ws{query}", base.replacen("http://", "ws://", 1));
        let (inner, res) = tokio_tungstenite::connect_async(url).await.unwrap();
        assert_eq!(res.status(), 101);
        Self {
            inner,
            seen: BTreeSet::new(),
        }
    }

    /// Connects with a fresh ticket and reads the `connection` message.
    pub async fn open(s: &TestServer, token: &str) -> (Self, Value) {
        let t = ticket(s, token).await;
        let mut ws = Self::connect(s, &format!("?ticket={t}")).await;
        let hello = ws.expect("connection").await;
        (ws, hello)
    }

    /// Sends a message a client may send (checked against its schema first).
    pub async fn send(&mut self, message: Value) {
        let action = message["action"].as_str().unwrap().to_owned();
        check(&format!("client/{action}"), &message);
        self.send_text(&message.to_string()).await;
    }

    /// Sends any text.
    pub async fn send_text(&mut self, text: &str) {
        self.inner.send(Message::text(text)).await.unwrap();
    }

    /// Sends a raw frame.
    pub async fn send_frame(&mut self, frame: Message) {
        self.inner.send(frame).await.unwrap();
    }

    /// The next message or close within `within` (pings are answered by the client library).
    pub async fn recv(&mut self, within: Duration) -> Got {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => return Got::Nothing,
                Ok(None) => return Got::Closed(1006, "no close frame".into()),
                Ok(Some(Err(e))) => return Got::Closed(1006, e.to_string()),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(text.as_str()).unwrap();
                    let schema = server_schema_of(&message);
                    check(&schema, &message);
                    self.seen.insert(schema);
                    return Got::Message(message);
                }
                Message::Close(frame) => {
                    return frame.map_or(Got::Closed(1005, String::new()), |f| {
                        Got::Closed(u16::from(f.code), f.reason.as_str().to_owned())
                    });
                }
                Message::Binary(b) => panic!("the server sent a binary frame: {b:?}"),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// The next message that is not a heartbeat, of type `kind`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        self.expect_within(kind, SOON).await
    }

    /// The same, within `within`.
    pub async fn expect_within(&mut self, kind: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await {
                Got::Message(m) if m["type"] == "heartbeat" => {}
                Got::Message(m) => {
                    assert_eq!(m["type"], kind, "expected a {kind} message, got {m}");
                    return m;
                }
                other => panic!("expected a {kind} message within {within:?}, got {other:?}"),
            }
        }
    }

    /// The close frame's code and reason, within `within` (messages before it are skipped).
    pub async fn closed_within(&mut self, within: Duration) -> (u16, String) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await {
                Got::Message(_) => {}
                Got::Closed(code, reason) => return (code, reason),
                Got::Nothing => panic!("not closed within {within:?}"),
            }
        }
    }

    /// The close frame within [`SOON`].
    pub async fn closed(&mut self) -> (u16, String) {
        self.closed_within(SOON).await
    }

    /// Asserts that nothing but heartbeats arrives for `during`.
    pub async fn quiet(&mut self, during: Duration) {
        let deadline = tokio::time::Instant::now() + during;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match self.recv(left).await {
                Got::Nothing => return,
                Got::Message(m) if m["type"] == "heartbeat" => {}
                other => panic!("expected silence, got {other:?}"),
            }
        }
    }

    /// Subscribes and returns the `subscribed` answer.
    pub async fn subscribe(&mut self, topics: &[&str]) -> Value {
        self.send(json!({"action": "subscribe", "events": topics}))
            .await;
        self.expect("subscribed").await
    }

    /// Closes from the client side.
    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
    }
}
