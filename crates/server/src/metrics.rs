//! The metrics only the server can see: the database pools and the event bus, read from
//! their adapters at scrape time and rendered as Prometheus families (the adapters depend on no
//! metrics library).

use std::collections::HashMap;
use std::sync::Arc;

use accueil_ports::events::{BusStats, EventBus};

use accueil_store_diesel::{DieselStore, PoolStats, WAIT_BUCKETS};
use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, MetricFamily, MetricType};

const MAX: &str = "accueil_db_pool_max_connections";
const CONNECTIONS: &str = "accueil_db_pool_connections";
const WAIT: &str = "accueil_db_pool_wait_seconds";

/// Reads [`DieselStore::pool_stats`] on every scrape.
pub struct PoolCollector {
    store: DieselStore,
    descs: Vec<Desc>,
}

impl PoolCollector {
    /// A collector over this store's pools.
    ///
    /// # Errors
    /// The library's error for an invalid descriptor (a programming error).
    pub fn new(store: DieselStore) -> Result<Self, prometheus::Error> {
        let desc = |name: &str, help: &str, labels: &[&str]| {
            Desc::new(
                name.to_owned(),
                help.to_owned(),
                labels.iter().map(|l| (*l).to_owned()).collect(),
                HashMap::new(),
            )
        };
        Ok(Self {
            store,
            descs: vec![
                desc(MAX, "Largest size of each database pool", &["pool"])?,
                desc(
                    CONNECTIONS,
                    "Open database connections by pool and state (idle or in_use)",
                    &["pool", "state"],
                )?,
                desc(
                    WAIT,
                    "Time a unit of work waited for a database connection (the SQLite writer's queue included)",
                    &["pool"],
                )?,
            ],
        })
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<proto::LabelPair> {
    pairs
        .iter()
        .map(|(k, v)| {
            let mut l = proto::LabelPair::default();
            l.set_name((*k).to_owned());
            l.set_value((*v).to_owned());
            l
        })
        .collect()
}

fn gauge(pairs: &[(&str, &str)], value: u32) -> proto::Metric {
    let mut g = proto::Gauge::default();
    g.set_value(f64::from(value));
    let mut m = proto::Metric::from_gauge(g);
    m.set_label(labels(pairs));
    m
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<proto::Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_owned());
    f.set_help(help.to_owned());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}

/// The families of one snapshot.
pub(crate) fn families(stats: &PoolStats, descs: &[Desc]) -> Vec<MetricFamily> {
    let help = |i: usize| descs.get(i).map(|d| d.help.clone()).unwrap_or_default();
    let (mut max, mut connections, mut wait) = (Vec::new(), Vec::new(), Vec::new());
    for p in &stats.pools {
        max.push(gauge(&[("pool", p.name)], p.max));
        connections.push(gauge(&[("pool", p.name), ("state", "idle")], p.idle));
        connections.push(gauge(
            &[("pool", p.name), ("state", "in_use")],
            p.connections.saturating_sub(p.idle),
        ));
        let mut h = proto::Histogram::default();
        h.set_sample_count(p.wait.count);
        h.set_sample_sum(p.wait.sum_seconds);
        h.set_bucket(
            WAIT_BUCKETS
                .iter()
                .zip(&p.wait.cumulative)
                .map(|(bound, n)| {
                    let mut b = proto::Bucket::default();
                    b.set_upper_bound(*bound);
                    b.set_cumulative_count(*n);
                    b
                })
                .collect(),
        );
        let mut m = proto::Metric::default();
        m.set_histogram(h);
        m.set_label(labels(&[("pool", p.name)]));
        wait.push(m);
    }
    vec![
        family(MAX, &help(0), MetricType::GAUGE, max),
        family(CONNECTIONS, &help(1), MetricType::GAUGE, connections),
        family(WAIT, &help(2), MetricType::HISTOGRAM, wait),
    ]
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        families(&self.store.pool_stats(), &self.descs)
    }
}

const PUBLISHED: &str = "accueil_events_published_total";
const RECEIVED: &str = "accueil_events_received_total";
const DROPPED: &str = "accueil_events_dropped_total";
const RESYNCS: &str = "accueil_events_resyncs_total";
const SUBSCRIBERS: &str = "accueil_events_subscribers";

