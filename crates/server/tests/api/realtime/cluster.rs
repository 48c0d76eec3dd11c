//! End to end on PostgreSQL with two `accueil` processes on one database: a socket on instance
//! A hears a write made through instance B; when PostgreSQL drops A's event listener and
//! refuses connections for a while (what a restart does to it), A's socket is told to
//! resynchronise once A listens again, and events flow again.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::Ws;
use crate::common::instances::{Instance, Instances};
use crate::common::private_pg::PrivatePg;

/// Across processes the event also crosses PostgreSQL (a 20 ms poll): still well within this.
const ACROSS: Duration = Duration::from_secs(2);

async fn call(i: &Instance, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let mut req = i.client.request(method, i.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

async fn question(via: &Instance, token: &str, text: &str) {
    call(
        via,
        Method::POST,
        "/api/v1/qna/questions",
        token,
        Some(json!({"text": text, "theme": "travel"})),
    )
    .await;
}

/// The feed's cursor now, read through `via`.
async fn cursor(via: &Instance, token: &str) -> String {
    let feed = call(
        via,
        Method::GET,
        "/api/v1/sync/changes?cursor=0",
        token,
        None,
    )
    .await;
    feed["next_cursor"].as_str().unwrap().to_owned()
}

/// Waits until the socket hears that the couple's feed reached `cursor`. An earlier write's
/// notification may come first (the pairing's, published through the other instance, can
/// cross PostgreSQL after the subscription): it must not be past `cursor`.
async fn hears(ws: &mut Ws, cursor: &str) {
    let wanted: i64 = cursor.parse().unwrap();
    loop {
        let n = ws.expect_within("notification", ACROSS).await;
        assert_eq!(n["event"], "changes", "{n}");
        assert_eq!(n["topic"], "couple", "{n}");
        let heard: i64 = n["cursor"].as_str().unwrap().parse().unwrap();
        assert!(heard <= wanted, "{n} is past {cursor}");
        if heard == wanted {
            return;
        }
    }
}

/// Ann (signed in on A) and Bob (on B) pair; Ann's socket is on A, subscribed to the couple,
/// with a ticket asked of B (one database, any instance). Returns their tokens and the socket.
async fn paired_with_a_socket_on_a(a: &Instance, b: &Instance) -> (String, String, Ws) {
    a.register("ann@example.com").await;
    b.register("bob@example.com").await;
    let ann = a.login("ann@example.com").await.access;
    let bob = b.login("bob@example.com").await.access;
    call(a, Method::POST, "/api/v1/couple", &ann, None).await;
    let invite = call(a, Method::POST, "/api/v1/couple/invite", &ann, None).await;
    call(
        b,
        Method::POST,
        "/api/v1/couple/join",
        &bob,
        Some(json!({"code": invite["code"]})),
    )
    .await;
    let ticket = call(b, Method::POST, "/api/v1/ws/ticket", &ann, None).await;
    let mut ws = Ws::connect_to(
        &a.base,
        &format!("?ticket={}", ticket["ticket"].as_str().unwrap()),
    )
    .await;
    ws.expect("connection").await;
    ws.subscribe(&["couple"]).await;
    (ann, bob, ws)
}

#[tokio::test]
async fn a_socket_hears_writes_through_another_instance_and_resyncs_after_a_listener_loss() {
    let Some(set) = Instances::postgres(2, &[]).await else {
        return;
    };
    let (a, b) = (&set[0], &set[1]);
    let (_, bob, mut ws) = paired_with_a_socket_on_a(a, b).await;

    // Bob writes through B: A's socket hears it, with B's cursor.
    question(b, &bob, "Where should we travel next?").await;
    hears(&mut ws, &cursor(b, &bob).await).await;

    // PostgreSQL drops A's listener (A started first: its listener is the older connection)
    // and refuses new connections for a while.
    let listeners = set.backends("accueil-events-listener").await;
    assert_eq!(listeners.len(), 2, "{listeners:?}");
    set.sql(&format!(
        "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS false",
        set.db_name
    ))
    .await;
    set.sql(&format!("SELECT pg_terminate_backend({})", listeners[0]))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while a.ready().await.0 != StatusCode::SERVICE_UNAVAILABLE {
        assert!(tokio::time::Instant::now() < deadline, "A never noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    set.sql(&format!(
        "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true",
        set.db_name
    ))
    .await;

    // Back: the socket is told to re-read (it may have missed events meanwhile) ...
    let n = ws
        .expect_within("notification", Duration::from_secs(15))
        .await;
    assert_eq!(n["event"], "resync", "{n}");
    a.wait_ready_within(Duration::from_secs(15)).await;
    // ... and events flow again.
    question(b, &bob, "And after that?").await;
    hears(&mut ws, &cursor(b, &bob).await).await;
    ws.close().await;
}

/// A real restart of PostgreSQL (a private server, so the other tests' server is not
/// disturbed): every connection of both instances is terminated, the listeners, the
/// publishers and the pools'. Both instances come back by themselves: A's socket is told to
/// re-read, both are ready again, and a write through either is heard on A's socket.
#[tokio::test]
async fn after_a_postgresql_restart_sockets_resync_and_both_instances_serve_again() {
    let Some(pg) = tokio::task::spawn_blocking(PrivatePg::start).await.unwrap() else {
        return;
    };
    let url = pg.url();
    let a = Instance::spawn("a", &url, &[]).await;
    a.wait_ready().await;
    let b = Instance::spawn("b", &url, &[]).await;
    b.wait_ready().await;
    let (ann, bob, mut ws) = paired_with_a_socket_on_a(&a, &b).await;
    question(&b, &bob, "Before the restart?").await;
    hears(&mut ws, &cursor(&b, &bob).await).await;

    let pg = tokio::task::spawn_blocking(move || {
        pg.restart();
        pg
    })
    .await
    .unwrap();

    let n = ws
        .expect_within("notification", Duration::from_secs(15))
        .await;
    assert_eq!(n["event"], "resync", "{n}");
    a.wait_ready_within(Duration::from_secs(15)).await;
    b.wait_ready_within(Duration::from_secs(15)).await;
    // Both pools and both buses work again: a write through B, then one through A.
    question(&b, &bob, "After the restart?").await;
    hears(&mut ws, &cursor(&b, &bob).await).await;
    question(&a, &ann, "And through A?").await;
    hears(&mut ws, &cursor(&a, &ann).await).await;
    // No unit of work failed on a connection the restart had closed: each was dropped at its
    // `BEGIN` and another taken.
    for i in [&a, &b] {
        assert!(
            !i.logs().contains("cannot begin transaction"),
            "{}",
            i.logs()
        );
    }
    ws.close().await;
    drop((a, b));
    drop(pg);
}
