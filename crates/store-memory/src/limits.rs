//! Rate limiting in this process's memory.
//!
//! Each instance counts on its own: behind a load balancer with N instances a client gets up
//! to N times the rate. That bounds guessing and mail floods well enough for the limits here;
//! a shared limiter (in the database or Redis) can implement the same port.

use std::collections::HashMap;
use std::sync::Mutex;

use accueil_domain::limits::{Rate, gcra};
use accueil_ports::system::RateLimiter;
use chrono::{DateTime, Duration, Utc};

/// Keys kept before idle ones are swept.
const SWEEP_AT: usize = 100_000;

/// The in-memory limiter.
#[derive(Debug, Default)]
pub struct MemoryRateLimiter {
    state: Mutex<HashMap<(String, String), DateTime<Utc>>>,
}

impl MemoryRateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }
}

impl RateLimiter for MemoryRateLimiter {
    fn hit(&self, bucket: &str, key: &str, rate: Rate, now: DateTime<Utc>) -> Result<(), Duration> {
        // A poisoned lock only means another request panicked mid-update; the map is still a
        // valid map of instants.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.len() >= SWEEP_AT {
            // A key whose instant is past has its whole burst back: forgetting it changes nothing.
            state.retain(|_, tat| *tat > now);
        }
        let slot = (bucket.to_owned(), key.to_owned());
        let tat = gcra(state.get(&slot).copied(), now, rate)?;
        state.insert(slot, tat);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_and_buckets_are_counted_apart() {
        let l = MemoryRateLimiter::new();
        let rate = Rate::new(1, Duration::seconds(60)).unwrap();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert!(l.hit("login:ip", "1.2.3.4", rate, now).is_ok());
        assert_eq!(
            l.hit("login:ip", "1.2.3.4", rate, now),
            Err(Duration::seconds(60))
        );
        assert!(l.hit("login:ip", "5.6.7.8", rate, now).is_ok());
        assert!(l.hit("login:account", "1.2.3.4", rate, now).is_ok());
        assert!(
            l.hit("login:ip", "1.2.3.4", rate, now + Duration::seconds(60))
                .is_ok()
        );
    }
}
