//! The PostgreSQL bus against a real server: two buses on one database stand for two
//! instances. Each test has its own database (skipped without PostgreSQL unless
//! `REQUIRE_POSTGRES=1`), so what a test does to its connections (terminating them, refusing
//! new ones) never touches another test's.
//!
//! A PostgreSQL restart is played on the test's own database: `ALTER DATABASE ...
//! ALLOW_CONNECTIONS false` refuses new connections (superusers included) and
//! `pg_terminate_backend` ends the bus's backends, which is what a restart does to its
//! clients; allowing connections again is the server coming back.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write as _;
use std::time::{Duration, Instant};

use accueil_domain::couples::CoupleId;
use accueil_domain::events::Event;
use accueil_domain::identity::UserId;
use accueil_events::{LISTENER_APPLICATION_NAME, PUBLISHER_APPLICATION_NAME, PgBus, PgBusOptions};
use accueil_ports::events::{Delivery, EventBus, Subscription};
use accueil_store_diesel::testing::{self, TestStore};
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

const DEADLINE: Duration = Duration::from_secs(10);

struct Db {
    _store: TestStore,
    url: String,
    name: String,
}

async fn database() -> Option<Db> {
    let store = tokio::task::spawn_blocking(testing::postgres)
        .await
        .unwrap()?;
    let url = store.url();
    let name = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    Some(Db {
        _store: store,
        url,
        name,
    })
}

fn options(db: &Db) -> PgBusOptions {
    PgBusOptions {
        ping: Duration::from_millis(500),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(250),
        ..PgBusOptions::new(&db.url)
    }
}

/// Runs blocking database work off the test's runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn admin() -> PgConnection {
    PgConnection::establish(&testing::admin_url()).unwrap()
}

/// What a PostgreSQL restart does to the bus's clients: their backends end and, until it is
/// back, new connections are refused. `only` narrows it to one application name.
async fn go_away(db: &Db, only: Option<&'static str>) {
    let name = db.name.clone();
    blocking(move || {
        let mut c = admin();
        diesel::sql_query(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"))
            .execute(&mut c)
            .unwrap();
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND application_name LIKE $2",
        )
        .bind::<Text, _>(&name)
        .bind::<Text, _>(only.unwrap_or("accueil-events-%"))
        .execute(&mut c)
        .unwrap();
    })
    .await;
}

