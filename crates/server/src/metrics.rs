//! The metrics only the server can see: the database pools and the event bus, read from the
//! adapters at scrape time and rendered as Prometheus families (the adapters themselves depend
//! on no metrics library), and the jobs runner's counters, fed by its loop.

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

/// Job run buckets, in seconds: from an idle mail sweep to a long purge.
const RUN_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0,
];

/// What this instance's jobs runner did, by job name: runs by outcome, their durations, and
/// when its last round finished.
#[derive(Clone)]
pub struct JobsMetrics {
    runs: prometheus::IntCounterVec,
    duration: prometheus::HistogramVec,
    last_round: prometheus::Gauge,
}

impl JobsMetrics {
    /// The instruments, registered on `registry`.
    ///
    /// # Errors
    /// The library's error for an invalid or duplicate instrument (a programming error).
    pub fn new(registry: &prometheus::Registry) -> Result<Self, prometheus::Error> {
        let runs = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "accueil_jobs_runs_total",
                "Job runs by this instance's runner, by job name and outcome (succeeded, failed, lost: the lease had been taken over)",
            ),
            &["job", "outcome"],
        )?;
        let duration = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new(
                "accueil_jobs_run_duration_seconds",
                "Time a job's handler took, by job name",
            )
            .buckets(RUN_BUCKETS.to_vec()),
            &["job"],
        )?;
        let last_round = prometheus::Gauge::new(
            "accueil_jobs_runner_last_round_timestamp_seconds",
            "Unix time of the runner's last finished round (absent while the runner is off)",
        )?;
        registry.register(Box::new(runs.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(last_round.clone()))?;
        Ok(Self {
            runs,
            duration,
            last_round,
        })
    }

    /// Makes every known job's series exist at zero, so a rate is defined before a first run.
    pub fn known(&self, names: &[String]) {
        for name in names {
            for outcome in ["succeeded", "failed", "lost"] {
                self.runs.with_label_values(&[name.as_str(), outcome]);
            }
        }
    }

    /// A round (or a look at the next due time) finished at `at`.
    pub fn round(&self, at: chrono::DateTime<chrono::Utc>) {
        #[allow(clippy::cast_precision_loss)] // seconds since 1970 fit f64 exactly for ages
        self.last_round.set(at.timestamp_millis() as f64 / 1000.0);
    }

    /// The runs of a round that finished at `at`.
    pub fn observe(
        &self,
        report: &accueil_app::jobs::RunReport,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        for run in &report.runs {
            let outcome = match (run.recorded, run.outcome) {
                (false, _) => "lost",
                (true, accueil_domain::jobs::Outcome::Succeeded) => "succeeded",
                (true, accueil_domain::jobs::Outcome::Failed) => "failed",
            };
            let name = run.name.as_str();
            self.runs.with_label_values(&[name, outcome]).inc();
            #[allow(clippy::cast_precision_loss)]
            let seconds = run.took.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
            self.duration.with_label_values(&[name]).observe(seconds);
        }
        self.round(at);
    }
}

/// The event bus's counters, one family each: `(name, help, counter?)`.
const EVENTS: [(&str, &str, bool); 6] = [
    (
        "accueil_events_published_total",
        "Events committed on this instance and handed to the event bus",
        true,
    ),
    (
        "accueil_events_received_total",
        "Events delivered to this instance's realtime subscribers, from any instance",
        true,
    ),
    (
        "accueil_events_dropped_total",
        "Events lost: not passed on to the other instances (queue full, PostgreSQL unreachable) or not read by a subscriber that fell behind",
        true,
    ),
    (
        "accueil_events_resyncs_total",
        "Resynchronisations told to subscribers (a lagging subscriber, a gap in another instance's numbering, a listener reconnection)",
        true,
    ),
    (
        "accueil_events_subscribers",
        "Event subscriptions open now",
        false,
    ),
    (
        "accueil_events_bus_up",
        "1 when this instance hears every instance's events (the PostgreSQL listener listens), else 0",
        false,
    ),
];

/// Reads [`EventBus::stats`] and [`EventBus::health`] on every scrape.
pub struct EventsCollector {
    bus: Arc<dyn EventBus>,
    descs: Vec<Desc>,
}

