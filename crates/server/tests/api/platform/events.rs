//! End to end: two `accueil` processes on one PostgreSQL database hear each other's events,
//! and each one's `/ready` reports its own event listener: down while PostgreSQL has dropped
//! it, back once it listens again.
//!
//! Without a realtime connection to watch, the events show in the instances' counters
//! (`/metrics`): an instance's `accueil_events_received_total` counts what reached its
//! subscribers' side, whichever instance published it.

use std::os::unix::process::ExitStatusExt as _;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::common::instances::{Instance, Instances};

const LISTENER: &str = "accueil-events-listener";
const PUBLISHER: &str = "accueil-events-publisher";

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut cond: impl FnMut() -> F) {
    let deadline = Duration::from_secs(15);
    let started = Instant::now();
    while !cond().await {
        assert!(
            started.elapsed() < deadline,
            "not within {deadline:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ends every session of `email` through `via`, and checks that `hears` counted one more event
/// (the `UserSessionsEnded` that `via` published).
async fn logout_all_is_heard(via: &Instance, hears: &Instance, email: &str) {
    let before = hears.metric("accueil_events_received_total").await;
    let token = via.login(email).await.access;
    let res = via
        .client
        .post(via.url("/api/v1/auth/logout-all"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    until(
        &format!("{} hears {}'s event", hears.name, via.name),
        || async { hears.metric("accueil_events_received_total").await >= before + 1.0 },
    )
    .await;
}

#[tokio::test]
async fn two_instances_share_events_and_each_ready_reports_its_listener() {
    let Some(mut set) = Instances::postgres(2, &[]).await else {
        return;
    };
    // One listener and one publisher connection per instance, named for operators.
    let listeners = set.backends(LISTENER).await;
    assert_eq!(listeners.len(), 2, "{listeners:?}");
    assert_eq!(set.backends(PUBLISHER).await.len(), 2);
    for i in &set.instances {
        assert_eq!(i.ready().await.0, StatusCode::OK, "{}", i.name);
        assert_eq!(i.metric("accueil_events_bus_up").await, 1.0, "{}", i.name);
    }

    // One database: an account made on A signs in on B, and sessions ended through B end on A
    // too, and A hears of it (which is what closes its realtime connections at once).
    let (a, b) = (&set[0], &set[1]);
    a.register("ann@example.com").await;
    let on_a = a.login("ann@example.com").await;
    let me = |i: &Instance, token: &str| {
        i.client
            .get(i.url("/api/v1/users/me"))
            .bearer_auth(token.to_owned())
            .send()
    };
    assert_eq!(me(a, &on_a.access).await.unwrap().status(), StatusCode::OK);
    let published = b.metric("accueil_events_published_total").await;
    logout_all_is_heard(b, a, "ann@example.com").await;
    assert!(b.metric("accueil_events_published_total").await > published);
    assert_eq!(
        me(a, &on_a.access).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    logout_all_is_heard(a, b, "ann@example.com").await;

    // PostgreSQL drops A's listener and, for a while, refuses new connections (what a restart
    // does to it; A started first, so its listener is the older connection). A's /ready says
    // so; B, whose listener was not touched, stays ready.
    let a_listener = listeners[0];
    set.sql(&format!(
        "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS false",
        set.db_name
    ))
    .await;
    set.sql(&format!("SELECT pg_terminate_backend({a_listener})"))
        .await;
    let (a, b) = (&set[0], &set[1]);
    until("A's /ready reports its listener", || async {
        a.ready().await.0 == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let (_, problem) = a.ready().await;
    assert_eq!(problem["code"], "service_unavailable");
    let events = problem["checks"]["events"].as_str().unwrap();
    assert!(
        events.starts_with("event listener reconnecting since "),
        "{problem}"
    );
    assert_eq!(problem["checks"]["database"], "ok", "{problem}");
    assert_eq!(a.metric("accueil_events_bus_up").await, 0.0);
    assert_eq!(b.ready().await.0, StatusCode::OK, "B is not concerned");

    set.sql(&format!(
        "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true",
        set.db_name
    ))
    .await;
    let (a, b) = (&set[0], &set[1]);
    a.wait_ready_within(Duration::from_secs(15)).await;
    let now = set.backends(LISTENER).await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(!now.contains(&a_listener), "A listens on a new connection");
    assert_eq!(a.metric("accueil_events_bus_up").await, 1.0);
    logout_all_is_heard(b, a, "ann@example.com").await;

    // A stops gracefully, B is killed as in a crash: either way their connections go.
    let status = set.instances[0].stop().await;
    assert!(status.success(), "{status}: {}", set[0].logs());
    let status = set.instances[1].kill().await;
    assert_eq!(status.signal(), Some(9));
    until("the instances' bus connections are gone", || async {
        set.backends(LISTENER).await.is_empty() && set.backends(PUBLISHER).await.is_empty()
    })
    .await;
}

/// The command line runs the same use cases, so its events reach the running instances too:
/// `accueil disable-user` ends the account's sessions, and the server hears of it: the
/// command's bus sends what is queued before the process exits.
#[tokio::test]
async fn the_command_line_publishes_to_running_instances() {
    let Some(set) = Instances::postgres(1, &[]).await else {
        return;
    };
    let a = &set[0];
    a.register("bea@example.com").await;
    let before = a.metric("accueil_events_received_total").await;
    let (url, dir) = (set.db_url.clone(), tempfile::tempdir().unwrap());
    let data = dir.path().display().to_string();
    let out = tokio::task::spawn_blocking(move || {
        crate::cli::accueil(
            &["disable-user", "--email", "bea@example.com"],
            &[
                ("DATABASE_URL", url.as_str()),
                ("ACCUEIL_DATA_DIR", data.as_str()),
                ("ACCUEIL_JWT_SECRET", crate::common::SECRET),
            ],
            "",
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    until("the server hears the command's event", || async {
        a.metric("accueil_events_received_total").await >= before + 1.0
    })
    .await;
}
