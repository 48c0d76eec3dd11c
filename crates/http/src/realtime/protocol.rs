//! The messages of `GET /api/v1/ws`, both ways (docs/realtime.md, one JSON schema per message
//! under docs/realtime/).
//!
//! Client messages are JSON objects named by `action`, read strictly as the REST API reads its
//! bodies: malformed JSON, an unknown action, an unknown field or a wrong type is an `error`
//! message with its own code, and the connection stays open. Server messages are named by
//! `type`; notifications name an entity by cursor, never by content.

use accueil_domain::events::TopicKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest client message accepted, in bytes (more closes with 1009).
pub(crate) const MAX_MESSAGE_BYTES: usize = 4096;

/// Most topics one `subscribe` or `unsubscribe` may name.
const MAX_TOPICS: usize = 8;

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClientMessage {
    /// `{"action":"auth","token":"…"}`: an access token, as the first message.
    Auth { token: String },
    /// `{"action":"ping"}`.
    Ping,
    /// `{"action":"subscribe","events":["couple"]}`.
    Subscribe(Vec<TopicKind>),
    /// `{"action":"unsubscribe","events":["couple"]}`.
    Unsubscribe(Vec<TopicKind>),
    /// `{"action":"get_stats"}`.
    GetStats,
}

impl ClientMessage {
    /// The action's name, for metrics and logs.
    pub(crate) fn action(&self) -> &'static str {
        match self {
            Self::Auth { .. } => "auth",
            Self::Ping => "ping",
            Self::Subscribe(_) => "subscribe",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::GetStats => "get_stats",
        }
    }
}

impl std::fmt::Display for ClientMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.action())
    }
}

/// Why a client message was refused: its `error` message's code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthBody {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsBody {
    events: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

fn fields<T: serde::de::DeserializeOwned>(
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<T, Refusal> {
    serde_json::from_value(serde_json::Value::Object(body)).map_err(|e| {
        let text = e.to_string();
        if text.starts_with("unknown field") {
            Refusal::new("unknown_field", text)
        } else {
            Refusal::new("invalid_message", text)
        }
    })
}

fn topics(body: TopicsBody) -> Result<Vec<TopicKind>, Refusal> {
    if body.events.is_empty() || body.events.len() > MAX_TOPICS {
        return Err(Refusal::new(
            "invalid_message",
            format!("`events` names 1 to {MAX_TOPICS} topics"),
        ));
    }
    let mut kinds = Vec::new();
    for name in &body.events {
        let kind = TopicKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = TopicKind::ALL.iter().map(|k| k.as_str()).collect();
            Refusal::new(
                "unknown_topic",
                format!("no topic {name:?}; the topics are {}", known.join(", ")),
            )
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// Reads one text message.
///
/// # Errors
/// The [`Refusal`] to answer with: `invalid_json`, `invalid_message` (not an object, no or a
/// malformed `action`, a wrong type), `unknown_action`, `unknown_field`, `unknown_topic`.
pub(crate) fn parse(text: &str) -> Result<ClientMessage, Refusal> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Refusal::new("invalid_json", format!("not JSON: {e}")))?;
    let serde_json::Value::Object(mut body) = value else {
        return Err(Refusal::new(
            "invalid_message",
            "a message is a JSON object",
        ));
    };
    let action = match body.remove("action") {
        Some(serde_json::Value::String(a)) => a,
        Some(_) => return Err(Refusal::new("invalid_message", "`action` is a string")),
        None => return Err(Refusal::new("invalid_message", "`action` is required")),
    };
    match action.as_str() {
        "auth" => fields::<AuthBody>(body).map(|b| ClientMessage::Auth { token: b.token }),
        "ping" => fields::<Empty>(body).map(|_| ClientMessage::Ping),
        "subscribe" => topics(fields(body)?).map(ClientMessage::Subscribe),
        "unsubscribe" => topics(fields(body)?).map(ClientMessage::Unsubscribe),
        "get_stats" => fields::<Empty>(body).map(|_| ClientMessage::GetStats),
        other => Err(Refusal::new(
            "unknown_action",
            format!(
                "no action {:?}; the actions are auth, ping, subscribe, unsubscribe, get_stats",
                other.chars().take(64).collect::<String>()
            ),
        )),
    }
}

/// A message to the client.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ServerMessage {
    /// Sent once the connection is authenticated.
    Connection {
        message: &'static str,
        connection_id: Uuid,
        user_id: Uuid,
        /// Seconds between heartbeats.
        heartbeat_interval: u64,
        /// Every topic a client may subscribe to.
        topics: Vec<&'static str>,
        /// What this connection is subscribed to (nothing yet).
        subscriptions: Vec<&'static str>,
    },
    /// The answer to `ping`.
    Pong { timestamp: DateTime<Utc> },
    /// Every heartbeat interval.
    Heartbeat { timestamp: DateTime<Utc> },
    /// The answer to `subscribe`: what it added, and every subscription now.
    Subscribed {
        topics: Vec<&'static str>,
        subscriptions: Vec<&'static str>,
    },
    /// The answer to `unsubscribe`.
    Unsubscribed {
        topics: Vec<&'static str>,
        subscriptions: Vec<&'static str>,
    },
    /// The answer to `get_stats`: this caller's own figures on this instance.
    Stats {
        connection_id: Uuid,
        /// The caller's connections open on this instance, this one included.
        connections: usize,
        subscriptions: Vec<&'static str>,
        connected_at: DateTime<Utc>,
        messages_received: u64,
        messages_sent: u64,
    },
    /// Something happened.
    Notification(Notification),
    /// A client message was refused; the connection stays open.
    Error {
        code: &'static str,
        message: String,
        /// The action refused, when the message named one.
        #[serde(skip_serializing_if = "Option::is_none")]
        action: Option<&'static str>,
    },
}

