//! Rate limits: the generic cell rate algorithm (GCRA), as a pure function of the time.
//!
//! A rate of `count` per `period` lets a burst of `count` requests through, then one every
//! `period / count`. The whole state of a key is one instant (its "theoretical arrival time"),
//! so a limiter is a map from keys to instants, and every rule is tested without sleeping.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

/// At most `count` requests per `period` (with a burst of `count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period.
    pub count: u32,
    /// The period.
    pub period: Duration,
}

impl Rate {
    /// A rate; `None` when `count` is 0 or the period is not positive.
    pub fn new(count: u32, period: Duration) -> Option<Self> {
        (count > 0 && period > Duration::zero()).then_some(Self { count, period })
    }

    fn interval(self) -> Duration {
        self.period / i32::try_from(self.count).unwrap_or(i32::MAX)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.count, self.period.num_seconds())
    }
}

/// Judges one request at `now` for a key whose state is `tat` (`None`: never seen).
///
/// # Errors
/// How long to wait before the next request would pass, when this one is over the rate. A
/// refused request does not change the state.
pub fn gcra(
    tat: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    rate: Rate,
) -> Result<DateTime<Utc>, Duration> {
    let interval = rate.interval();
    let tolerance = rate.period - interval;
    let tat = tat.map_or(now, |t| t.max(now));
    let wait = tat - now - tolerance;
    if wait > Duration::zero() {
        Err(wait)
    } else {
        Ok(tat + interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::milliseconds(ms)
    }

    #[test]
    fn a_burst_passes_then_one_per_interval() {
        let rate = Rate::new(3, Duration::seconds(60)).unwrap();
        let mut tat = None;
        for _ in 0..3 {
            tat = Some(gcra(tat, t(0), rate).unwrap());
        }
        let wait = gcra(tat, t(0), rate).unwrap_err();
        assert_eq!(
            wait,
            Duration::seconds(20),
            "the next slot is one interval away"
        );
        assert!(gcra(tat, t(19_999), rate).is_err());
        let tat = Some(gcra(tat, t(20_000), rate).unwrap());
        assert!(
            gcra(tat, t(20_000), rate).is_err(),
            "one slot, not a new burst"
        );
    }

    #[test]
    fn a_quiet_key_gets_its_whole_burst_back() {
        let rate = Rate::new(2, Duration::seconds(10)).unwrap();
        let mut tat = None;
        for _ in 0..2 {
            tat = Some(gcra(tat, t(0), rate).unwrap());
        }
        assert!(gcra(tat, t(0), rate).is_err());
        let later = t(10_000);
        let tat = Some(gcra(tat, later, rate).unwrap());
        assert!(gcra(tat, later, rate).is_ok());
    }

    #[test]
    fn refusals_do_not_push_the_window() {
        let rate = Rate::new(1, Duration::seconds(10)).unwrap();
        let tat = Some(gcra(None, t(0), rate).unwrap());
        for ms in [1, 2, 3, 5_000] {
            assert!(gcra(tat, t(ms), rate).is_err());
        }
        assert!(
            gcra(tat, t(10_000), rate).is_ok(),
            "hammering does not extend the wait"
        );
    }

    #[test]
    fn degenerate_rates_are_refused() {
        assert!(Rate::new(0, Duration::seconds(1)).is_none());
        assert!(Rate::new(1, Duration::zero()).is_none());
    }
}
