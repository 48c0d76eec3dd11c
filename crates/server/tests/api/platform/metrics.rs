//! End to end: `GET /metrics`, scraped after real requests and read with a Prometheus
//! text-format parser; the `off` and `token` modes.

use std::collections::HashMap;

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{self, Db, TestServer};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

async fn scrape(s: &TestServer) -> Exposition {
    let res = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    parse_prometheus(&res.text().await.unwrap()).unwrap()
}

/// Every sample of a family: its labels and value.
fn samples(e: &Exposition, family: &str) -> Vec<(HashMap<String, String>, PrometheusValue)> {
    let f = e
        .families
        .get(family)
        .unwrap_or_else(|| panic!("no family {family}"));
    f.iter_samples()
        .map(|s| {
            let labels = s
                .get_labelset()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (labels, s.value.clone())
        })
        .collect()
}

/// The one sample of a family with exactly these labels.
fn sample(e: &Exposition, family: &str, labels: &[(&str, &str)]) -> Option<PrometheusValue> {
    let want: HashMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples(e, family)
        .into_iter()
        .find(|(l, _)| *l == want)
        .map(|(_, v)| v)
}

fn number(v: &PrometheusValue) -> f64 {
    match v {
        PrometheusValue::Counter(c) => c.value.as_f64(),
        PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
        other => panic!("not a number: {other:?}"),
    }
}

fn outbox(e: &Exposition, state: &str) -> f64 {
    number(&sample(e, "accueil_mail_outbox_entries", &[("state", state)]).unwrap())
}