/// Reads [`EventBus::stats`] on every scrape.
pub struct BusCollector {
    bus: Arc<dyn EventBus>,
    descs: Vec<Desc>,
}

impl BusCollector {
    /// A collector over this bus.
    ///
    /// # Errors
    /// The library's error for an invalid descriptor (a programming error).
    pub fn new(bus: Arc<dyn EventBus>) -> Result<Self, prometheus::Error> {
        let desc = |name: &str, help: &str| {
            Desc::new(name.to_owned(), help.to_owned(), Vec::new(), HashMap::new())
        };
        Ok(Self {
            bus,
            descs: vec![
                desc(
                    PUBLISHED,
                    "Events committed units of work handed to the bus on this instance",
                )?,
                desc(
                    RECEIVED,
                    "Events the bus delivered to this instance's subscribers (from any instance)",
                )?,
                desc(
                    DROPPED,
                    "Events lost: not passed on by a publisher, or skipped by a subscriber that fell behind",
                )?,
                desc(
                    RESYNCS,
                    "Resynchronisations told to subscribers (one fell behind, or the bus lost events)",
                )?,
                desc(SUBSCRIBERS, "Subscriptions to the bus open now")?,
            ],
        })
    }
}

fn bus_families(stats: BusStats, descs: &[Desc]) -> Vec<MetricFamily> {
    let help = |i: usize| descs.get(i).map(|d| d.help.clone()).unwrap_or_default();
    let counter = |value: u64| {
        let mut c = proto::Counter::default();
        c.set_value(value as f64);
        let mut m = proto::Metric::default();
        m.set_counter(c);
        m
    };
    let mut g = proto::Gauge::default();
    g.set_value(stats.subscribers as f64);
    vec![
        family(
            PUBLISHED,
            &help(0),
            MetricType::COUNTER,
            vec![counter(stats.published)],
        ),
        family(
            RECEIVED,
            &help(1),
            MetricType::COUNTER,
            vec![counter(stats.received)],
        ),
        family(
            DROPPED,
            &help(2),
            MetricType::COUNTER,
            vec![counter(stats.dropped)],
        ),
        family(
            RESYNCS,
            &help(3),
            MetricType::COUNTER,
            vec![counter(stats.resyncs)],
        ),
        family(
            SUBSCRIBERS,
            &help(4),
            MetricType::GAUGE,
            vec![proto::Metric::from_gauge(g)],
        ),
    ]
}

impl Collector for BusCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        bus_families(self.bus.stats(), &self.descs)
    }
}

#[cfg(test)]
mod tests {
    use accueil_store_diesel::{PoolState, WaitHistogram};
    use prometheus::Encoder;

    use super::*;

    #[test]
    fn a_snapshot_renders_as_gauges_and_a_histogram() {
        let stats = PoolStats {
            pools: vec![PoolState {
                name: "main",
                max: 8,
                connections: 3,
                idle: 1,
                wait: WaitHistogram {
                    cumulative: vec![2; WAIT_BUCKETS.len()],
                    count: 3,
                    sum_seconds: 12.5,
                },
            }],
        };
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&families(&stats, &[]), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in [
            "accueil_db_pool_max_connections{pool=\"main\"} 8",
            "accueil_db_pool_connections{pool=\"main\",state=\"in_use\"} 2",
            "accueil_db_pool_connections{pool=\"main\",state=\"idle\"} 1",
            "accueil_db_pool_wait_seconds_bucket{pool=\"main\",le=\"10\"} 2",
            "accueil_db_pool_wait_seconds_bucket{pool=\"main\",le=\"+Inf\"} 3",
            "accueil_db_pool_wait_seconds_sum{pool=\"main\"} 12.5",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

    #[test]
    fn the_bus_counters_render_as_counters_and_a_gauge() {
        let stats = BusStats {
            published: 5,
            received: 9,
            dropped: 2,
            resyncs: 1,
            subscribers: 3,
        };
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&bus_families(stats, &[]), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in [
            "# TYPE accueil_events_published_total counter",
            "accueil_events_published_total 5",
            "accueil_events_received_total 9",
            "accueil_events_dropped_total 2",
            "accueil_events_resyncs_total 1",
            "# TYPE accueil_events_subscribers gauge",
            "accueil_events_subscribers 3",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }
}