impl EventsCollector {
    /// A collector over this bus.
    ///
    /// # Errors
    /// The library's error for an invalid descriptor (a programming error).
    pub fn new(bus: Arc<dyn EventBus>) -> Result<Self, prometheus::Error> {
        let descs = EVENTS
            .iter()
            .map(|(name, help, _)| {
                Desc::new(
                    (*name).to_owned(),
                    (*help).to_owned(),
                    vec![],
                    HashMap::new(),
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { bus, descs })
    }
}

/// The families of one reading of the bus.
pub(crate) fn event_families(stats: &BusStats, up: bool) -> Vec<MetricFamily> {
    let values = [
        stats.published,
        stats.received,
        stats.dropped,
        stats.resyncs,
        stats.subscribers,
        u64::from(up),
    ];
    EVENTS
        .iter()
        .zip(values)
        .map(|((name, help, counter), value)| {
            // Counts far below 2^53: exact as f64.
            let value = value as f64;
            let metric = if *counter {
                let mut c = proto::Counter::default();
                c.set_value(value);
                let mut m = proto::Metric::default();
                m.set_counter(c);
                m
            } else {
                let mut g = proto::Gauge::default();
                g.set_value(value);
                proto::Metric::from_gauge(g)
            };
            let kind = if *counter {
                MetricType::COUNTER
            } else {
                MetricType::GAUGE
            };
            family(name, help, kind, vec![metric])
        })
        .collect()
}

impl Collector for EventsCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        event_families(&self.bus.stats(), self.bus.health().is_ok())
    }
}

#[cfg(test)]
mod tests {
    use accueil_store_diesel::{PoolState, WaitHistogram};
    use prometheus::Encoder;

    use super::*;

    #[test]
    fn job_runs_are_counted_by_name_and_outcome() {
        use accueil_app::jobs::{RunReport, RunSummary};
        use accueil_domain::jobs::{JobName, Outcome};
        let registry = prometheus::Registry::new();
        let m = JobsMetrics::new(&registry).unwrap();
        m.known(&["purge-deleted".to_owned()]);
        let run = |name: &str, outcome, recorded, ms| RunSummary {
            name: JobName::parse(name).unwrap(),
            outcome,
            recorded,
            took: chrono::Duration::milliseconds(ms),
        };
        let report = RunReport {
            runs: vec![
                run("mail-delivery", Outcome::Succeeded, true, 20),
                run("mail-delivery", Outcome::Failed, true, 30),
                run("mail-delivery", Outcome::Succeeded, false, 40),
            ],
            ..RunReport::default()
        };
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 500_000_000).unwrap();
        m.observe(&report, at);
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&registry.gather(), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in [
            "accueil_jobs_runs_total{job=\"mail-delivery\",outcome=\"succeeded\"} 1",
            "accueil_jobs_runs_total{job=\"mail-delivery\",outcome=\"failed\"} 1",
            "accueil_jobs_runs_total{job=\"mail-delivery\",outcome=\"lost\"} 1",
            "accueil_jobs_runs_total{job=\"purge-deleted\",outcome=\"succeeded\"} 0",
            "accueil_jobs_run_duration_seconds_count{job=\"mail-delivery\"} 3",
            "accueil_jobs_run_duration_seconds_bucket{job=\"mail-delivery\",le=\"0.025\"} 1",
            "accueil_jobs_runner_last_round_timestamp_seconds 1800000000.5",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

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
    fn the_bus_renders_as_counters_and_gauges() {
        let stats = BusStats {
            published: 7,
            received: 9,
            dropped: 2,
            resyncs: 1,
            subscribers: 3,
        };
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&event_families(&stats, false), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in [
            "# TYPE accueil_events_published_total counter",
            "accueil_events_published_total 7",
            "accueil_events_received_total 9",
            "accueil_events_dropped_total 2",
            "accueil_events_resyncs_total 1",
            "# TYPE accueil_events_subscribers gauge",
            "accueil_events_subscribers 3",
            "accueil_events_bus_up 0",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }
}