async fn scraped_after_requests(s: &TestServer) {
    let before = scrape(s).await;
    for state in ["pending", "failed", "sent"] {
        assert_eq!(outbox(&before, state), 0.0, "{state}");
    }
    // Registering queues a verification mail per account; the worker delivers them.
    let (a, _) = common::paired(s, "metrics-a@example.org", "metrics-b@example.org").await;
    let goal = common::json_of(
        common::call(
            s,
            Method::POST,
            "/api/v1/goals",
            &a,
            Some(json!({"title": "Walk"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = goal["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/goals/{id}");
    for _ in 0..3 {
        let res = common::call(s, Method::GET, &path, &a, None).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = common::call(s, Method::HEAD, &path, &a, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = s.client.get(s.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A wrong method on /metrics is a problem with `Allow`, like on every documented path.
    let res = s.client.post(s.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    for junk in ["/nothing-here", "/api/v1/nothing/deeper", "/x/y/z"] {
        let res = s.client.get(s.url(junk)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    // The outbox drains: wait until nothing is pending.
    let mut after = scrape(s).await;
    for _ in 0..100 {
        if outbox(&after, "pending") == 0.0 && outbox(&after, "sent") >= 2.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        after = scrape(s).await;
    }
    assert_eq!(outbox(&after, "pending"), 0.0);
    assert!(outbox(&after, "sent") >= 2.0, "one verification mail each");
    assert_eq!(outbox(&after, "failed"), 0.0);

    // Requests count by route template, method and status; never by raw path.
    let requests = "accueil_http_requests_total";
    let route = "/api/v1/goals/{id}";
    let count = |labels: &[(&str, &str)]| sample(&after, requests, labels).map(|v| number(&v));
    assert_eq!(
        count(&[("route", route), ("method", "GET"), ("status", "200")]),
        Some(3.0)
    );
    assert_eq!(
        count(&[("route", route), ("method", "HEAD"), ("status", "200")]),
        Some(1.0)
    );
    assert_eq!(
        count(&[("route", route), ("method", "GET"), ("status", "401")]),
        Some(1.0)
    );
    assert_eq!(
        count(&[
            ("route", "/api/v1/goals"),
            ("method", "POST"),
            ("status", "201")
        ]),
        Some(1.0)
    );
    assert_eq!(
        count(&[("route", "unmatched"), ("method", "GET"), ("status", "404")]),
        Some(3.0),
        "every unknown path is one series"
    );
    for (labels, _) in samples(&after, requests) {
        assert!(
            labels.values().all(|v| !v.contains(&id)),
            "a raw path leaked into {labels:?}"
        );
    }

    // The latency histogram, with its buckets.
    let latency = sample(
        &after,
        "accueil_http_request_duration_seconds",
        &[("route", route), ("method", "GET")],
    )
    .unwrap();
    let PrometheusValue::Histogram(h) = latency else {
        panic!("not a histogram: {latency:?}")
    };
    assert_eq!(
        h.count,
        Some(4),
        "three 200s and the 401, by route and method"
    );
    assert!(h.buckets.len() >= 10, "{h:?}");
    assert!(h.buckets.iter().any(|b| b.upper_bound.is_infinite()));
    assert!(h.sum.unwrap().as_f64() > 0.0);

    // The scrape itself is in flight while it is answered.
    let in_flight = sample(&after, "accueil_http_requests_in_flight", &[]).unwrap();
    assert!(number(&in_flight) >= 1.0);

    // The pools, by name; every unit of work waited for its connection.
    let pools: &[&str] = if s.db_url.starts_with("postgres") {
        &["main"]
    } else {
        &["read", "write"]
    };
    for pool in pools {
        let max = sample(&after, "accueil_db_pool_max_connections", &[("pool", pool)]).unwrap();
        assert!(number(&max) >= 1.0, "{pool}");
        for state in ["idle", "in_use"] {
            assert!(
                sample(
                    &after,
                    "accueil_db_pool_connections",
                    &[("pool", pool), ("state", state)]
                )
                .is_some(),
                "{pool} {state}"
            );
        }
        let PrometheusValue::Histogram(wait) =
            sample(&after, "accueil_db_pool_wait_seconds", &[("pool", pool)]).unwrap()
        else {
            panic!("the wait is a histogram")
        };
        assert!(wait.count.unwrap() > 0, "{pool}: {wait:?}");
    }
}

on_both_backends!(scraped_after_requests => scraped_on_sqlite, scraped_on_postgres);

#[tokio::test]
async fn off_answers_404() {
    let s = TestServer::start_with(Db::Sqlite, &[("ACCUEIL_METRICS", "off")])
        .await
        .unwrap();
    let res = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn token_mode_wants_the_token() {
    const TOKEN: &str = "scrape-Q8zR1xV3mN7bT2yL5kJ9wC4hF6dS0aE";
    let s = TestServer::start_with(
        Db::Sqlite,
        &[
            ("ACCUEIL_METRICS", "token"),
            ("ACCUEIL_METRICS_TOKEN", TOKEN),
        ],
    )
    .await
    .unwrap();
    let url = s.url("/metrics");
    let res = s.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let res = s
        .client
        .get(&url)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = s
        .client
        .get(&url)
        .bearer_auth(&TOKEN[..TOKEN.len() - 1])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "a prefix is not the token"
    );
    let res = s.client.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let parsed = parse_prometheus(&text).unwrap();
    assert!(parsed.families.contains_key("accueil_http_requests_total"));
    s.stop().await;
}

#[tokio::test]
async fn realtime_connections_messages_and_the_event_bus_are_measured() {
    use crate::realtime::Ws;
    let s = TestServer::start().await;
    let (ann, bob) = common::paired(&s, "ann@example.org", "bob@example.org").await;
    let (mut a, _) = Ws::open(&s, &ann).await;
    a.subscribe(&["couple"]).await;
    let pending = Ws::connect(&s, "").await;
    common::call(
        &s,
        Method::POST,
        "/api/v1/qna/questions",
        &bob,
        Some(json!({"text": "Tea or coffee?", "theme": "travel"})),
    )
    .await;
    a.expect("notification").await;
    let e = scrape(&s).await;
    let value = |family: &str, labels: &[(&str, &str)]| {
        number(&sample(&e, family, labels).unwrap_or_else(|| panic!("{family} {labels:?}")))
    };
    assert_eq!(
        value("accueil_ws_connections", &[]),
        2.0,
        "open, authenticated or not"
    );
    assert_eq!(
        value(
            "accueil_ws_messages_received_total",
            &[("type", "subscribe")]
        ),
        1.0
    );
    for kind in ["connection", "subscribed", "notification"] {
        assert_eq!(
            value("accueil_ws_messages_sent_total", &[("type", kind)]),
            1.0,
            "{kind}"
        );
    }
    assert!(
        value("accueil_events_published_total", &[]) >= 4.0,
        "pairing and the question"
    );
    assert_eq!(
        value("accueil_events_received_total", &[]),
        value("accueil_events_published_total", &[]),
        "one instance: every event published is delivered"
    );
    assert_eq!(value("accueil_events_dropped_total", &[]), 0.0);
    assert_eq!(value("accueil_events_resyncs_total", &[]), 0.0);
    assert_eq!(
        value("accueil_events_subscribers", &[]),
        1.0,
        "the realtime hub"
    );
    assert_eq!(value("accueil_ws_signals_dropped_total", &[]), 0.0);
    pending.close().await;
    a.close().await;
}
