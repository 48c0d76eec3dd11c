//! What the pools do, for the metrics scrape: their sizes now (r2d2's `state()`), and how long
//! units of work waited for a connection.
//!
//! The waits are counted here in a fixed-bucket histogram of atomics rather than through a
//! metrics library, so this adapter depends on none: the server reads a [`PoolStats`] snapshot
//! when `/metrics` is scraped and renders it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the wait histogram's buckets, in seconds (`+Inf` is implied).
pub const WAIT_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Waits of one pool, recorded as they happen.
#[derive(Debug, Default)]
pub(crate) struct WaitTimes {
    /// Per bucket (not cumulative); the last one counts what exceeds every bound.
    buckets: [AtomicU64; WAIT_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl WaitTimes {
    pub(crate) fn record(&self, wait: Duration) {
        let secs = wait.as_secs_f64();
        let i = WAIT_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(WAIT_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> WaitHistogram {
        let mut total = 0;
        let cumulative = self.buckets[..WAIT_BUCKETS.len()]
            .iter()
            .map(|b| {
                total += b.load(Ordering::Relaxed);
                total
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let sum_seconds = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        WaitHistogram {
            cumulative,
            count: self.count.load(Ordering::Relaxed),
            sum_seconds,
        }
    }
}

/// How long units of work waited for a connection (the SQLite writer's queue included).
#[derive(Debug, Clone, PartialEq)]
pub struct WaitHistogram {
    /// Waits at most each bound of [`WAIT_BUCKETS`], cumulative.
    pub cumulative: Vec<u64>,
    /// Every wait (the `+Inf` bucket).
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_seconds: f64,
}

/// One pool now.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolState {
    /// `main` (PostgreSQL), `read` or `write` (SQLite).
    pub name: &'static str,
    /// Its maximum size.
    pub max: u32,
    /// Connections open.
    pub connections: u32,
    /// Of which idle; the others are in use.
    pub idle: u32,
    /// Waits for a connection since start.
    pub wait: WaitHistogram,
}

/// Every pool of the store.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolStats {
    /// One per pool.
    pub pools: Vec<PoolState>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_fall_in_cumulative_buckets() {
        let w = WaitTimes::default();
        w.record(Duration::from_micros(100));
        w.record(Duration::from_millis(3));
        w.record(Duration::from_secs(60));
        let s = w.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(s.cumulative[0], 1, "0.1 ms <= 0.5 ms");
        assert_eq!(s.cumulative[2], 1, "3 ms > 2.5 ms");
        assert_eq!(s.cumulative[3], 2, "3 ms <= 5 ms");
        assert_eq!(*s.cumulative.last().unwrap(), 2, "60 s only in +Inf");
        assert!((s.sum_seconds - 60.0031).abs() < 1e-6);
    }
}