async fn come_back(db: &Db) {
    let name = db.name.clone();
    blocking(move || {
        diesel::sql_query(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
            .execute(&mut admin())
            .unwrap();
    })
    .await;
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The backends of the database with this application name.
async fn backends(db: &Db, application_name: &'static str) -> i64 {
    let name = db.name.clone();
    blocking(move || {
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = $1 AND application_name = $2",
        )
        .bind::<Text, _>(&name)
        .bind::<Text, _>(application_name)
        .get_result::<Count>(&mut admin())
        .unwrap()
        .n
    })
    .await
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// The backend ids of the database's listeners: the same ids later mean that no listener
/// reconnected in between.
async fn listener_pids(db: &Db) -> Vec<i32> {
    let name = db.name.clone();
    blocking(move || {
        diesel::sql_query(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = $1 AND application_name = $2 ORDER BY pid",
        )
        .bind::<Text, _>(&name)
        .bind::<Text, _>(LISTENER_APPLICATION_NAME)
        .load::<Pid>(&mut admin())
        .unwrap()
        .into_iter()
        .map(|p| p.pid)
        .collect()
    })
    .await
}

/// Polls `cond` until it holds, failing after [`DEADLINE`].
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut cond: impl FnMut() -> F) {
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < DEADLINE,
            "not within {DEADLINE:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn listening(bus: &PgBus) {
    until("the listener listens", || async { bus.health().is_ok() }).await;
}

async fn next(sub: &mut Box<dyn Subscription>) -> Delivery {
    tokio::time::timeout(DEADLINE, sub.next())
        .await
        .expect("a delivery in time")
        .expect("the bus is running")
}

/// The next delivery that is not `skip`.
async fn next_but(sub: &mut Box<dyn Subscription>, skip: Event) -> Delivery {
    loop {
        match next(sub).await {
            Delivery::Event(e) if e == skip => continue,
            d => return d,
        }
    }
}

fn changed(cursor: i64) -> Event {
    Event::CoupleChanged {
        couple: CoupleId(uuid::Uuid::from_u128(0xc0)),
        cursor,
    }
}

fn ended(n: u128) -> Event {
    Event::UserSessionsEnded {
        user: UserId(uuid::Uuid::from_u128(n)),
    }
}

async fn notify(db: &Db, payloads: &[&str]) {
    let (url, payloads): (String, Vec<String>) = (
        db.url.clone(),
        payloads.iter().map(|p| (*p).to_owned()).collect(),
    );
    blocking(move || {
        let mut c = PgConnection::establish(&url).unwrap();
        for p in payloads {
            diesel::sql_query("SELECT pg_notify('accueil_events', $1)")
                .bind::<Text, _>(p)
                .execute(&mut c)
                .unwrap();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_on_one_instance_reaches_the_other_once() {
    let Some(db) = database().await else { return };
    let (a, b) = (
        PgBus::start(options(&db)).unwrap(),
        PgBus::start(options(&db)).unwrap(),
    );
    listening(&a).await;
    listening(&b).await;
    let (mut sa, mut sb) = (a.subscribe(), b.subscribe());

    let mut latencies = Vec::new();
    for n in 0..100 {
        let e = changed(n);
        let sent = Instant::now();
        a.publish(vec![e]);
        assert_eq!(next(&mut sb).await, Delivery::Event(e));
        latencies.push(sent.elapsed());
        assert_eq!(next(&mut sa).await, Delivery::Event(e), "at once, locally");
    }
    // Back to back, each publication lands just after B's listener read: the worst case of
    // the poll interval. Spread at random over it, the wait is half of it on average.
    let mut spread = Vec::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for n in 100..200 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        tokio::time::sleep(Duration::from_micros(state % 20_000)).await;
        let e = changed(n);
        let sent = Instant::now();
        a.publish(vec![e]);
        assert_eq!(next(&mut sb).await, Delivery::Event(e));
        spread.push(sent.elapsed());
        assert_eq!(next(&mut sa).await, Delivery::Event(e));
    }
    // A's own notifications came back to it too; had it delivered them, its subscriber would
    // see them again before B's event, which PostgreSQL delivers after them.
    let from_b = ended(1);
    b.publish(vec![from_b]);
    assert_eq!(next(&mut sa).await, Delivery::Event(from_b));
    assert_eq!(next(&mut sb).await, Delivery::Event(from_b));

    let (sa_stats, sb_stats) = (a.stats(), b.stats());
    assert_eq!((sa_stats.published, sa_stats.received), (200, 201));
    assert_eq!((sb_stats.published, sb_stats.received), (1, 201));
    assert_eq!((sa_stats.dropped, sa_stats.resyncs), (0, 0));

    let poll = PgBusOptions::new("").poll;
    for (what, mut l) in [("back to back", latencies), ("spread", spread)] {
        l.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mean = l.iter().sum::<Duration>() / l.len() as u32;
        // Straight to the terminal: the harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "PgBus A -> B latency, 100 events {what} (poll {poll:?}): min {:.1} ms, mean {:.1} ms, \
             p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            ms(l[0]),
            ms(mean),
            ms(l[49]),
            ms(l[94]),
            ms(l[99])
        );
        assert!(
            l[49] < Duration::from_millis(250),
            "{what}: p50 {:?}",
            l[49]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_senders_gaps_resync_while_repeats_garbage_and_echoes_are_skipped() {
    let Some(db) = database().await else { return };
    let b = PgBus::start(options(&db)).unwrap();
    listening(&b).await;
    let mut sb = b.subscribe();
    let id = |n: u128| uuid::Uuid::from_u128(n).simple().to_string();
    let (u1, u2, u3, u4, u5) = (id(1), id(2), id(3), id(4), id(5));
    notify(
        &db,
        &[
            &format!("v1 other 1 ue:{u1}"),
            "hello there",
            &format!("v2 other 2 ue:{u2}"),
            &format!("v1 other 2 ue:{u2} ue:nothex"),
            &format!("v1 other 2 ue:{u2}"),
            &format!("v1 other 2 ue:{u2}"),
            &format!("v1 other 5 ue:{u3}"),
            &format!("v1 {} 9 ue:{u4}", b.instance()),
            &format!("v1 other 6 ue:{u5}"),
            "v1 other 7",
        ],
    )
    .await;
    assert_eq!(next(&mut sb).await, Delivery::Event(ended(1)));
    assert_eq!(
        next(&mut sb).await,
        Delivery::Event(ended(2)),
        "a garbled payload is skipped whole, and does not count as the number it named"
    );
    assert_eq!(next(&mut sb).await, Delivery::Resync, "3 and 4 never came");
    assert_eq!(next(&mut sb).await, Delivery::Event(ended(3)));
    assert_eq!(
        next(&mut sb).await,
        Delivery::Event(ended(5)),
        "the repeat of 2 and B's own id are skipped"
    );
    // The bare mark 7 follows 6: nothing more to deliver, and no resync.
    notify(&db, &[&format!("v1 other 9 ue:{u4}")]).await;
    assert_eq!(next(&mut sb).await, Delivery::Resync, "8 never came");
    assert_eq!(next(&mut sb).await, Delivery::Event(ended(4)));
    assert!(b.health().is_ok(), "garbage never breaks the listener");
    assert_eq!(b.stats().resyncs, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_postgres_drops_the_bus_it_reconnects_subscribers_resync_and_events_flow() {
    let Some(db) = database().await else { return };
    let (a, b) = (
        PgBus::start(options(&db)).unwrap(),
        PgBus::start(options(&db)).unwrap(),
    );
    listening(&a).await;
    listening(&b).await;
    until("both publishers connected", || async {
        backends(&db, PUBLISHER_APPLICATION_NAME).await == 2
    })
    .await;
    let (mut sa, mut sb) = (a.subscribe(), b.subscribe());
    a.publish(vec![changed(1)]);
    assert_eq!(next(&mut sb).await, Delivery::Event(changed(1)));
    assert_eq!(next(&mut sa).await, Delivery::Event(changed(1)));

    go_away(&db, None).await;
    until("A's listener notices", || async { a.health().is_err() }).await;
    until("B's listener notices", || async { b.health().is_err() }).await;
    let why = a.health().unwrap_err();
    assert!(
        why.starts_with("event listener reconnecting since 20") && why.ends_with('Z'),
        "{why}"
    );

    // Local subscribers do not depend on PostgreSQL.
    let meanwhile = changed(2);
    a.publish(vec![meanwhile]);
    assert_eq!(next(&mut sa).await, Delivery::Event(meanwhile));
    assert!(
        a.health().is_err() && b.health().is_err(),
        "nobody gets in while connections are refused"
    );

    come_back(&db).await;
    listening(&a).await;
    listening(&b).await;
    assert_eq!(next(&mut sa).await, Delivery::Resync);
    // B may or may not hear the event A's publisher kept for the outage, depending on which of
    // them reconnected first; it resyncs either way.
    assert_eq!(next_but(&mut sb, meanwhile).await, Delivery::Resync);

    a.publish(vec![changed(3)]);
    assert_eq!(
        next_but(&mut sb, meanwhile).await,
        Delivery::Event(changed(3))
    );
    b.publish(vec![ended(7)]);
    assert_eq!(next(&mut sa).await, Delivery::Event(changed(3)));
    assert_eq!(next(&mut sa).await, Delivery::Event(ended(7)));
    assert_eq!(
        a.stats().dropped,
        0,
        "the publisher kept the event until PostgreSQL came back"
    );
    assert_eq!(backends(&db, LISTENER_APPLICATION_NAME).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_dropped_by_a_full_queue_are_counted_and_show_as_a_gap_elsewhere() {
    let Some(db) = database().await else { return };
    let a = PgBus::start(PgBusOptions {
        queue: 1,
        ..options(&db)
    })
    .unwrap();
    let b = PgBus::start(options(&db)).unwrap();
    listening(&a).await;
    listening(&b).await;
    until("A's publisher connected", || async {
        backends(&db, PUBLISHER_APPLICATION_NAME).await == 2
    })
    .await;
    let mut sb = b.subscribe();
    a.publish(vec![changed(0)]);
    assert_eq!(next(&mut sb).await, Delivery::Event(changed(0)));

    // Only the publishers lose their connection: the listeners are never interrupted, so a
    // resync B announces can only come from the gap.
    let listeners = listener_pids(&db).await;
    assert_eq!(listeners.len(), 2);
    go_away(&db, Some(PUBLISHER_APPLICATION_NAME)).await;
    let started = Instant::now();
    for n in 1..=50 {
        a.publish(vec![changed(n)]);
    }
    for n in 0..10_000 {
        a.publish(vec![ended(n)]);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "publishing never waits: {took:?}"
    );
    let dropped = a.stats().dropped;
    assert!(dropped >= 10_000, "{dropped}");
    assert!(b.health().is_ok());

    come_back(&db).await;
    let mut seen = Vec::new();
    let last = changed(99);
    let mut published_last = false;
    loop {
        if !published_last && seen.contains(&Delivery::Resync) {
            a.publish(vec![last]);
            published_last = true;
        }
        let d = next(&mut sb).await;
        seen.push(d);
        if d == Delivery::Event(last) {
            break;
        }
    }
    // One gap or two: the publisher may have taken its queue's batch before or after some of
    // the refusals.
    let resyncs = seen.iter().filter(|d| **d == Delivery::Resync).count() as u64;
    assert!((1..=2).contains(&resyncs), "{seen:?}");
    assert_eq!(b.stats().resyncs, resyncs);
    assert!(b.health().is_ok());
    assert_eq!(
        listener_pids(&db).await,
        listeners,
        "no listener reconnected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_named_and_dropping_the_bus_closes_them() {
    let Some(db) = database().await else { return };
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}application_name=someone-else", db.url);
    let bus = PgBus::start(PgBusOptions {
        url,
        ..options(&db)
    })
    .unwrap();
    listening(&bus).await;
    until("both connections show", || async {
        backends(&db, LISTENER_APPLICATION_NAME).await == 1
            && backends(&db, PUBLISHER_APPLICATION_NAME).await == 1
    })
    .await;
    let mut sub = bus.subscribe();
    bus.publish(vec![changed(5)]);
    let took = blocking(move || {
        let started = Instant::now();
        drop(bus);
        started.elapsed()
    })
    .await;
    assert!(took < Duration::from_secs(2), "stopping took {took:?}");
    assert_eq!(next(&mut sub).await, Delivery::Event(changed(5)));
    assert_eq!(
        tokio::time::timeout(DEADLINE, sub.next()).await.unwrap(),
        None,
        "the bus is gone"
    );
    until("the bus's backends are gone", || async {
        backends(&db, LISTENER_APPLICATION_NAME).await == 0
            && backends(&db, PUBLISHER_APPLICATION_NAME).await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_bus_says_so_and_still_serves_its_own_subscribers() {
    let Some(db) = database().await else { return };
    let bus = PgBus::start(options(&db)).unwrap();
    listening(&bus).await;
    let mut sub = bus.subscribe();
    let bus = blocking(move || {
        bus.stop();
        bus
    })
    .await;
    assert_eq!(bus.health(), Err("event listener stopped".into()));
    bus.publish(vec![changed(1)]);
    assert_eq!(next(&mut sub).await, Delivery::Event(changed(1)));
    assert_eq!(bus.stats().dropped, 1, "the other instances are not told");
}

#[test]
fn a_bus_that_cannot_reach_postgres_says_it_is_connecting() {
    let bus = PgBus::start(PgBusOptions {
        connect_timeout: Duration::from_secs(1),
        ..PgBusOptions::new("postgres://nobody@127.0.0.1:1/none")
    })
    .unwrap();
    let why = bus.health().unwrap_err();
    assert!(why.starts_with("event listener connecting since "), "{why}");
    let started = Instant::now();
    drop(bus);
    assert!(started.elapsed() < Duration::from_secs(3));
}