/// What a notification says.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Notification {
    /// The couple's change feed advanced: read `/api/v1/sync/changes` from your cursor.
    Changes {
        topic: &'static str,
        /// The feed's cursor after the change, as `/sync/changes` gives `next_cursor`.
        cursor: String,
    },
    /// A subscription ended without being asked (the couple was dissolved or left).
    Unsubscribed {
        topic: &'static str,
        reason: &'static str,
    },
    /// Events may have been missed: re-read what you show (the change feed from your cursor).
    Resync {},
}

impl ServerMessage {
    /// The type's name, for metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Connection { .. } => "connection",
            Self::Pong { .. } => "pong",
            Self::Heartbeat { .. } => "heartbeat",
            Self::Subscribed { .. } => "subscribed",
            Self::Unsubscribed { .. } => "unsubscribed",
            Self::Stats { .. } => "stats",
            Self::Notification(_) => "notification",
            Self::Error { .. } => "error",
        }
    }

    /// An `error` message.
    pub(crate) fn error(refusal: Refusal, action: Option<&'static str>) -> Self {
        Self::Error {
            code: refusal.code,
            message: refusal.message,
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn code(text: &str) -> &'static str {
        parse(text).unwrap_err().code
    }

    #[test]
    fn every_action_reads() {
        assert_eq!(parse(r#"{"action":"ping"}"#), Ok(ClientMessage::Ping));
        assert_eq!(
            parse(r#"{"action":"get_stats"}"#),
            Ok(ClientMessage::GetStats)
        );
        assert_eq!(
            parse(r#"{"action":"auth","token":"t"}"#),
            Ok(ClientMessage::Auth { token: "t".into() })
        );
        assert_eq!(
            parse(r#"{"events":["couple","user","couple"],"action":"subscribe"}"#),
            Ok(ClientMessage::Subscribe(vec![
                TopicKind::Couple,
                TopicKind::User
            ]))
        );
        assert_eq!(
            parse(r#"{"action":"unsubscribe","events":["user"]}"#),
            Ok(ClientMessage::Unsubscribe(vec![TopicKind::User]))
        );
    }

    #[test]
    fn malformed_messages_are_refused_with_their_codes() {
        assert_eq!(code("{"), "invalid_json");
        assert_eq!(code("[]"), "invalid_message");
        assert_eq!(code(r#"{"events":["user"]}"#), "invalid_message");
        assert_eq!(code(r#"{"action":7}"#), "invalid_message");
        assert_eq!(code(r#"{"action":"shout"}"#), "unknown_action");
        assert_eq!(code(r#"{"action":"ping","loud":true}"#), "unknown_field");
        assert_eq!(code(r#"{"action":"subscribe"}"#), "invalid_message");
        assert_eq!(
            code(r#"{"action":"subscribe","events":"user"}"#),
            "invalid_message"
        );
        assert_eq!(
            code(r#"{"action":"subscribe","events":[]}"#),
            "invalid_message"
        );
        assert_eq!(
            code(r#"{"action":"subscribe","events":["tenant"]}"#),
            "unknown_topic"
        );
        assert_eq!(code(r#"{"action":"auth"}"#), "invalid_message");
        let long = format!(r#"{{"action":"{}"}}"#, "x".repeat(1000));
        assert!(parse(&long).unwrap_err().message.len() < 200);
    }

    #[test]
    fn server_messages_have_the_documented_shapes() {
        let n = ServerMessage::Notification(Notification::Changes {
            topic: "couple",
            cursor: "42".into(),
        });
        assert_eq!(
            serde_json::to_value(&n).unwrap(),
            json!({"type": "notification", "event": "changes", "topic": "couple", "cursor": "42"})
        );
        assert_eq!(
            serde_json::to_value(ServerMessage::Notification(Notification::Resync {})).unwrap(),
            json!({"type": "notification", "event": "resync"})
        );
        let e = ServerMessage::error(Refusal::new("unknown_topic", "no"), Some("subscribe"));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"type": "error", "code": "unknown_topic", "message": "no", "action": "subscribe"})
        );
        assert_eq!(e.kind(), "error");
    }

    /// One message of every kind the server sends, as it serialises them.
    fn every_server_message() -> Vec<ServerMessage> {
        let (id, now) = (Uuid::from_u128(7), Utc::now());
        vec![
            ServerMessage::Connection {
                message: "connected",
                connection_id: id,
                user_id: Uuid::now_v7(),
                heartbeat_interval: 30,
                topics: vec!["user", "couple"],
                subscriptions: vec![],
            },
            ServerMessage::Pong { timestamp: now },
            ServerMessage::Heartbeat { timestamp: now },
            ServerMessage::Subscribed {
                topics: vec!["couple"],
                subscriptions: vec!["user", "couple"],
            },
            ServerMessage::Unsubscribed {
                topics: vec!["user"],
                subscriptions: vec![],
            },
            ServerMessage::Stats {
                connection_id: id,
                connections: 2,
                subscriptions: vec!["couple"],
                connected_at: now,
                messages_received: 4,
                messages_sent: 9,
            },
            ServerMessage::Notification(Notification::Changes {
                topic: "couple",
                cursor: "17".into(),
            }),
            ServerMessage::Notification(Notification::Unsubscribed {
                topic: "couple",
                reason: "couple_ended",
            }),
            ServerMessage::Notification(Notification::Resync {}),
            ServerMessage::error(Refusal::new("unknown_topic", "no such topic"), None),
            ServerMessage::error(Refusal::new("not_in_couple", "no"), Some("subscribe")),
        ]
    }

    #[test]
    fn every_server_message_meets_its_schema_in_docs_realtime() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/realtime/server");
        let mut used = std::collections::BTreeSet::new();
        for message in every_server_message() {
            let value = serde_json::to_value(&message).unwrap();
            let name = match value["event"].as_str() {
                Some(event) => format!("notification-{event}"),
                None => message.kind().to_owned(),
            };
            let path = dir.join(format!("{name}.json"));
            let schema: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&schema)
                .unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{value} against {name}: {errors:?}");
            used.insert(name);
        }
        let files: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            used, files,
            "a schema per message, and no schema of a message never sent"
        );
    }

    #[test]
    fn the_error_schema_lists_every_code_the_connection_uses() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/realtime/server/error.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let documented: Vec<&str> = schema["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let sources = [include_str!("protocol.rs"), include_str!("connection.rs")];
        let used = regex::Regex::new(r#"Refusal::new\(\s*"([a-z_]+)""#).unwrap();
        let mut found = std::collections::BTreeSet::new();
        for source in sources {
            for c in used.captures_iter(source) {
                found.insert(c[1].to_owned());
            }
        }
        // This test's own sample codes are documented ones too.
        for code in &found {
            assert!(
                documented.contains(&code.as_str()),
                "{code} is not in error.json"
            );
        }
        assert!(found.len() >= 10, "{found:?}");
    }
}
