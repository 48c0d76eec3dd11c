//! The first users of realtime: a couple's subscribers hear that its change feed advanced, from
//! the couples app and the memories site alike, only after a commit, and only its partners.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{WITHIN, Ws};
use crate::common::{TestServer, call, feed_after, json_of, paired, user};

/// The feed's cursor now, as the partner's client would read it.
async fn feed_cursor(s: &TestServer, token: &str) -> String {
    let (_, feed) = feed_after(s, token, "0").await;
    feed["next_cursor"].as_str().unwrap().to_owned()
}

async fn question(s: &TestServer, token: &str, text: &str) -> Value {
    json_of(
        call(
            s,
            Method::POST,
            "/api/v1/qna/questions",
            token,
            Some(json!({"text": text, "theme": "travel"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

/// The next `changes` notification, within a second.
async fn changes(ws: &mut Ws) -> String {
    let n = ws.expect_within("notification", WITHIN).await;
    assert_eq!(
        (n["event"].as_str(), n["topic"].as_str()),
        (Some("changes"), Some("couple"))
    );
    n["cursor"].as_str().unwrap().to_owned()
}

async fn partners_hear_each_other(s: &TestServer) {
    let (ann, bob) = paired(s, "ann@example.org", "bob@example.org").await;
    let (mut a, _) = Ws::open(s, &ann).await;
    let sub = a.subscribe(&["couple"]).await;
    assert_eq!(sub["topics"], json!(["couple"]));
    assert_eq!(sub["subscriptions"], json!(["couple"]));

    // The couples app.
    question(s, &bob, "Where should we travel next?").await;
    let cursor = changes(&mut a).await;
    assert_eq!(
        cursor,
        feed_cursor(s, &ann).await,
        "the feed's cursor, no content"
    );

    // The memories site writes to the same feed.
    json_of(
        call(
            s,
            Method::POST,
            "/api/v1/memories",
            &bob,
            Some(json!({"title": "The first dinner", "description": "Pasta."})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let next = changes(&mut a).await;
    assert!(next.parse::<i64>().unwrap() > cursor.parse::<i64>().unwrap());
    assert_eq!(next, feed_cursor(s, &ann).await);
}

on_both_backends!(partners_hear_each_other => partners_hear_each_other_sqlite, partners_hear_each_other_postgres);

#[tokio::test]
async fn a_write_refused_in_its_unit_of_work_publishes_nothing() {
    let s = TestServer::start().await;
    let (ann, bob) = paired(&s, "ann@example.org", "bob@example.org").await;
    let (mut a, _) = Ws::open(&s, &ann).await;
    a.subscribe(&["couple"]).await;
    let q = question(&s, &ann, "Mountains or the sea?").await;
    changes(&mut a).await;
    let id = q["id"].as_str().unwrap();
    // Only its author may change a question: refused inside the unit of work, rolled back.
    let res = call(
        &s,
        Method::PATCH,
        &format!("/api/v1/qna/questions/{id}"),
        &bob,
        Some(json!({"text": "Neither"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    a.quiet(WITHIN).await;
    json_of(
        call(
            &s,
            Method::POST,
            &format!("/api/v1/qna/questions/{id}/answers"),
            &bob,
            Some(json!({"status": "ANSWERED", "text": "The sea"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changes(&mut a).await, feed_cursor(&s, &ann).await);
}

#[tokio::test]
async fn a_third_user_cannot_hear_the_couple() {
    let s = TestServer::start().await;
    let (ann, bob) = paired(&s, "ann@example.org", "bob@example.org").await;
    let eve = user(&s, "eve@example.org").await;
    let (mut e, _) = Ws::open(&s, &eve).await;
    e.send(json!({"action": "subscribe", "events": ["couple"]}))
        .await;
    let refused = e.expect("error").await;
    assert_eq!(
        (refused["code"].as_str(), refused["action"].as_str()),
        (Some("not_in_couple"), Some("subscribe"))
    );
    e.send(json!({"action": "subscribe", "events": ["user", "couple"]}))
        .await;
    assert_eq!(e.expect("subscribed").await["topics"], json!(["user"]));
    assert_eq!(e.expect("error").await["code"], "not_in_couple");

    let (mut a, _) = Ws::open(&s, &ann).await;
    a.subscribe(&["couple"]).await;
    question(&s, &bob, "Shall we adopt a cat?").await;
    changes(&mut a).await;
    e.quiet(WITHIN).await;
    e.send(json!({"action": "get_stats"})).await;
    assert_eq!(e.expect("stats").await["subscriptions"], json!(["user"]));
}

#[tokio::test]
async fn leaving_the_couple_ends_the_subscription() {
    let s = TestServer::start().await;
    let (ann, bob) = paired(&s, "ann@example.org", "bob@example.org").await;
    let (mut a, _) = Ws::open(&s, &ann).await;
    a.subscribe(&["couple", "user"]).await;
    let res = call(&s, Method::POST, "/api/v1/couple/leave", &bob, None).await;
    assert!(res.status().is_success(), "{}", res.status());
    // The couple's last change comes first, then the end of the subscription.
    let ended = loop {
        let n = a.expect_within("notification", WITHIN).await;
        if n["event"] != "changes" {
            break n;
        }
    };
    assert_eq!(
        ended,
        json!({"type": "notification", "event": "unsubscribed", "topic": "couple", "reason": "couple_ended"})
    );
    a.send(json!({"action": "get_stats"})).await;
    assert_eq!(a.expect("stats").await["subscriptions"], json!(["user"]));
    a.send(json!({"action": "subscribe", "events": ["couple"]}))
        .await;
    assert_eq!(a.expect("error").await["code"], "not_in_couple");
}
