//! The in-process bus: one bounded broadcast ring shared by every subscriber.
//!
//! Each subscriber reads the ring at its own pace; one that falls more than the ring's
//! capacity behind loses the oldest events it had not read and is told to resynchronise
//! (`tokio::sync::broadcast`'s lag), so a slow connection never holds back a publisher or the
//! other subscribers, and never grows memory without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use accueil_domain::events::Event;
use accueil_ports::events::{BusStats, Delivery, EventBus, Subscription};
use async_trait::async_trait;
use tokio::sync::broadcast;

/// How many deliveries a subscriber may fall behind by default before it must resynchronise.
pub const DEFAULT_CAPACITY: usize = 1024;

#[derive(Debug, Default)]
struct Counters {
    published: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    resyncs: AtomicU64,
}

/// Fans events out within this process. Cheap to clone; clones share the ring.
#[derive(Debug, Clone)]
pub struct LocalBus {
    ring: broadcast::Sender<Delivery>,
    counters: Arc<Counters>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl LocalBus {
    /// A bus whose subscribers may each fall `capacity` deliveries behind (at least 1).
    pub fn new(capacity: usize) -> Self {
        let (ring, _) = broadcast::channel(capacity.max(1));
        Self {
            ring,
            counters: Arc::new(Counters::default()),
        }
    }

    /// Hands `event` to every subscriber (events that came from another instance, or from
    /// this one through [`EventBus::publish`]).
    pub fn deliver(&self, event: Event) {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        // An error only means nobody is subscribed now.
        let _ = self.ring.send(Delivery::Event(event));
    }

    /// Tells every subscriber that events may have been missed (a shared bus lost its
    /// connection, for instance).
    pub fn resync_all(&self) {
        if self.ring.send(Delivery::Resync).is_ok() {
            self.counters.resyncs.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts events that a shared bus published on behalf of this instance.
    pub fn count_published(&self, n: u64) {
        self.counters.published.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts events a shared bus could not pass on.
    pub fn count_dropped(&self, n: u64) {
        self.counters.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters, for a shared bus's own [`EventBus::stats`].
    pub fn local_stats(&self) -> BusStats {
        BusStats {
            published: self.counters.published.load(Ordering::Relaxed),
            received: self.counters.received.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            resyncs: self.counters.resyncs.load(Ordering::Relaxed),
            subscribers: self.ring.receiver_count() as u64,
        }
    }

    /// A subscription with its concrete type.
    pub fn subscription(&self) -> LocalSubscription {
        LocalSubscription {
            ring: self.ring.subscribe(),
            counters: self.counters.clone(),
        }
    }
}

impl EventBus for LocalBus {
    fn publish(&self, events: Vec<Event>) {
        self.count_published(events.len() as u64);
        for event in events {
            self.deliver(event);
        }
    }

    fn subscribe(&self) -> Box<dyn Subscription> {
        Box::new(self.subscription())
    }

    fn health(&self) -> Result<(), String> {
        Ok(())
    }

    fn stats(&self) -> BusStats {
        self.local_stats()
    }
}

/// One subscriber's place in the ring.
#[derive(Debug)]
pub struct LocalSubscription {
    ring: broadcast::Receiver<Delivery>,
    counters: Arc<Counters>,
}

#[async_trait]
impl Subscription for LocalSubscription {
    async fn next(&mut self) -> Option<Delivery> {
        match self.ring.recv().await {
            Ok(delivery) => Some(delivery),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                self.counters.dropped.fetch_add(missed, Ordering::Relaxed);
                self.counters.resyncs.fetch_add(1, Ordering::Relaxed);
                Some(Delivery::Resync)
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use accueil_domain::couples::CoupleId;
    use uuid::Uuid;

    use super::*;

    fn changed(cursor: i64) -> Event {
        Event::CoupleChanged {
            couple: CoupleId(Uuid::from_u128(1)),
            cursor,
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order() {
        let bus = LocalBus::new(8);
        let (mut a, mut b) = (bus.subscribe(), bus.subscribe());
        bus.publish(vec![changed(1), changed(2)]);
        for s in [&mut a, &mut b] {
            assert_eq!(s.next().await, Some(Delivery::Event(changed(1))));
            assert_eq!(s.next().await, Some(Delivery::Event(changed(2))));
        }
        let stats = bus.stats();
        assert_eq!((stats.published, stats.received), (2, 2));
        assert_eq!(stats.subscribers, 2);
    }

    #[tokio::test]
    async fn a_slow_subscriber_loses_its_oldest_events_then_resyncs_and_others_are_unaffected() {
        let bus = LocalBus::new(4);
        let mut slow = bus.subscribe();
        let mut quick = bus.subscribe();
        for n in 1..=3 {
            bus.publish(vec![changed(n)]);
            assert_eq!(quick.next().await, Some(Delivery::Event(changed(n))));
        }
        for n in 4..=10 {
            bus.publish(vec![changed(n)]);
            assert_eq!(quick.next().await, Some(Delivery::Event(changed(n))));
        }
        assert_eq!(slow.next().await, Some(Delivery::Resync));
        // What is left is the newest `capacity` events, in order.
        for n in 7..=10 {
            assert_eq!(slow.next().await, Some(Delivery::Event(changed(n))));
        }
        let stats = bus.stats();
        assert_eq!(stats.dropped, 6, "events 1..=6 never reached the slow one");
        assert_eq!(stats.resyncs, 1);
    }

    #[tokio::test]
    async fn resync_all_reaches_every_subscriber_and_nobody_listening_is_fine() {
        let bus = LocalBus::new(4);
        bus.publish(vec![changed(1)]);
        bus.resync_all();
        let mut s = bus.subscribe();
        bus.resync_all();
        assert_eq!(s.next().await, Some(Delivery::Resync));
        drop(bus);
        assert_eq!(s.next().await, None, "the bus is gone");
    }
}
