//! docs/realtime/'s schemas: valid draft 2020-12 schemas whose examples they accept, and met by
//! every message a real server sends (each received message is checked by [`super::Ws`]; this
//! flow makes the server send each type at least once).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use super::{SOON, Ws, schemas};
use crate::common::{Db, TestServer, call, paired};

#[test]
fn every_schema_is_draft_2020_12_and_accepts_its_examples() {
    assert!(schemas().len() >= 15, "a schema per message");
    for (name, (schema, validator)) in schemas() {
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert!(
            jsonschema::meta::is_valid(schema),
            "{name} is not a valid schema"
        );
        let examples = schema["examples"].as_array().unwrap();
        assert!(!examples.is_empty(), "{name} has an example");
        for example in examples {
            assert!(validator.is_valid(example), "{name}: {example}");
        }
        // Strict, as the server is: an unknown field is refused.
        let mut extra = examples[0].clone();
        extra["unexpected"] = json!(1);
        assert!(!validator.is_valid(&extra), "{name} accepts unknown fields");
    }
}

#[tokio::test]
async fn a_real_server_sends_every_documented_message() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_WS_HEARTBEAT", "300ms")])
        .await
        .unwrap();
    let (ann, bob) = paired(&s, "ann@example.org", "bob@example.org").await;
    let (mut a, _) = Ws::open(&s, &ann).await;
    a.send(json!({"action": "ping"})).await;
    a.expect("pong").await;
    a.subscribe(&["couple", "user"]).await;
    a.send(json!({"action": "unsubscribe", "events": ["user"]}))
        .await;
    a.expect("unsubscribed").await;
    a.send(json!({"action": "get_stats"})).await;
    a.expect("stats").await;
    a.send_text("{").await;
    a.expect("error").await;
    call(
        &s,
        Method::POST,
        "/api/v1/qna/questions",
        &bob,
        Some(json!({"text": "Tea or coffee?", "theme": "travel"})),
    )
    .await;
    call(&s, Method::POST, "/api/v1/couple/leave", &bob, None).await;
    let deadline = tokio::time::Instant::now() + SOON;
    let wanted: BTreeSet<String> = schemas()
        .keys()
        .filter(|k| k.starts_with("server/"))
        // A resynchronisation needs a lagging connection or a bus that lost events; its
        // message is checked against its schema in the http crate's protocol tests.
        .filter(|k| *k != "server/notification-resync")
        .cloned()
        .collect();
    while !wanted.is_subset(&a.seen) && tokio::time::Instant::now() < deadline {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        a.recv(left).await;
    }
    let missing: Vec<&String> = wanted.difference(&a.seen).collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
}
